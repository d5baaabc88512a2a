/** Lambda entry: wires the authorizer to the table named by TABLE_NAME. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { readEnv, tableEnvSchema } from '#lib/config';
import { createAuthorizer } from './index.ts';

const env = readEnv(tableEnvSchema);

export const handler = createAuthorizer({ store: new DynamoDbStore({ tableName: env.TABLE_NAME }) });
