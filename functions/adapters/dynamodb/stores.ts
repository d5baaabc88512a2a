/** Every store over one table, for the processes that use them all: the local runtime, the tests, the benches. */
import type { ClusterStore } from '#domain/cluster-store';
import type { IdempotencyStore } from '#domain/idempotency-store';
import type { QuotaStore } from '#domain/quota-store';
import type { TokenStore } from '#domain/token-store';
import type { WebhookSecretStore } from '#domain/webhook-secret-store';
import { dynamoDbTable, type DynamoDbTableOptions } from './client.ts';
import { DynamoDbClusterStore, type DynamoDbClusterStoreOptions } from './clusters.ts';
import { DynamoDbIdempotencyStore } from './idempotency.ts';
import { DynamoDbQuotaStore } from './quotas.ts';
import { tableServiceKey } from './secrets.ts';
import { NODE_REPORT_SECRET_SLOT, PAGE_TOKEN_SECRET_SLOT } from './table-schema.ts';
import { DynamoDbTokenStore } from './tokens.ts';
import { DynamoDbWebhookSecretStore } from './webhook-secrets.ts';

export interface TableStores {
  clusters: ClusterStore;
  quotas: QuotaStore;
  idempotencyKeys: IdempotencyStore;
  tokens: TokenStore;
  webhookSecrets: WebhookSecretStore;
  /** The page-token key kept in the table (deployed, the read function gets it from Secrets Manager). */
  pageTokenSecret: () => Promise<string>;
  /** The node-report key kept in the table (deployed, from Secrets Manager): the cloud-init runner's node secrets. */
  nodeReportKey: () => Promise<string>;
}

export const dynamoDbStores = (options: DynamoDbTableOptions & DynamoDbClusterStoreOptions): TableStores => {
  const table = dynamoDbTable(options);
  return {
    clusters: new DynamoDbClusterStore(table, options.onStatusChange ? { onStatusChange: options.onStatusChange } : {}),
    quotas: new DynamoDbQuotaStore(table),
    idempotencyKeys: new DynamoDbIdempotencyStore(table),
    tokens: new DynamoDbTokenStore(table),
    webhookSecrets: new DynamoDbWebhookSecretStore(table),
    pageTokenSecret: tableServiceKey(table, PAGE_TOKEN_SECRET_SLOT),
    nodeReportKey: tableServiceKey(table, NODE_REPORT_SECRET_SLOT),
  };
};
