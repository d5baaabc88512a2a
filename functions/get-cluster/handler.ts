/** Lambda entry: the read handler over DynamoDB. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { stepFunctionsConsoleUrl } from '#adapters/sfn-workflow';
import { readEnv, tableEnvSchema } from '#lib/config';
import { getClusterHandler } from './index.ts';

const env = readEnv(tableEnvSchema);

export const handler = getClusterHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  consoleUrlFor: stepFunctionsConsoleUrl,
});
