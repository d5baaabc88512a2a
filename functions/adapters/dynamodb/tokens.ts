/** API tokens in the service's table, by hash; listed per project through the project index. */
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TokenRecord, TokenStore } from '#domain/token-store';
import { isConditionFailure, type DynamoDbTable } from './client.ts';
import { ITEM_TYPES, PROJECT_INDEX, projectTokensPartition, tokenItem, tokenKey, tokenOf } from './table-schema.ts';

export class DynamoDbTokenStore implements TokenStore {
  constructor(private readonly table: DynamoDbTable) {}

  async put(token: TokenRecord): Promise<void> {
    await this.table.doc.send(new PutCommand({ TableName: this.table.name, Item: tokenItem(token) }));
  }

  async get(hash: string): Promise<TokenRecord | null> {
    const { Item } = await this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: tokenKey(hash) }));
    return Item ? tokenOf(Item) : null;
  }

  async list(project?: string): Promise<TokenRecord[]> {
    const tokens: TokenRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.doc.send(
        project
          ? new QueryCommand({
              TableName: this.table.name,
              IndexName: PROJECT_INDEX,
              KeyConditionExpression: 'gsi1pk = :pk',
              ExpressionAttributeValues: { ':pk': projectTokensPartition(project) },
              ExclusiveStartKey: startKey,
            })
          : new ScanCommand({
              TableName: this.table.name,
              FilterExpression: '#type = :token',
              ExpressionAttributeNames: { '#type': 'type' },
              ExpressionAttributeValues: { ':token': ITEM_TYPES.token },
              ExclusiveStartKey: startKey,
            }),
      );
      tokens.push(...(page.Items ?? []).map(tokenOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return tokens.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(hash: string): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: tokenKey(hash),
          UpdateExpression: 'SET revoked = :true, revokedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true, ':now': new Date().toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
