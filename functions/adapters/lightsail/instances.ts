/**
 * Lightsail instances in the port's terms: the names the adapter gives a cluster's servers and
 * static IPs, the tags that say an instance is the cluster's, states, and Lightsail's operations.
 */
import type { Instance, Operation, Tag } from '@aws-sdk/client-lightsail';
import type { ProviderOperation, ProviderServer } from '#domain/provider';

export const CLUSTER_TAG = 'cluster-id';
export const SERVICE_TAG_KEY = 'managed-by';

/** The Lightsail name of a cluster's server: Lightsail names are unique per region, so the cluster id leads. */
export const instanceName = (clusterId: string, serverName: string): string => `${clusterId}-${serverName}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 255);
export const staticIpName = (instance: string): string => `${instance}-ip`.slice(0, 255);

export const tagValue = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((tag) => tag.key === key)?.value;

const STATES: Record<string, ProviderServer['state']> = {
  pending: 'BUILD',
  starting: 'BUILD',
  running: 'ACTIVE',
  stopping: 'STOPPING',
  stopped: 'STOPPED',
  'shutting-down': 'DELETING',
  terminated: 'DELETED',
};

/** An instance in the port's terms: its id is its Lightsail name, its name the cluster's server name. */
export const toServer = (instance: Instance, clusterId: string): ProviderServer => {
  const state = STATES[instance.state?.name ?? ''] ?? 'ERROR';
  const name = instance.name ?? '';
  const prefix = instanceName(clusterId, '');
  return {
    id: name,
    name: name.startsWith(prefix) ? name.slice(prefix.length) : name,
    state,
    privateIp: instance.privateIpAddress ?? null,
    publicIp: instance.isStaticIp ? (instance.publicIpAddress ?? null) : null,
    // A boot that failed leaves the instance stopped: that is its fault while it is being made.
    ...(state === 'ERROR' || state === 'STOPPED' ? { fault: `instance is ${instance.state?.name ?? 'in an unknown state'}` } : {}),
  };
};

/** Lightsail's operations in the port's terms; `Failed` ones carry their error code and details. */
export const toOperations = (operations: readonly Operation[] | undefined): ProviderOperation[] =>
  (operations ?? []).map((operation) => ({
    id: operation.id ?? '',
    type: operation.operationType ?? 'Unknown',
    resource: operation.resourceName ?? '',
    status: operation.status ?? 'Unknown',
    ...(operation.errorCode || operation.errorDetails ? { error: [operation.errorCode, operation.errorDetails].filter(Boolean).join(': ') } : {}),
  }));
