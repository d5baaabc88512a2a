/** Lambda entry: the configuration container's log lines (CloudWatch Logs subscription) → the cluster record. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { readEnv, tableEnvSchema } from '#lib/config';
import { configurationProgressHandler } from './index.ts';

const env = readEnv(tableEnvSchema);

export const handler = configurationProgressHandler({ store: new DynamoDbStore({ tableName: env.TABLE_NAME }) });
