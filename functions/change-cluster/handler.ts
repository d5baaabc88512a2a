/** Lambda entry: destroy and retry over DynamoDB and Step Functions. */
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { DynamoDbQuotaStore } from '#adapters/dynamodb/quotas';
import { stepFunctionsWorkflowsFromEnv } from '#adapters/sfn-workflow';
import { quotaDefaultsOf, quotaEnvSchema, readEnv, tableEnvSchema, workflowsEnvSchema } from '#lib/config';
import { changeClusterHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(workflowsEnvSchema.shape).extend(quotaEnvSchema.shape));
const table = dynamoDbTable({ tableName: env.TABLE_NAME });

export const handler = changeClusterHandler({
  clusters: new DynamoDbClusterStore(table),
  quotas: new DynamoDbQuotaStore(table),
  workflows: stepFunctionsWorkflowsFromEnv(env),
  quotaDefaults: quotaDefaultsOf(env),
});
