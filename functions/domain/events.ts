/**
 * The service's events on its EventBridge bus (docs/architecture.md, "Events"): what starts a cluster, and what it
 * tells the world when a cluster's status changes.
 */
import { z } from 'zod';

/** `source` of every event the service puts. */
export const SERVICE_SOURCE = 'cluster-service';

export const DETAIL_TYPES = {
  /** Consumed: detail = the native create body + `project`. */
  createRequested: 'Cluster Create Requested',
  /** Put when such a request cannot be served (invalid, over quota): it is not retried. */
  createRejected: 'Cluster Create Rejected',
  /** Put for every status change: detail = {id, project, status, phase, error}. */
  statusChanged: 'Cluster Status Changed',
} as const;

export const projectNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1–128 letters, digits, . _ or -');

/** An EventBridge event as a rule delivers it (to SQS, as the message body). */
export const eventBridgeEventSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.string(),
  source: z.string(),
  time: z.string().optional(),
  detail: z.unknown(),
});
export type EventBridgeEvent = z.infer<typeof eventBridgeEventSchema>;

export interface PublishedEvent {
  detailType: string;
  detail: Record<string, unknown>;
}
