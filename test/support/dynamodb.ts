/** A real DynamoDB API for tests: an in-memory dynalite on a loopback port, with the service's table. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { ensureTable, LOCAL_TABLE_NAME, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/dynamodb.ts';

export interface TestTable {
  dynamodb: LocalDynamoDb;
  store: DynamoDbStore;
  stop(): Promise<void>;
}

export const startTestTable = async (): Promise<TestTable> => {
  const dynamodb = await startLocalDynamoDb({ port: 0, host: '127.0.0.1' });
  await ensureTable(dynamodb.client);
  return {
    dynamodb,
    store: new DynamoDbStore({ tableName: LOCAL_TABLE_NAME, client: dynamodb.client }),
    stop: () => dynamodb.stop(),
  };
};
