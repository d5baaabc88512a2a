/**
 * The single-table DynamoDB store (docs/architecture.md, "Data: one DynamoDB table").
 *
 *   pk=CLUSTER#<id>  sk=META                      the cluster (version for optimistic locking)
 *   pk=CLUSTER#<id>  sk=EVENT#<iso-time>#<seq>     the timeline
 *   pk=TOKEN#<sha256> sk=TOKEN                     token → project
 *   pk=QUOTA#<project> sk=QUOTA                    usage counters vcpus, servers, clusters; the
 *                                                  project's own limits in the map `limits`
 *
 * GSI `byProject` (gsi1pk=PROJECT#<project>, gsi1sk=<createdAt>#<id>) lists a project's
 * clusters newest first.
 */
import { ConditionalCheckFailedException, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { Conflict, NotFound, QuotaExceeded, VersionConflict } from '#domain/errors';
import { traced } from '#lib/tracer';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Cluster, ClusterEvent, ClusterStatus, StatusChange } from '#domain/model';
import { QUOTA_RESOURCES, type ClusterMutation, type ClusterStore, type IdempotencyRecord, type Page, type QuotaAmounts, type QuotaRecord, type QuotaResource, type TokenRecord } from '#domain/store';

export const PROJECT_INDEX = 'byProject';
/** The `type` of timeline items that are status changes: what the table's stream publishes. */
export const STATUS_CHANGE_TYPE = 'event';

const clusterKey = (id: string) => ({ pk: `CLUSTER#${id}`, sk: 'META' });
const tokenKey = (hash: string) => ({ pk: `TOKEN#${hash}`, sk: 'TOKEN' });
const quotaKey = (project: string) => ({ pk: `QUOTA#${project}`, sk: 'QUOTA' });
const idempotencyKey = (project: string, key: string) => ({ pk: `IDEMPOTENCY#${project}#${key}`, sk: 'IDEMPOTENCY' });
/** Placeholders for the quota attributes (some are DynamoDB reserved words). */
const QUOTA_NAMES = Object.fromEntries(QUOTA_RESOURCES.map((r) => [`#${r}`, r]));
const epochSeconds = (iso: string) => Math.ceil(Date.parse(iso) / 1000);
const MAX_UPDATE_ATTEMPTS = 8;

const toItem = (cluster: Cluster) => ({
  ...clusterKey(cluster.id),
  type: 'cluster',
  gsi1pk: `PROJECT#${cluster.project}`,
  gsi1sk: `${cluster.createdAt}#${cluster.id}`,
  ...cluster,
});

const fromItem = (item: Record<string, unknown>): Cluster => {
  const { pk: _pk, sk: _sk, type: _type, gsi1pk: _g1, gsi1sk: _g2, ...cluster } = item;
  return cluster as unknown as Cluster;
};

const toQuota = (item: Record<string, unknown> | undefined): QuotaRecord => {
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  const limits = (item?.limits ?? {}) as Partial<QuotaAmounts>;
  return {
    usage: { vcpus: number(item?.vcpus), servers: number(item?.servers), clusters: number(item?.clusters) },
    limits: Object.fromEntries(QUOTA_RESOURCES.filter((r) => typeof limits[r] === 'number').map((r) => [r, limits[r]])),
  };
};

const toToken = (item: Record<string, unknown>): TokenRecord => ({
  hash: String(item.hash),
  project: String(item.project),
  createdAt: String(item.createdAt),
  expiresAt: typeof item.expiresAt === 'string' ? item.expiresAt : null,
  revoked: item.revoked === true,
  ...(typeof item.description === 'string' ? { description: item.description } : {}),
});

const encodeToken = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

const decodeToken = (token: string | undefined): Record<string, unknown> | undefined => {
  if (!token) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (key && typeof key === 'object') return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new NotFound('nextToken is not one this service issued');
};

export interface DynamoDbStoreOptions {
  tableName: string;
  client?: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
  /**
   * Told of every status change once it is written. On AWS the table's stream does this job;
   * the local DynamoDB has no streams, so the local stack listens here instead.
   */
  onStatusChange?: (change: StatusChange) => void;
}

export class DynamoDbStore implements ClusterStore {
  private readonly table: string;
  private pageSecret: Promise<string> | undefined;
  private readonly doc: DynamoDBDocumentClient;
  private readonly onStatusChange: ((change: StatusChange) => void) | undefined;

  constructor(options: DynamoDbStoreOptions) {
    this.table = options.tableName;
    this.onStatusChange = options.onStatusChange;
    const client = options.client ?? traced(new DynamoDBClient(options.clientConfig ?? {}));
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  async createCluster(cluster: Cluster, message: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(cluster),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new Conflict(`cluster ${cluster.id} exists`);
      throw error;
    }
    await this.putEvent(cluster, message);
  }

  async getCluster(id: string): Promise<Cluster | null> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: clusterKey(id), ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : null;
  }

  async updateCluster(id: string, mutate: ClusterMutation, known?: Cluster): Promise<Cluster> {
    for (let attempt = 1; ; attempt++) {
      const current = attempt === 1 && known?.id === id ? known : await this.getCluster(id);
      if (!current) throw new NotFound(`cluster ${id} not found`);
      const change = mutate(structuredClone(current));
      if (!change) return current;
      const next: Cluster = {
        ...change.cluster,
        id: current.id,
        project: current.project,
        createdAt: current.createdAt,
        version: current.version + 1,
        updatedAt: new Date().toISOString(),
      };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: toItem(next),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': current.version },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          if (attempt >= MAX_UPDATE_ATTEMPTS) throw new VersionConflict(`cluster ${id} keeps changing; gave up after ${attempt} attempts`);
          continue;
        }
        throw error;
      }
      if (next.status !== current.status || next.phase !== current.phase) await this.putEvent(next, change.message);
      return next;
    }
  }

  /** Event sort keys carry the record's version, so a repeated put of the same change overwrites itself. */
  private async putEvent(cluster: Cluster, message: string): Promise<void> {
    const at = cluster.updatedAt;
    const change: StatusChange = {
      at,
      status: cluster.status,
      phase: cluster.phase,
      message,
      clusterId: cluster.id,
      project: cluster.project,
      error: cluster.error,
      callbackUrl: cluster.spec.callbackUrl ?? null,
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `CLUSTER#${cluster.id}`, sk: `EVENT#${at}#${String(cluster.version).padStart(8, '0')}`, type: STATUS_CHANGE_TYPE, ...change },
      }),
    );
    this.onStatusChange?.(change);
  }

  async addTimelineNote(change: Pick<StatusChange, 'clusterId' | 'status' | 'phase'>, message: string): Promise<void> {
    const at = new Date().toISOString();
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `CLUSTER#${change.clusterId}`,
          // After the change it notes, and never equal to a status change's key.
          sk: `EVENT#${at}#note-${randomUUID()}`,
          type: 'note',
          at,
          status: change.status,
          phase: change.phase,
          message,
        },
      }),
    );
  }

  webhookSecret(project: string): Promise<string> {
    return this.secret({ pk: `WEBHOOK#${project}`, sk: 'SECRET' }, { type: 'webhook-secret', project });
  }

  /**
   * The page-token secret kept in the table, for local mode (no Secrets Manager there); it
   * persists with the local data, so a client's token outlives a restart.
   */
  pageTokenSecret(): Promise<string> {
    this.pageSecret ??= this.secret({ pk: 'PAGE_TOKEN_SECRET', sk: 'SECRET' }, { type: 'page-token-secret' }).catch((error: unknown) => {
      this.pageSecret = undefined;
      throw error;
    });
    return this.pageSecret;
  }

  /** A random 32-byte secret kept in the item at `key`, made by whichever first use writes first. */
  private async secret(key: { pk: string; sk: string }, attributes: Record<string, string>): Promise<string> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    if (typeof Item?.secret === 'string') return Item.secret;
    const secret = randomBytes(32).toString('base64url');
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...key, ...attributes, secret }, ConditionExpression: 'attribute_not_exists(pk)' }));
      return secret;
    } catch (error) {
      // Two first uses at once: the one written first is the secret.
      if (error instanceof ConditionalCheckFailedException) return this.secret(key, attributes);
      throw error;
    }
  }

  async listEvents(id: string): Promise<ClusterEvent[]> {
    const events: ClusterEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `CLUSTER#${id}`, ':prefix': 'EVENT#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        events.push({
          at: String(item.at),
          status: item.status as ClusterStatus,
          phase: item.phase as ClusterEvent['phase'],
          message: String(item.message ?? ''),
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
  }

  async listClusters(project: string, options: { limit: number; nextToken?: string; status?: ClusterStatus }): Promise<Page<Cluster>> {
    const items: Cluster[] = [];
    let startKey = decodeToken(options.nextToken);
    // DynamoDB applies Limit before the filter: ask only for what is still missing, so every
    // item a query reads is either taken or filtered out, and the last key is an exact cursor.
    do {
      const input: QueryCommandInput = {
        TableName: this.table,
        IndexName: PROJECT_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `PROJECT#${project}`, ...(options.status ? { ':status': options.status } : {}) },
        ...(options.status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ScanIndexForward: false,
        Limit: options.limit - items.length,
        ExclusiveStartKey: startKey,
      };
      const page = await this.doc.send(new QueryCommand(input));
      items.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < options.limit);
    const nextToken = encodeToken(startKey);
    return { items, ...(nextToken ? { nextToken } : {}) };
  }

  async findClustersByStatus(statuses: readonly ClusterStatus[]): Promise<Cluster[]> {
    const clusters: Cluster[] = [];
    const values = Object.fromEntries(statuses.map((status, i) => [`:s${i}`, status]));
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: `sk = :meta AND #status IN (${Object.keys(values).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':meta': 'META', ...values },
          ExclusiveStartKey: startKey,
        }),
      );
      clusters.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return clusters;
  }

  async getQuota(project: string): Promise<QuotaRecord> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: quotaKey(project), ConsistentRead: true }));
    return toQuota(Item);
  }

  async reserveQuota(project: string, amounts: QuotaAmounts, limits: QuotaAmounts): Promise<void> {
    const over = QUOTA_RESOURCES.filter((resource) => amounts[resource] > limits[resource]);
    if (over.length === 0) {
      try {
        // DynamoDB conditions cannot add: compare the current usage with limit − amount instead.
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: quotaKey(project),
            UpdateExpression: 'ADD #vcpus :vcpus, #servers :servers, #clusters :clusters SET #type = :type',
            ConditionExpression: QUOTA_RESOURCES.map((r) => `(attribute_not_exists(#${r}) OR #${r} <= :max_${r})`).join(' AND '),
            ExpressionAttributeNames: { '#type': 'type', ...QUOTA_NAMES },
            ExpressionAttributeValues: {
              ':type': 'quota',
              ...Object.fromEntries(QUOTA_RESOURCES.map((r) => [`:${r}`, amounts[r]])),
              ...Object.fromEntries(QUOTA_RESOURCES.map((r) => [`:max_${r}`, limits[r] - amounts[r]])),
            },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    const { usage } = await this.getQuota(project);
    const exceeded = QUOTA_RESOURCES.filter((r) => usage[r] + amounts[r] > limits[r]);
    const named = exceeded.length > 0 ? exceeded : over;
    throw new QuotaExceeded(
      `the project's quota would be exceeded: ${named.map((r) => `${r} (using ${usage[r]}, asking ${amounts[r]}, limit ${limits[r]})`).join(', ')}`,
      named.map((r) => ({ path: r, message: `using ${usage[r]} of ${limits[r]}; this request needs ${amounts[r]}` })),
    );
  }

  async releaseQuota(project: string, amounts: QuotaAmounts): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: quotaKey(project),
        UpdateExpression: 'ADD #vcpus :vcpus, #servers :servers, #clusters :clusters',
        ExpressionAttributeNames: QUOTA_NAMES,
        ExpressionAttributeValues: Object.fromEntries(QUOTA_RESOURCES.map((r) => [`:${r}`, -amounts[r]])),
      }),
    );
  }

  async setQuotaLimits(project: string, limits: Partial<QuotaAmounts>, reset: readonly QuotaResource[] = []): Promise<QuotaRecord> {
    const set = QUOTA_RESOURCES.filter((r) => limits[r] !== undefined);
    const removed = QUOTA_RESOURCES.filter((r) => reset.includes(r));
    const both = set.filter((r) => removed.includes(r));
    if (both.length > 0) throw new Error(`a quota limit cannot be both set and reset: ${both.join(', ')}`);
    const names = (resources: readonly QuotaResource[]) => Object.fromEntries(resources.map((r) => [`#${r}`, r]));

    // DynamoDB cannot SET a path inside a map that does not exist, nor make the map and a path in
    // it in one expression (the paths overlap). So: change just the named entries of an existing
    // map; where there is none, write the map whole on condition that there still is none. A
    // writer slipping in between fails the other's condition, and the loop goes round again.
    for (let attempt = 1; ; attempt++) {
      try {
        const clauses = [`SET ${[...set.map((r) => `#limits.#${r} = :${r}`), '#type = :type'].join(', ')}`];
        if (removed.length > 0) clauses.push(`REMOVE ${removed.map((r) => `#limits.#${r}`).join(', ')}`);
        const { Attributes } = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: quotaKey(project),
            UpdateExpression: clauses.join(' '),
            ConditionExpression: 'attribute_type(#limits, :map)',
            ExpressionAttributeNames: { '#limits': 'limits', '#type': 'type', ...names([...set, ...removed]) },
            ExpressionAttributeValues: { ':map': 'M', ':type': 'quota', ...Object.fromEntries(set.map((r) => [`:${r}`, limits[r]])) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toQuota(Attributes);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // No map, so nothing to remove; a reset alone changes nothing.
      if (set.length === 0) return this.getQuota(project);
      try {
        const { Attributes } = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: quotaKey(project),
            UpdateExpression: 'SET #limits = :limits, #type = :type',
            ConditionExpression: 'NOT attribute_type(#limits, :map)',
            ExpressionAttributeNames: { '#limits': 'limits', '#type': 'type' },
            ExpressionAttributeValues: { ':limits': Object.fromEntries(set.map((r) => [r, limits[r]])), ':map': 'M', ':type': 'quota' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toQuota(Attributes);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        if (attempt >= MAX_UPDATE_ATTEMPTS) throw new VersionConflict(`the quota of project ${project} keeps changing; gave up after ${attempt} attempts`);
      }
    }
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | null> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...idempotencyKey(record.project, record.key), type: 'idempotency', ...record, ttl: epochSeconds(record.expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return null;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: idempotencyKey(record.project, record.key), ConsistentRead: true }),
    );
    if (!Item) return this.claimIdempotencyKey(record);
    const { pk: _pk, sk: _sk, type: _type, ttl: _ttl, ...existing } = Item;
    // An expired record DynamoDB's TTL has not removed yet counts as absent.
    if (Date.parse(String(existing.expiresAt)) <= Date.now()) {
      return (await this.takeOverIdempotencyKey(record, String(existing.createdAt))) ? null : this.claimIdempotencyKey(record);
    }
    return existing as unknown as IdempotencyRecord;
  }

  async completeIdempotencyKey(project: string, key: string, response: NonNullable<IdempotencyRecord['response']>): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: idempotencyKey(project, key),
        UpdateExpression: 'SET #state = :completed, #response = :response',
        ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
        ExpressionAttributeValues: { ':completed': 'COMPLETED', ':response': response },
      }),
    );
  }

  async releaseIdempotencyKey(project: string, key: string, createdAt: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: idempotencyKey(project, key),
          ConditionExpression: 'createdAt = :createdAt',
          ExpressionAttributeValues: { ':createdAt': createdAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async takeOverIdempotencyKey(record: IdempotencyRecord, previousCreatedAt: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...idempotencyKey(record.project, record.key), type: 'idempotency', ...record, ttl: epochSeconds(record.expiresAt) },
          ConditionExpression: 'createdAt = :previous',
          ExpressionAttributeValues: { ':previous': previousCreatedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async putToken(token: TokenRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...tokenKey(token.hash),
          type: 'token',
          gsi1pk: `TOKENS#${token.project}`,
          gsi1sk: `${token.createdAt}#${token.hash}`,
          ...token,
          // DynamoDB's TTL removes expired tokens some time after expiry; the authorizer refuses them at once.
          ...(token.expiresAt ? { expiresAt: token.expiresAt, ttl: Math.ceil(Date.parse(token.expiresAt) / 1000) } : {}),
        },
      }),
    );
  }

  async getToken(hash: string): Promise<TokenRecord | null> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: tokenKey(hash) }));
    return Item ? toToken(Item) : null;
  }

  async listTokens(project?: string): Promise<TokenRecord[]> {
    const tokens: TokenRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        project
          ? new QueryCommand({
              TableName: this.table,
              IndexName: PROJECT_INDEX,
              KeyConditionExpression: 'gsi1pk = :pk',
              ExpressionAttributeValues: { ':pk': `TOKENS#${project}` },
              ExclusiveStartKey: startKey,
            })
          : new ScanCommand({
              TableName: this.table,
              FilterExpression: '#type = :token',
              ExpressionAttributeNames: { '#type': 'type' },
              ExpressionAttributeValues: { ':token': 'token' },
              ExclusiveStartKey: startKey,
            }),
      );
      tokens.push(...(page.Items ?? []).map(toToken));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return tokens.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revokeToken(hash: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: tokenKey(hash),
          UpdateExpression: 'SET revoked = :true, revokedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true, ':now': new Date().toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
