/** Lambda entry: the table's stream → EventBridge and webhooks. */
import { z } from 'zod';
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { DynamoDbWebhookSecretStore } from '#adapters/dynamodb/webhook-secrets';
import { EventBridgePublisher } from '#adapters/eventbridge-publisher';
import { HttpWebhookSender } from '#adapters/http-webhook-sender';
import { readEnv, tableEnvSchema } from '#lib/config';
import { publishStatusHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend({ EVENT_BUS_NAME: z.string().min(1, 'is required') }));
const table = dynamoDbTable({ tableName: env.TABLE_NAME });

export const handler = publishStatusHandler({
  clusters: new DynamoDbClusterStore(table),
  webhookSecrets: new DynamoDbWebhookSecretStore(table),
  events: new EventBridgePublisher(env.EVENT_BUS_NAME),
  // Deployed, a callback URL must never reach into the service's own network.
  webhooks: new HttpWebhookSender({ allowInternal: false }),
});
