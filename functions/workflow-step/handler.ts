/** Lambda entry: the workflow steps over DynamoDB and the deployment's providers. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { providerRegistry } from '#domain/providers';
import { readEnv, tableEnvSchema, workflowEnvSchema } from '#lib/config';
import { workflowStepHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(workflowEnvSchema.shape));

export const handler = workflowStepHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  // The cloud adapters for AWS (ec2 first) register here; until one does, a cluster fails at
  // `plan` with ProviderUnavailable instead of hanging.
  providers: providerRegistry([]),
  config: env,
});
