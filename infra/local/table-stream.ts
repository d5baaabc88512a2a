/**
 * The local stand-in for the table's DynamoDB stream (dynalite has none): the store reports each
 * status-change item it writes, and this hands that very item to the publish-status handler as a
 * stream record (its key taken from the item, so it cannot differ from the table's), in order per
 * cluster, offering a failed record again a few times as the stream does.
 */
import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { keyOf, type StatusChangeItem } from '#adapters/dynamodb/table-schema';
import { logger } from '#lib/logger';
import { invokeLocally, outsideInvocations } from './invocations.ts';

const MAX_TRIES = 3;
const RETRY_MS = 200;

type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void>;

export class LocalTableStream {
  /** One chain per cluster: a cluster's changes stay in order, clusters don't wait for each other. */
  private readonly chains = new Map<string, Promise<void>>();
  private sequence = 0;

  constructor(private readonly handler: () => StreamHandler) {}

  push(change: StatusChangeItem): void {
    // The store reports from inside the invocation that wrote; the delivery is not part of it.
    outsideInvocations(() => {
      const previous = this.chains.get(change.clusterId) ?? Promise.resolve();
      const next = previous
        .then(() => this.deliver(change))
        .catch((error: unknown) => logger.error('a status change could not be published', { clusterId: change.clusterId, status: change.status, phase: change.phase, error }))
        .finally(() => {
          if (this.chains.get(change.clusterId) === next) this.chains.delete(change.clusterId);
        });
      this.chains.set(change.clusterId, next);
    });
  }

  /** Resolves when every change pushed so far has been handled. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  private async deliver(change: StatusChangeItem): Promise<void> {
    const sequenceNumber = String(++this.sequence).padStart(21, '0');
    const event: DynamoDBStreamEvent = {
      Records: [
        {
          eventID: randomUUID(),
          eventName: 'INSERT',
          eventSource: 'aws:dynamodb',
          awsRegion: 'local',
          dynamodb: {
            Keys: marshall(keyOf(change)) as never,
            NewImage: marshall(change, { removeUndefinedValues: true }) as never,
            SequenceNumber: sequenceNumber,
            StreamViewType: 'NEW_IMAGE',
          },
        },
      ],
    };
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const handled = await invokeLocally('publish-status', 120_000, async (context) => {
        try {
          const response = await this.handler()(event, context);
          return !response || response.batchItemFailures.length === 0;
        } catch (error) {
          logger.warn('publishing a status change failed; trying again', { clusterId: change.clusterId, attempt, error });
          return false;
        }
      });
      if (handled) return;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt));
    }
    logger.error('a status change could not be published', { clusterId: change.clusterId, status: change.status, phase: change.phase });
  }
}
