/** Puts the service's events on its EventBridge bus. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { TransientProviderError } from '#domain/errors';
import type { EventPublisher } from '#domain/event-bus';
import { SERVICE_SOURCE, type PublishedEvent } from '#domain/events';
import { chunk } from '#lib/batching';
import { traced } from '#lib/tracer';

/** PutEvents takes at most 10 entries a call. */
const MAX_ENTRIES = 10;

export class EventBridgePublisher implements EventPublisher {
  private readonly client: EventBridgeClient;

  constructor(
    private readonly busName: string,
    client?: EventBridgeClient,
  ) {
    this.client = client ?? traced(new EventBridgeClient({}));
  }

  async publish(events: PublishedEvent[]): Promise<void> {
    for (const batch of chunk(events, MAX_ENTRIES)) {
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: SERVICE_SOURCE,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
          })),
        }),
      );
      // PutEvents answers 200 with per-entry failures: a partial failure must not pass silently.
      if ((result.FailedEntryCount ?? 0) > 0) {
        const codes = (result.Entries ?? []).flatMap((entry) => (entry.ErrorCode ? [`${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`] : []));
        throw new TransientProviderError(`EventBridge refused ${result.FailedEntryCount} of ${batch.length} events: ${codes.join('; ')}`);
      }
    }
  }
}
