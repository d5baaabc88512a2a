/** Idempotency keys in the service's table: a conditional put claims one, DynamoDB's TTL forgets it. */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord, IdempotencyStore } from '#domain/idempotency-store';
import { isConditionFailure, type DynamoDbTable } from './client.ts';
import { idempotencyItem, idempotencyKey, idempotencyOf } from './table-schema.ts';

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(private readonly table: DynamoDbTable) {}

  async claim(record: IdempotencyRecord): Promise<IdempotencyRecord | null> {
    try {
      await this.table.doc.send(new PutCommand({ TableName: this.table.name, Item: idempotencyItem(record), ConditionExpression: 'attribute_not_exists(pk)' }));
      return null;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: idempotencyKey(record.project, record.key), ConsistentRead: true }),
    );
    if (!Item) return this.claim(record);
    const existing = idempotencyOf(Item);
    // An expired record DynamoDB's TTL has not removed yet counts as absent.
    if (Date.parse(String(existing.expiresAt)) <= Date.now()) {
      return (await this.takeOver(record, String(existing.createdAt))) ? null : this.claim(record);
    }
    return existing;
  }

  async complete(project: string, key: string, response: NonNullable<IdempotencyRecord['response']>): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: idempotencyKey(project, key),
        UpdateExpression: 'SET #state = :completed, #response = :response',
        ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
        ExpressionAttributeValues: { ':completed': 'COMPLETED', ':response': response },
      }),
    );
  }

  async release(project: string, key: string, createdAt: string): Promise<void> {
    try {
      await this.table.doc.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: idempotencyKey(project, key),
          ConditionExpression: 'createdAt = :createdAt',
          ExpressionAttributeValues: { ':createdAt': createdAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async takeOver(record: IdempotencyRecord, previousCreatedAt: string): Promise<boolean> {
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.name,
          Item: idempotencyItem(record),
          ConditionExpression: 'createdAt = :previous',
          ExpressionAttributeValues: { ':previous': previousCreatedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
