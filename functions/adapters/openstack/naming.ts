/**
 * How the provider marks and names what it makes. Nova and Neutron tags are plain strings (at most
 * 60 characters in Nova, no `,` or `/`), so a key-value pair is written `key=value`; a value that
 * does not fit is replaced by its hash, which is as good for finding things by tag.
 */
import { createHash } from 'node:crypto';

const MAX_TAG_LENGTH = 60;
const TAG_FORBIDDEN = /[,/]/;

export const tag = (key: string, value: string): string => {
  const plain = `${key}=${value}`;
  if (plain.length <= MAX_TAG_LENGTH && !TAG_FORBIDDEN.test(plain)) return plain;
  const room = MAX_TAG_LENGTH - key.length - 2;
  return `${key}=#${createHash('sha256').update(value).digest('base64url').slice(0, room)}`;
};

/** On everything the provider makes: look-ups and deletion go by it. */
export const clusterTag = (clusterId: string): string => tag('cluster-service:cluster', clusterId);
/** Which deployment made it. */
export const managedByTag = (serviceTag: string): string => tag('managed-by', serviceTag);
/** A server's own name, so a retried create recognises it. */
export const nameTag = (name: string): string => tag('cluster-service:name', name);
/** The create call that made a server: a retry adopts only what its own call made. */
export const tokenTag = (clientToken: string): string => tag('cluster-service:token', clientToken);
export const roleTag = (role: string): string => tag('cluster-service:role', role);

/** Metadata keys on servers (key-value, readable from the node's metadata service). */
export const CLUSTER_ID_KEY = 'cluster-service:cluster-id';
export const ROLE_KEY = 'cluster-service:role';
export const MANAGED_BY_KEY = 'managed-by';

export const networkName = (clusterId: string, index: number): string => `${clusterId}-net-${index}`;
export const subnetName = (clusterId: string, index: number): string => `${clusterId}-subnet-${index}`;
export const routerName = (clusterId: string): string => `${clusterId}-router`;
export const securityGroupName = (clusterId: string): string => `${clusterId}-nodes`;
