/** The clusters and their timelines in the service's table. */
import { PutCommand, GetCommand, QueryCommand, ScanCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import type { ClusterMutation, ClusterStore, Page } from '#domain/cluster-store';
import { Conflict, NotFound, VersionConflict } from '#domain/errors';
import type { Cluster, ClusterEvent, ClusterStatus, StatusChange } from '#domain/model';
import { isConditionFailure, MAX_CONDITIONAL_ATTEMPTS, type DynamoDbTable } from './client.ts';
import {
  CLUSTER_SORT_KEY,
  clusterItem,
  clusterKey,
  clusterOf,
  eventOf,
  noteItem,
  PROJECT_INDEX,
  projectClustersPartition,
  statusChangeItem,
  timelineOf,
  type StatusChangeItem,
} from './table-schema.ts';

const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

const decodeCursor = (cursor: string | undefined): Record<string, unknown> | undefined => {
  if (!cursor) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object') return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new NotFound('nextToken is not one this service issued');
};

export interface DynamoDbClusterStoreOptions {
  /**
   * Told of every status change once it is written, with the item as written. On AWS the table's
   * stream does this job; the local DynamoDB has no streams, so the local stack listens here.
   */
  onStatusChange?: (item: StatusChangeItem) => void;
}

export class DynamoDbClusterStore implements ClusterStore {
  constructor(
    private readonly table: DynamoDbTable,
    private readonly options: DynamoDbClusterStoreOptions = {},
  ) {}

  async createCluster(cluster: Cluster, message: string): Promise<void> {
    try {
      await this.table.doc.send(new PutCommand({ TableName: this.table.name, Item: clusterItem(cluster), ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (isConditionFailure(error)) throw new Conflict(`cluster ${cluster.id} exists`);
      throw error;
    }
    await this.putStatusChange(cluster, message);
  }

  async getCluster(id: string): Promise<Cluster | null> {
    const { Item } = await this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: clusterKey(id), ConsistentRead: true }));
    return Item ? clusterOf(Item) : null;
  }

  async updateCluster(id: string, mutate: ClusterMutation, known?: Cluster): Promise<Cluster> {
    for (let attempt = 1; ; attempt++) {
      const current = attempt === 1 && known?.id === id ? known : await this.getCluster(id);
      if (!current) throw new NotFound(`cluster ${id} not found`);
      const change = mutate(structuredClone(current));
      if (!change) return current;
      const next: Cluster = {
        ...change.cluster,
        id: current.id,
        project: current.project,
        createdAt: current.createdAt,
        version: current.version + 1,
        updatedAt: new Date().toISOString(),
      };
      try {
        await this.table.doc.send(
          new PutCommand({
            TableName: this.table.name,
            Item: clusterItem(next),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': current.version },
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) {
          if (attempt >= MAX_CONDITIONAL_ATTEMPTS) throw new VersionConflict(`cluster ${id} keeps changing; gave up after ${attempt} attempts`);
          continue;
        }
        throw error;
      }
      if (next.status !== current.status || next.phase !== current.phase) await this.putStatusChange(next, change.message);
      return next;
    }
  }

  private async putStatusChange(cluster: Cluster, message: string): Promise<void> {
    const item = statusChangeItem(cluster, message);
    await this.table.doc.send(new PutCommand({ TableName: this.table.name, Item: item }));
    this.options.onStatusChange?.(item);
  }

  async addTimelineNote(change: Pick<StatusChange, 'clusterId' | 'status' | 'phase'>, message: string): Promise<void> {
    await this.table.doc.send(new PutCommand({ TableName: this.table.name, Item: noteItem(change, message, new Date().toISOString(), randomUUID()) }));
  }

  async listEvents(id: string): Promise<ClusterEvent[]> {
    const timeline = timelineOf(id);
    const events: ClusterEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': timeline.pk, ':prefix': timeline.sortKeyPrefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      events.push(...(page.Items ?? []).map(eventOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
  }

  async listClusters(project: string, options: { limit: number; nextToken?: string; status?: ClusterStatus }): Promise<Page<Cluster>> {
    const items: Cluster[] = [];
    let startKey = decodeCursor(options.nextToken);
    // DynamoDB applies Limit before the filter: ask only for what is still missing, so every
    // item a query reads is either taken or filtered out, and the last key is an exact cursor.
    do {
      const input: QueryCommandInput = {
        TableName: this.table.name,
        IndexName: PROJECT_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': projectClustersPartition(project), ...(options.status ? { ':status': options.status } : {}) },
        ...(options.status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ScanIndexForward: false,
        Limit: options.limit - items.length,
        ExclusiveStartKey: startKey,
      };
      const page = await this.table.doc.send(new QueryCommand(input));
      items.push(...(page.Items ?? []).map(clusterOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < options.limit);
    const nextToken = encodeCursor(startKey);
    return { items, ...(nextToken ? { nextToken } : {}) };
  }

  async findClustersByStatus(statuses: readonly ClusterStatus[]): Promise<Cluster[]> {
    const clusters: Cluster[] = [];
    const values = Object.fromEntries(statuses.map((status, i) => [`:s${i}`, status]));
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.doc.send(
        new ScanCommand({
          TableName: this.table.name,
          FilterExpression: `sk = :meta AND #status IN (${Object.keys(values).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':meta': CLUSTER_SORT_KEY, ...values },
          ExclusiveStartKey: startKey,
        }),
      );
      clusters.push(...(page.Items ?? []).map(clusterOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return clusters;
  }
}
