/**
 * The cloud's own calls about a cluster's servers (docs/hyperstack-provider.md, "Callbacks"):
 * Infrahub posts a VM's state changes to the `callback_url` it was made with. Its calls carry no
 * signature, so the URL is the credential: `/v1/clusters/{id}/provider-events/{secret}`, where
 * the secret is an HMAC of the cluster id under the service's node-report key — another input than
 * the node secret's, so neither opens the other's route — and nothing is stored per cluster.
 *
 * What Infrahub's event object holds is not published field by field; the route reads the VM's
 * id, name, operation and status from the places such events put them, and keeps nothing else.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const secretInput = (clusterId: string) => `cluster-service provider events\u0000${clusterId}`;

/** The secret in a cluster's callback URL. */
export const providerEventsSecret = (key: string, clusterId: string): string => createHmac('sha256', key).update(secretInput(clusterId)).digest('base64url');

/** Whether `presented` is the cluster's callback secret, compared in constant time (over digests of equal length). */
export const providerEventsSecretMatches = (key: string, clusterId: string, presented: string): boolean => {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(providerEventsSecret(key, clusterId)), digest(presented));
};

/** A secret's form: what the route accepts before it asks whether it is the cluster's. */
export const PROVIDER_EVENTS_SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface ProviderEvent {
  /** The server's id at the provider, as the cluster records it. */
  serverId?: string;
  name?: string;
  operation?: string;
  status?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A short printable word of the event (ids, names, states), else undefined: nothing else reaches the timeline. */
const word = (value: unknown): string | undefined => {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === 'string' && /^[A-Za-z0-9 ._:/@+-]{1,64}$/.test(text) ? text : undefined;
};
const first = (...values: unknown[]): string | undefined => values.map(word).find((value) => value !== undefined);

/**
 * The VM and its change from the event: `resource` (`id`, `name`, `status`), `operation` (`name`,
 * `status`), or the same at the top level or under `data`.
 */
export const readProviderEvent = (event: Record<string, unknown>): ProviderEvent => {
  const resource = isRecord(event.resource) ? event.resource : {};
  const data = isRecord(event.data) ? event.data : {};
  const operation = isRecord(event.operation) ? event.operation : {};
  const found: ProviderEvent = {
    serverId: first(resource.id, event.resource_id, data.id, event.id),
    name: first(resource.name, data.name, event.name),
    operation: first(operation.name, typeof event.operation === 'string' ? event.operation : undefined, event.action, event.event),
    status: first(resource.status, data.status, operation.status, event.status),
  };
  return Object.fromEntries(Object.entries(found).filter(([, value]) => value !== undefined)) as ProviderEvent;
};
