/** Lambda entry: the read routes over DynamoDB. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { stepFunctionsConsoleUrl } from '#adapters/sfn-workflow';
import { readEnv, tableEnvSchema } from '#lib/config';
import { readClustersHandler } from './index.ts';

const env = readEnv(tableEnvSchema);

export const handler = readClustersHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  consoleUrlFor: stepFunctionsConsoleUrl,
});
