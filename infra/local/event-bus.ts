/**
 * The local stand-in for the service's EventBridge bus, its rule and the rule's SQS queue:
 * PutEvents entries become EventBridge events; those the rule matches are delivered to the
 * trigger handler as SQS messages, asynchronously, with redelivery of failed items and a
 * dead-letter list after the last try, as the deployed queue does.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { EventPublisher } from '#domain/event-bus';
import { DETAIL_TYPES, SERVICE_SOURCE, type PublishedEvent } from '#domain/events';
import { logger } from '#lib/logger';
import { invokeLocally, outsideInvocations } from './invocations.ts';
import type { PutEventsEntry } from './put-events.ts';

const LOCAL_BUS_NAME = 'cluster-service';
/** As the deployed queue's redrive policy: a message is tried this often before the DLQ. */
const MAX_RECEIVES = 3;
const REDELIVERY_MS = 200;
/** Events kept for GET /_local/events. */
const KEPT_EVENTS = 1000;

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export class LocalEventBus implements EventPublisher {
  private readonly kept: BusEvent[] = [];
  readonly deadLetters: { event: BusEvent; receives: number }[] = [];
  private readonly deliveries = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly trigger: SqsHandler) {}

  /**
   * PutEvents, for entries of the right shape and size (put-events.ts): answers per entry, as
   * EventBridge does, and routes what the rule matches.
   */
  putEvents(entries: PutEventsEntry[]): { FailedEntryCount: number; Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[] } {
    const results = entries.map((entry) => {
      if (!entry.Source) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source is required' };
      if (!entry.DetailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'DetailType is required' };
      if (entry.EventBusName !== undefined && entry.EventBusName !== LOCAL_BUS_NAME && entry.EventBusName !== 'default') {
        return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? '');
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed' };
      }
      if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object' };
      const event = this.accept(entry.Source, entry.DetailType, detail, {
        resources: entry.Resources ?? [],
        ...(entry.Time !== undefined ? { time: new Date(entry.Time * 1000).toISOString() } : {}),
      });
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  /** The service's own events (EventPublisher). */
  async publish(events: PublishedEvent[]): Promise<void> {
    for (const event of events) this.accept(SERVICE_SOURCE, event.detailType, event.detail);
  }

  /** The events put on the bus, newest last. */
  events(): BusEvent[] {
    return [...this.kept];
  }

  /** Resolves when every delivery under way (redeliveries included) has ended. */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private accept(source: string, detailType: string, detail: unknown, options: { resources?: string[]; time?: string } = {}): BusEvent {
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account: '000000000000',
      time: options.time ?? new Date().toISOString(),
      region: 'local',
      resources: options.resources ?? [],
      detail,
    };
    this.kept.push(event);
    if (this.kept.length > KEPT_EVENTS) this.kept.shift();
    // The rule: create requests go to the trigger's queue, whoever put them.
    if (detailType === DETAIL_TYPES.createRequested) this.deliver(event);
    return event;
  }

  private deliver(event: BusEvent): void {
    // The queue delivers later, outside the request or invocation that put the event.
    outsideInvocations(() => {
      const delivery: Promise<void> = this.receive(event)
        .catch((error: unknown) => logger.error('a create request could not be delivered', { eventId: event.id, error }))
        .finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    });
  }

  /** The queue's receives of one message, until the trigger takes it or it goes to the dead-letter list. */
  private async receive(event: BusEvent): Promise<void> {
    for (let receive = 1; receive <= MAX_RECEIVES && !this.stopped; receive++) {
      const message: SQSEvent = {
        Records: [
          {
            messageId: randomUUID(),
            receiptHandle: randomUUID(),
            body: JSON.stringify(event),
            attributes: {
              ApproximateReceiveCount: String(receive),
              SentTimestamp: String(Date.parse(event.time)),
              SenderId: 'events.amazonaws.com',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:local:000000000000:create-requests',
            awsRegion: 'local',
          },
        ],
      };
      const handled = await invokeLocally('create-trigger', 60_000, async (context) => {
        try {
          const response = await this.trigger(message, context);
          return !response || response.batchItemFailures.length === 0;
        } catch (error) {
          logger.warn('create trigger failed; the message will be redelivered', { eventId: event.id, receive, error });
          return false;
        }
      });
      if (handled) return;
      await new Promise((resolve) => setTimeout(resolve, REDELIVERY_MS * receive));
    }
    if (!this.stopped) {
      logger.error('create request sent to the dead-letter list', { eventId: event.id });
      this.deadLetters.push({ event, receives: MAX_RECEIVES });
    }
  }
}
