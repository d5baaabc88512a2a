/** The projects' webhook signing keys, kept in the service's table (encrypted at rest with it). */
import type { WebhookSecretStore } from '#domain/webhook-secret-store';
import type { DynamoDbTable } from './client.ts';
import { keptSecret } from './secrets.ts';
import { webhookSecretSlot } from './table-schema.ts';

export class DynamoDbWebhookSecretStore implements WebhookSecretStore {
  constructor(private readonly table: DynamoDbTable) {}

  secretOf(project: string): Promise<string> {
    return keptSecret(this.table, webhookSecretSlot(project));
  }
}
