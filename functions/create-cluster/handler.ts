/** Lambda entry: the create routes over DynamoDB and Step Functions. */
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { stepFunctionsWorkflowsFromEnv } from '#adapters/sfn-workflow';
import { awsProvidersFromEnv } from '#adapters/aws-providers';
import { providerRegistry } from '#domain/providers';
import { quotaDefaultsOf, quotaEnvSchema, readEnv, tableEnvSchema, workflowEnvSchema, workflowsEnvSchema } from '#lib/config';
import { createClusterHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(workflowsEnvSchema.shape).extend(workflowEnvSchema.shape).extend(quotaEnvSchema.shape));

export const handler = createClusterHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  workflows: stepFunctionsWorkflowsFromEnv(env),
  quotaDefaults: quotaDefaultsOf(env),
  defaultProvider: env.DEFAULT_PROVIDER,
  defaultConfigurationRunner: env.DEFAULT_CONFIGURATION_RUNNER,
  // Only the providers the stack was configured for: a create naming another is refused with
  // InvalidSpec on `provider` rather than accepted and failed later.
  providers: providerRegistry(awsProvidersFromEnv()),
  pollSeconds: env.POLL_INTERVAL_SECONDS,
});
