/**
 * The service's single table: every key, the project index, the item `type`s, and the mapping
 * between items and the domain's records. The stores, the CDK stack, the local table, the local
 * stand-in for the table's stream and the status publisher all read this file, so no two of them
 * can disagree on a key (a test refuses key prefixes spelt anywhere else).
 *
 *   pk=CLUSTER#<id>                 sk=META                          the cluster (version for optimistic locking)
 *   pk=CLUSTER#<id>                 sk=EVENT#<iso-time>#<version>    a status change (version zero-padded to 8)
 *   pk=CLUSTER#<id>                 sk=EVENT#<iso-time>#note-<uuid>  a timeline note
 *   pk=TOKEN#<sha256>               sk=TOKEN                         token → project
 *   pk=QUOTA#<project>              sk=QUOTA                         usage counters vcpus, servers, clusters;
 *                                                                    the project's own limits in the map `limits`
 *   pk=IDEMPOTENCY#<project>#<key>  sk=IDEMPOTENCY                   a create request's claim and answer
 *   pk=WEBHOOK#<project>            sk=SECRET                        the project's webhook signing secret
 *   pk=PAGE_TOKEN_SECRET            sk=SECRET                        the local runtime's page-token key
 *   pk=NODE_REPORT_SECRET           sk=SECRET                        the local runtime's node-report key (cloud-init runner)
 *
 * Index `byProject` (gsi1pk, gsi1sk): PROJECT#<project> / <createdAt>#<id> lists a project's
 * clusters newest first, TOKENS#<project> / <createdAt>#<hash> its tokens.
 */
import type { Cluster, ClusterEvent, ClusterStatus, StatusChange } from '#domain/model';
import type { IdempotencyRecord } from '#domain/idempotency-store';
import { QUOTA_RESOURCES, type QuotaAmounts, type QuotaRecord } from '#domain/quota-store';
import type { TokenRecord } from '#domain/token-store';

export const PROJECT_INDEX = 'byProject';

export const ITEM_TYPES = {
  cluster: 'cluster',
  statusChange: 'event',
  note: 'note',
  token: 'token',
  quota: 'quota',
  idempotency: 'idempotency',
  webhookSecret: 'webhook-secret',
  pageTokenSecret: 'page-token-secret',
  nodeReportSecret: 'node-report-secret',
} as const;
/** The `type` of timeline items that are status changes: what the table's stream publishes. */
export const STATUS_CHANGE_TYPE = ITEM_TYPES.statusChange;

export interface TableKey {
  pk: string;
  sk: string;
}
type Item = Record<string, unknown>;

/** The key of any item: what a stream record's `Keys` holds. */
export const keyOf = (item: TableKey): TableKey => ({ pk: item.pk, sk: item.sk });

/** DynamoDB's TTL takes epoch seconds. */
const epochSeconds = (iso: string) => Math.ceil(Date.parse(iso) / 1000);

// Clusters

/** The sort key of cluster records, and of nothing else: what a scan for clusters filters on. */
export const CLUSTER_SORT_KEY = 'META';
const clusterPartition = (id: string) => `CLUSTER#${id}`;
export const clusterKey = (id: string): TableKey => ({ pk: clusterPartition(id), sk: CLUSTER_SORT_KEY });
/** The index partition holding a project's clusters. */
export const projectClustersPartition = (project: string) => `PROJECT#${project}`;

export const clusterItem = (cluster: Cluster) => ({
  ...clusterKey(cluster.id),
  type: ITEM_TYPES.cluster,
  gsi1pk: projectClustersPartition(cluster.project),
  gsi1sk: `${cluster.createdAt}#${cluster.id}`,
  ...cluster,
});

export const clusterOf = (item: Item): Cluster => {
  const { pk: _pk, sk: _sk, type: _type, gsi1pk: _g1, gsi1sk: _g2, ...cluster } = item;
  return cluster as unknown as Cluster;
};

// The timeline

const EVENT_PREFIX = 'EVENT#';
/** Where a cluster's timeline lies: its partition, and the sort-key prefix of its events. */
export const timelineOf = (clusterId: string) => ({ pk: clusterPartition(clusterId), sortKeyPrefix: EVENT_PREFIX });

/** The record's version in the key makes a repeated write of the same change overwrite itself. */
export const statusChangeKey = (clusterId: string, at: string, version: number): TableKey => ({
  pk: clusterPartition(clusterId),
  sk: `${EVENT_PREFIX}${at}#${String(version).padStart(8, '0')}`,
});

export type StatusChangeItem = TableKey & { type: typeof STATUS_CHANGE_TYPE } & StatusChange;

/** The status change a cluster record just written stands for, as the timeline keeps it. */
export const statusChangeItem = (cluster: Cluster, message: string): StatusChangeItem => ({
  ...statusChangeKey(cluster.id, cluster.updatedAt, cluster.version),
  type: STATUS_CHANGE_TYPE,
  at: cluster.updatedAt,
  status: cluster.status,
  phase: cluster.phase,
  message,
  clusterId: cluster.id,
  project: cluster.project,
  error: cluster.error,
  callbackUrl: cluster.spec.callbackUrl ?? null,
});

/** A note sorts after the change it notes, and `id` keeps it from ever taking a status change's key. */
export const noteItem = (change: Pick<StatusChange, 'clusterId' | 'status' | 'phase'>, message: string, at: string, id: string) => ({
  pk: clusterPartition(change.clusterId),
  sk: `${EVENT_PREFIX}${at}#note-${id}`,
  type: ITEM_TYPES.note,
  at,
  status: change.status,
  phase: change.phase,
  message,
});

export const eventOf = (item: Item): ClusterEvent => ({
  at: String(item.at),
  status: item.status as ClusterStatus,
  phase: item.phase as ClusterEvent['phase'],
  message: String(item.message ?? ''),
});

/** The status change an item holds, or null for any other item (notes, clusters, tokens…). */
export const statusChangeOf = (item: object): StatusChange | null => {
  if (!('type' in item) || item.type !== STATUS_CHANGE_TYPE) return null;
  const { pk: _pk, sk: _sk, type: _type, ...change } = item as Item;
  return change as unknown as StatusChange;
};

// Tokens

export const tokenKey = (hash: string): TableKey => ({ pk: `TOKEN#${hash}`, sk: 'TOKEN' });
/** The index partition holding a project's tokens. */
export const projectTokensPartition = (project: string) => `TOKENS#${project}`;

export const tokenItem = (token: TokenRecord) => ({
  ...tokenKey(token.hash),
  type: ITEM_TYPES.token,
  gsi1pk: projectTokensPartition(token.project),
  gsi1sk: `${token.createdAt}#${token.hash}`,
  ...token,
  // DynamoDB's TTL removes expired tokens some time after expiry; the authorizer refuses them at once.
  ...(token.expiresAt ? { expiresAt: token.expiresAt, ttl: epochSeconds(token.expiresAt) } : {}),
});

export const tokenOf = (item: Item): TokenRecord => ({
  hash: String(item.hash),
  project: String(item.project),
  createdAt: String(item.createdAt),
  expiresAt: typeof item.expiresAt === 'string' ? item.expiresAt : null,
  revoked: item.revoked === true,
  ...(typeof item.description === 'string' ? { description: item.description } : {}),
});

// Quotas

export const quotaKey = (project: string): TableKey => ({ pk: `QUOTA#${project}`, sk: 'QUOTA' });

/** A missing item is a project that holds nothing and has no limits of its own. */
export const quotaOf = (item: Item | undefined): QuotaRecord => {
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  const limits = (item?.limits ?? {}) as Partial<QuotaAmounts>;
  return {
    usage: { vcpus: number(item?.vcpus), servers: number(item?.servers), clusters: number(item?.clusters) },
    limits: Object.fromEntries(QUOTA_RESOURCES.filter((r) => typeof limits[r] === 'number').map((r) => [r, limits[r]])),
  };
};

// Idempotency keys

export const idempotencyKey = (project: string, key: string): TableKey => ({ pk: `IDEMPOTENCY#${project}#${key}`, sk: 'IDEMPOTENCY' });

export const idempotencyItem = (record: IdempotencyRecord) => ({
  ...idempotencyKey(record.project, record.key),
  type: ITEM_TYPES.idempotency,
  ...record,
  ttl: epochSeconds(record.expiresAt),
});

export const idempotencyOf = (item: Item): IdempotencyRecord => {
  const { pk: _pk, sk: _sk, type: _type, ttl: _ttl, ...record } = item;
  return record as unknown as IdempotencyRecord;
};

// Secrets

/** Where a secret is kept, and what its item says it is. */
export interface SecretSlot {
  key: TableKey;
  attributes: Record<string, string>;
}

export const webhookSecretSlot = (project: string): SecretSlot => ({
  key: { pk: `WEBHOOK#${project}`, sk: 'SECRET' },
  attributes: { type: ITEM_TYPES.webhookSecret, project },
});

export const PAGE_TOKEN_SECRET_SLOT: SecretSlot = { key: { pk: 'PAGE_TOKEN_SECRET', sk: 'SECRET' }, attributes: { type: ITEM_TYPES.pageTokenSecret } };

export const NODE_REPORT_SECRET_SLOT: SecretSlot = { key: { pk: 'NODE_REPORT_SECRET', sk: 'SECRET' }, attributes: { type: ITEM_TYPES.nodeReportSecret } };

export const secretItem = (slot: SecretSlot, secret: string) => ({ ...slot.key, ...slot.attributes, secret });

export const secretOf = (item: Item | undefined): string | null => (typeof item?.secret === 'string' ? item.secret : null);
