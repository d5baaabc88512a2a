/** Lambda entry: destroy and retry over DynamoDB and Step Functions. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { stepFunctionsWorkflowsFromEnv } from '#adapters/sfn-workflow';
import { quotaDefaultsOf, quotaEnvSchema, readEnv, tableEnvSchema, workflowsEnvSchema } from '#lib/config';
import { changeClusterHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(workflowsEnvSchema.shape).extend(quotaEnvSchema.shape));

export const handler = changeClusterHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  workflows: stepFunctionsWorkflowsFromEnv(env),
  quotaDefaults: quotaDefaultsOf(env),
});
