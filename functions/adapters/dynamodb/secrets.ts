/**
 * Random secrets kept in the service's table, each made by whichever first use writes first: the
 * projects' webhook keys, and the page-token and node-report keys of the local runtime (it has no
 * Secrets Manager; kept with the local data, a client's page token and a node's secret outlive a restart).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { isConditionFailure, type DynamoDbTable } from './client.ts';
import { secretItem, secretOf, type SecretSlot } from './table-schema.ts';

/** The 32-byte secret kept in `slot`, made now if there is none. */
export const keptSecret = async (table: DynamoDbTable, slot: SecretSlot): Promise<string> => {
  const { Item } = await table.doc.send(new GetCommand({ TableName: table.name, Key: slot.key, ConsistentRead: true }));
  const kept = secretOf(Item);
  if (kept !== null) return kept;
  const secret = randomBytes(32).toString('base64url');
  try {
    await table.doc.send(new PutCommand({ TableName: table.name, Item: secretItem(slot, secret), ConditionExpression: 'attribute_not_exists(pk)' }));
    return secret;
  } catch (error) {
    // Two first uses at once: the one written first is the secret.
    if (isConditionFailure(error)) return keptSecret(table, slot);
    throw error;
  }
};

/** The key kept in `slot`, read once per process (a failed read is tried again next time). */
export const tableServiceKey = (table: DynamoDbTable, slot: SecretSlot): (() => Promise<string>) => {
  let secret: Promise<string> | undefined;
  return () => {
    secret ??= keptSecret(table, slot).catch((error: unknown) => {
      secret = undefined;
      throw error;
    });
    return secret;
  };
};
