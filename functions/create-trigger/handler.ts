/** Lambda entry: create requests from the service's bus (through SQS). */
import { z } from 'zod';
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { DynamoDbIdempotencyStore } from '#adapters/dynamodb/idempotency';
import { DynamoDbQuotaStore } from '#adapters/dynamodb/quotas';
import { EventBridgePublisher } from '#adapters/eventbridge-publisher';
import { stepFunctionsWorkflowsFromEnv } from '#adapters/sfn-workflow';
import { deployedProviders } from '#adapters/aws-providers';
import { providerRegistry } from '#domain/providers';
import { quotaDefaultsOf, quotaEnvSchema, readEnv, tableEnvSchema, workflowEnvSchema, workflowsEnvSchema } from '#lib/config';
import { createTriggerHandler } from './index.ts';

const env = readEnv(
  tableEnvSchema
    .extend(workflowsEnvSchema.shape)
    .extend(workflowEnvSchema.shape)
    .extend(quotaEnvSchema.shape)
    .extend({ EVENT_BUS_NAME: z.string().min(1, 'is required') }),
);
const table = dynamoDbTable({ tableName: env.TABLE_NAME });

export const handler = createTriggerHandler({
  clusters: new DynamoDbClusterStore(table),
  quotas: new DynamoDbQuotaStore(table),
  idempotencyKeys: new DynamoDbIdempotencyStore(table),
  workflows: stepFunctionsWorkflowsFromEnv(env),
  quotaDefaults: quotaDefaultsOf(env),
  defaultProvider: env.DEFAULT_PROVIDER,
  providers: providerRegistry(await deployedProviders()),
  events: new EventBridgePublisher(env.EVENT_BUS_NAME),
});
