/** Lambda entry: the workflow steps over DynamoDB and the deployment's providers. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { awsProvidersFromEnv } from '#adapters/aws-providers';
import { providerRegistry } from '#domain/providers';
import { readEnv, tableEnvSchema, workflowEnvSchema } from '#lib/config';
import { workflowStepHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(workflowEnvSchema.shape));

export const handler = workflowStepHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  // The providers the stack was configured for (the create routes refuse any other).
  providers: providerRegistry(awsProvidersFromEnv()),
  config: env,
});
