/**
 * The event door into the create use case: a `Cluster Create Requested` event (detail = the
 * native body + `project`). A request that can never succeed (invalid, over quota) is rejected
 * once, with a `Cluster Create Rejected` event, and never retried; anything else propagates so
 * the queue redelivers it. The event id is the idempotency key, so a redelivery makes nothing twice.
 */
import { DomainError } from '#domain/errors';
import type { EventPublisher } from '#domain/event-bus';
import type { IdempotencyStore } from '#domain/idempotency-store';
import { DETAIL_TYPES, projectNameSchema, type EventBridgeEvent } from '#domain/events';
import { nativeCreateRequestSchema } from '#domain/native-request';
import { issuesToDetails } from '#domain/validation';
import { logger } from '#lib/logger';
import { createCluster, type CreateClusterDeps } from './create-cluster.ts';
import { runIdempotently } from './idempotency.ts';
import { prepareNativeSpec, type SpecDeps } from './prepare-spec.ts';

export interface TriggerDeps extends CreateClusterDeps, SpecDeps {
  idempotencyKeys: IdempotencyStore;
  events: EventPublisher;
}

export type TriggerOutcome = { outcome: 'created'; clusterId: string } | { outcome: 'rejected'; code: string; details: { path: string; message: string }[] };

/** 4xx-class errors are the request's fault: retrying cannot help. */
const isRejection = (error: unknown): error is DomainError => error instanceof DomainError && error.statusCode >= 400 && error.statusCode < 500;

export const handleCreateRequested = async (deps: TriggerDeps, event: EventBridgeEvent): Promise<TriggerOutcome> => {
  const reject = async (code: string, message: string, details: { path: string; message: string }[], project: unknown) => {
    logger.warn('cluster create request rejected', { eventId: event.id, code, details });
    await deps.events.publish([
      { detailType: DETAIL_TYPES.createRejected, detail: { requestEventId: event.id, project: typeof project === 'string' ? project : null, code, message, details } },
    ]);
    return { outcome: 'rejected' as const, code, details };
  };

  const detail = event.detail && typeof event.detail === 'object' ? (event.detail as Record<string, unknown>) : {};
  const { project, ...body } = detail;
  const projectCheck = projectNameSchema.safeParse(project);
  const bodyCheck = nativeCreateRequestSchema.safeParse(body);
  if (!projectCheck.success || !bodyCheck.success) {
    const details = [
      ...(projectCheck.success ? [] : issuesToDetails(projectCheck.error.issues, project).map((d) => ({ ...d, path: 'project' }))),
      ...(bodyCheck.success ? [] : issuesToDetails(bodyCheck.error.issues, body)),
    ];
    return reject('ValidationError', 'the create request is invalid', details, project);
  }
  try {
    const spec = prepareNativeSpec(deps, bodyCheck.data);
    const response = await runIdempotently({
      idempotencyKeys: deps.idempotencyKeys,
      project: projectCheck.data,
      key: `event:${event.id}`.slice(0, 64),
      route: DETAIL_TYPES.createRequested,
      body: bodyCheck.data,
      run: async (id) => {
        const cluster = await createCluster(deps, { project: projectCheck.data, spec, request: bodyCheck.data, id });
        return { statusCode: 202, headers: {}, body: JSON.stringify({ id: cluster.id }) };
      },
    });
    const { id: clusterId } = JSON.parse(response.body) as { id: string };
    logger.info('cluster accepted from an event', { clusterId, eventId: event.id, project: projectCheck.data });
    return { outcome: 'created', clusterId };
  } catch (error) {
    if (isRejection(error)) return reject(error.name, error.message, error.details, projectCheck.data);
    throw error;
  }
};
