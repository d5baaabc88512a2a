/** Lambda entry: the create routes over DynamoDB and Step Functions. */
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { DynamoDbIdempotencyStore } from '#adapters/dynamodb/idempotency';
import { DynamoDbQuotaStore } from '#adapters/dynamodb/quotas';
import { DynamoDbWebhookSecretStore } from '#adapters/dynamodb/webhook-secrets';
import { stepFunctionsWorkflowsFromEnv } from '#adapters/sfn-workflow';
import { deployedProviders } from '#adapters/aws-providers';
import { providerRegistry } from '#domain/providers';
import { quotaDefaultsOf, quotaEnvSchema, readEnv, tableEnvSchema, workflowEnvSchema, workflowsEnvSchema } from '#lib/config';
import { createClusterHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(workflowsEnvSchema.shape).extend(workflowEnvSchema.shape).extend(quotaEnvSchema.shape));
const table = dynamoDbTable({ tableName: env.TABLE_NAME });

export const handler = createClusterHandler({
  clusters: new DynamoDbClusterStore(table),
  quotas: new DynamoDbQuotaStore(table),
  idempotencyKeys: new DynamoDbIdempotencyStore(table),
  webhookSecrets: new DynamoDbWebhookSecretStore(table),
  workflows: stepFunctionsWorkflowsFromEnv(env),
  quotaDefaults: quotaDefaultsOf(env),
  defaultProvider: env.DEFAULT_PROVIDER,
  defaultConfigurationRunner: env.DEFAULT_CONFIGURATION_RUNNER,
  // Only the providers the stack was configured for: a create naming another is refused with
  // InvalidSpec on `provider` rather than accepted and failed later.
  providers: providerRegistry(await deployedProviders()),
  pollSeconds: env.POLL_INTERVAL_SECONDS,
});
