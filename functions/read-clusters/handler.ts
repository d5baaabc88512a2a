/** Lambda entry: the read routes over DynamoDB. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { stepFunctionsConsoleUrl } from '#adapters/sfn-workflow';
import { secretsManagerKey } from '#adapters/secrets-manager-key';
import { pageTokenEnvSchema, readEnv, tableEnvSchema } from '#lib/config';
import { readClustersHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(pageTokenEnvSchema.shape));

export const handler = readClustersHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  pageTokenSecret: secretsManagerKey(env.PAGE_TOKEN_SECRET_ARN),
  consoleUrlFor: stepFunctionsConsoleUrl,
});
