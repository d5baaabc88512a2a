/**
 * The local stand-in for the table's stream (dynalite has none) hands publish-status the very item
 * the cluster store wrote, so its records carry the keys the table holds the events by.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { dynamoDbStores } from '#adapters/dynamodb/stores';
import { statusChangeOf, timelineOf } from '#adapters/dynamodb/table-schema';
import type { ClusterStore } from '#domain/cluster-store';
import { ensureTable, LOCAL_TABLE_NAME, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/dynamodb.ts';
import { LocalTableStream } from '../../infra/local/table-stream.ts';
import { clusterRecord } from '../support/clusters.ts';

let dynamodb: LocalDynamoDb;
let stream: LocalTableStream;
let clusters: ClusterStore;
const delivered: DynamoDBRecord[] = [];

beforeAll(async () => {
  dynamodb = await startLocalDynamoDb({ port: 0, host: '127.0.0.1' });
  await ensureTable(dynamodb.client);
  stream = new LocalTableStream(() => async (event) => {
    delivered.push(...event.Records);
  });
  ({ clusters } = dynamoDbStores({ tableName: LOCAL_TABLE_NAME, client: dynamodb.client, onStatusChange: (item) => stream.push(item) }));
});
afterAll(() => dynamodb.stop());

const image = (attributes: Record<string, unknown> | undefined) => unmarshall((attributes ?? {}) as Record<string, AttributeValue>);

describe('the local table stream', () => {
  it('hands on each status change under the key it is stored by, as the stream of the deployed table does', async () => {
    // Prepare
    const cluster = clusterRecord();

    // Act
    await clusters.createCluster(cluster, 'requested');
    await clusters.updateCluster(cluster.id, (current) => ({ cluster: { ...current, status: 'PROVISIONING', phase: 'plan' }, message: 'planning' }));
    await clusters.addTimelineNote({ clusterId: cluster.id, status: 'PROVISIONING', phase: 'plan' }, 'a note, which is no status change');
    await stream.idle();

    // Assess
    const { Items = [] } = await dynamodb.client.send(
      new QueryCommand({ TableName: LOCAL_TABLE_NAME, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: marshall({ ':pk': timelineOf(cluster.id).pk }), ConsistentRead: true }),
    );
    const changes = Items.map((item) => unmarshall(item)).filter((item) => statusChangeOf(item) !== null);
    expect(changes).toHaveLength(2);
    expect(delivered.map((record) => image(record.dynamodb?.Keys))).toEqual(changes.map(({ pk, sk }) => ({ pk, sk })));
    expect(delivered.map((record) => statusChangeOf(image(record.dynamodb?.NewImage)))).toEqual(changes.map(statusChangeOf));
  });
});
