/**
 * Tells the world of a status change: a `Cluster Status Changed` event on the service's bus,
 * and a signed POST to the cluster's `callbackUrl` with retries. A webhook that cannot be
 * delivered is noted on the timeline and never holds anything up; an event the bus refuses is
 * an error, so the change is offered again.
 */
import type { EventPublisher } from '#domain/event-bus';
import { DETAIL_TYPES } from '#domain/events';
import type { StatusChange } from '#domain/model';
import type { ClusterStore } from '#domain/cluster-store';
import type { WebhookSecretStore } from '#domain/webhook-secret-store';
import { SIGNATURE_HEADER, signature, type WebhookSender } from '#domain/webhooks';
import { logger } from '#lib/logger';

export interface PublishDeps {
  /** Where a webhook's outcome is noted: the cluster's timeline. */
  clusters: ClusterStore;
  webhookSecrets: WebhookSecretStore;
  events: EventPublisher;
  webhooks: WebhookSender;
  /** Pauses between webhook attempts (their count is this + 1). */
  retryDelaysMs?: number[];
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [500, 2_000, 8_000];

const statusChangeDetail = (change: StatusChange) => ({
  id: change.clusterId,
  project: change.project,
  status: change.status,
  phase: change.phase,
  error: change.error,
  at: change.at,
  message: change.message,
});

export const publishStatusChange = async (deps: PublishDeps, change: StatusChange): Promise<void> => {
  const detail = statusChangeDetail(change);
  await deps.events.publish([{ detailType: DETAIL_TYPES.statusChanged, detail }]);
  if (!change.callbackUrl) return;

  const body = JSON.stringify(detail);
  const headers = { [SIGNATURE_HEADER]: signature(await deps.webhookSecrets.secretOf(change.project), body) };
  const delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let last = { delivered: false, error: 'not tried' } as Awaited<ReturnType<WebhookSender['send']>>;
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await sleep(delays[attempt - 1] ?? 0);
    last = await deps.webhooks.send(change.callbackUrl, body, headers);
    if (last.delivered) {
      await deps.clusters.addTimelineNote(change, `webhook for ${change.status}/${change.phase} delivered (${last.status ?? 'ok'}) after ${attempt + 1} attempt(s)`);
      return;
    }
    // A refused address will be refused again: retrying would only delay the note.
    if (last.error?.includes('internal address')) break;
  }
  logger.warn('webhook not delivered', { clusterId: change.clusterId, error: last.error, status: last.status });
  await deps.clusters.addTimelineNote(change, `webhook for ${change.status}/${change.phase} not delivered: ${last.error ?? `answered ${last.status}`}`);
};
