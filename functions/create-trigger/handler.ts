/** Lambda entry: create requests from the service's bus (through SQS). */
import { z } from 'zod';
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { EventBridgePublisher } from '#adapters/eventbridge-publisher';
import { stepFunctionsWorkflowsFromEnv } from '#adapters/sfn-workflow';
import { awsProvidersFromEnv } from '#adapters/aws-providers';
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

export const handler = createTriggerHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  workflows: stepFunctionsWorkflowsFromEnv(env),
  quotaDefaults: quotaDefaultsOf(env),
  defaultProvider: env.DEFAULT_PROVIDER,
  providers: providerRegistry(awsProvidersFromEnv()),
  events: new EventBridgePublisher(env.EVENT_BUS_NAME),
});
