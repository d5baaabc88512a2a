/** A real DynamoDB API for tests: an in-memory dynalite on a loopback port, with the service's table and its stores. */
import { dynamoDbStores, type TableStores } from '#adapters/dynamodb/stores';
import type { Cluster } from '#domain/model';
import { ensureTable, LOCAL_TABLE_NAME, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/dynamodb.ts';

export interface TestTable extends TableStores {
  dynamodb: LocalDynamoDb;
  stop(): Promise<void>;
}

export const startTestTable = async (): Promise<TestTable> => {
  const dynamodb = await startLocalDynamoDb({ port: 0, host: '127.0.0.1' });
  await ensureTable(dynamodb.client);
  return {
    dynamodb,
    ...dynamoDbStores({ tableName: LOCAL_TABLE_NAME, client: dynamodb.client }),
    stop: () => dynamodb.stop(),
  };
};

/**
 * `cluster` written to the table as a test's starting point, with a reading of the record as it is
 * now and the count of writes since (each write moves its version on by one).
 */
export const storeCluster = async (table: TestTable, cluster: Cluster) => {
  await table.clusters.createCluster(cluster, 'test cluster');
  const record = async (): Promise<Cluster> => {
    const current = await table.clusters.getCluster(cluster.id);
    if (!current) throw new Error(`cluster ${cluster.id} is gone from the table`);
    return current;
  };
  return { id: cluster.id, record, writes: async () => (await record()).version - cluster.version };
};
