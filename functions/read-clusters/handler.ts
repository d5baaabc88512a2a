/** Lambda entry: the read routes over DynamoDB. */
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { stepFunctionsConsoleUrl } from '#adapters/sfn-workflow';
import { secretsManagerKey } from '#adapters/secrets-manager-key';
import { pageTokenEnvSchema, readEnv, tableEnvSchema } from '#lib/config';
import { readClustersHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(pageTokenEnvSchema.shape));

export const handler = readClustersHandler({
  clusters: new DynamoDbClusterStore(dynamoDbTable({ tableName: env.TABLE_NAME })),
  pageTokenSecret: secretsManagerKey(env.PAGE_TOKEN_SECRET_ARN),
  consoleUrlFor: stepFunctionsConsoleUrl,
});
