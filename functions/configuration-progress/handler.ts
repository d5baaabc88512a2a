/** Lambda entry: the configuration container's log lines (CloudWatch Logs subscription) → the cluster record. */
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { readEnv, tableEnvSchema } from '#lib/config';
import { configurationProgressHandler } from './index.ts';

const env = readEnv(tableEnvSchema);

export const handler = configurationProgressHandler({ clusters: new DynamoDbClusterStore(dynamoDbTable({ tableName: env.TABLE_NAME })) });
