/**
 * The cloud's calls about a cluster's servers (#domain/provider-events): checked against the
 * cluster's callback secret before anything is read, then recorded as a note on the cluster's
 * timeline. The workflow's polling stays what moves the cluster: the note says what the cloud
 * said and when, and the next round's listing reads the same state.
 */
import type { ClusterStore } from '#domain/cluster-store';
import { MalformedJson, PayloadTooLarge, Unauthorized } from '#domain/errors';
import { PROVIDER_EVENTS_SECRET, providerEventsSecretMatches, readProviderEvent } from '#domain/provider-events';

/** The most of an event the route reads: the cloud's events are small. */
export const MAX_EVENT_BYTES = 16 * 1024;

/** The event's JSON object, read only once the caller proved itself. */
const parseEvent = (body: string | null): Record<string, unknown> => {
  const text = body ?? '';
  if (Buffer.byteLength(text) > MAX_EVENT_BYTES) throw new PayloadTooLarge(`the event is larger than ${MAX_EVENT_BYTES} bytes`, [{ path: '(body)', message: `must not be larger than ${MAX_EVENT_BYTES} bytes` }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MalformedJson('the event is not valid JSON', [{ path: '(body)', message: 'is not valid JSON' }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MalformedJson('the event must be a JSON object', [{ path: '(body)', message: 'must be a JSON object' }]);
  return parsed as Record<string, unknown>;
};

export interface ProviderEventDeps {
  clusters: ClusterStore;
  /** The key the callback secrets are made with (the node-report key). */
  nodeReportKey: () => Promise<string>;
}

export type ProviderEventAnswer = { recorded: true; server: string } | { recorded: false; reason: string };

const refused = () => new Unauthorized('a provider event needs its cluster’s callback URL');

export const receiveProviderEvent = async (
  deps: ProviderEventDeps,
  clusterId: string | undefined,
  secret: string | undefined,
  body: string | null,
): Promise<ProviderEventAnswer> => {
  if (!clusterId || !secret || !PROVIDER_EVENTS_SECRET.test(secret)) throw refused();
  if (!providerEventsSecretMatches(await deps.nodeReportKey(), clusterId, secret)) throw refused();
  const event = parseEvent(body);
  const cluster = await deps.clusters.getCluster(clusterId);
  // Secret right, record gone: the cluster was deleted since; the cloud is told all is well.
  if (!cluster) return { recorded: false, reason: 'the cluster is gone' };
  const change = readProviderEvent(event);
  const server = cluster.servers.find((candidate) => candidate.id !== null && candidate.id === change.serverId);
  // A server made but not recorded yet (its batch's step still running) is named as the cloud names it.
  const subject = server?.name ?? (change.name ?? change.serverId ? `VM ${change.name ?? change.serverId}` : undefined);
  if (!subject) return { recorded: false, reason: 'the event names no server' };
  const said = [change.operation, change.status].filter(Boolean).join(' ') || 'a change';
  await deps.clusters.addTimelineNote({ clusterId, status: cluster.status, phase: cluster.phase }, `${cluster.spec.provider} reports ${said} of ${subject}`);
  return { recorded: true, server: subject };
};
