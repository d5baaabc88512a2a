/** The table the stores share: its name and one document client, so a function makes one client however many stores it uses. */
import { ConditionalCheckFailedException, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { traced } from '#lib/tracer';

export interface DynamoDbTable {
  readonly name: string;
  readonly doc: DynamoDBDocumentClient;
}

export interface DynamoDbTableOptions {
  tableName: string;
  /** A client made elsewhere (the local runtime's, the CLI's); else one traced client from `clientConfig`. */
  client?: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
}

export const dynamoDbTable = (options: DynamoDbTableOptions): DynamoDbTable => {
  const client = options.client ?? traced(new DynamoDBClient(options.clientConfig ?? {}));
  return {
    name: options.tableName,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } }),
  };
};

/** How often an optimistic read-modify-write goes round under contention before it gives up. */
export const MAX_CONDITIONAL_ATTEMPTS = 8;

export const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;
