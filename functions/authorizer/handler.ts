/** Lambda entry: wires the authorizer to the tokens in the table named by TABLE_NAME. */
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbTokenStore } from '#adapters/dynamodb/tokens';
import { readEnv, tableEnvSchema } from '#lib/config';
import { createAuthorizer } from './index.ts';

const env = readEnv(tableEnvSchema);

export const handler = createAuthorizer({ tokens: new DynamoDbTokenStore(dynamoDbTable({ tableName: env.TABLE_NAME })) });
