/**
 * The persistence port. Only single-item conditional writes: the design needs no transactions
 * (and the local DynamoDB emulator has none).
 */
import type { Cluster, ClusterEvent, ClusterStatus, StatusChange } from './model.ts';

export interface TokenRecord {
  /** SHA-256 of the token, hex. The token itself is never stored. */
  hash: string;
  project: string;
  createdAt: string;
  /** ISO time after which the token is refused; null = no expiry. */
  expiresAt: string | null;
  revoked: boolean;
  description?: string;
}

/** Amounts a project's quota counts: what its live clusters hold. */
export interface QuotaAmounts {
  vcpus: number;
  servers: number;
  clusters: number;
}

export type QuotaResource = keyof QuotaAmounts;
/** The resources a quota counts, in the order they are shown. */
export const QUOTA_RESOURCES = ['vcpus', 'servers', 'clusters'] as const satisfies readonly QuotaResource[];

export interface QuotaRecord {
  usage: QuotaAmounts;
  /** Limits set for this project; the deployment's defaults apply to the others. */
  limits: Partial<QuotaAmounts>;
}

/** A stored answer to a create request made with an Idempotency-Key. */
export interface IdempotencyRecord {
  project: string;
  key: string;
  /** SHA-256 of the request (route and body): the same key with another body is a conflict. */
  fingerprint: string;
  /** The id the first request gave its cluster; a replay or a takeover uses it again. */
  clusterId: string;
  state: 'IN_PROGRESS' | 'COMPLETED';
  response?: { statusCode: number; headers: Record<string, string>; body: string };
  createdAt: string;
  expiresAt: string;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** A change made by `updateCluster`: the new record, and the timeline line to add when status or phase moved. */
export type ClusterMutation = (current: Cluster) => { cluster: Cluster; message: string } | null;

export interface ClusterStore {
  /** Writes a new cluster and its first event; fails with `Conflict` if the id exists. */
  createCluster(cluster: Cluster, message: string): Promise<void>;
  getCluster(id: string): Promise<Cluster | null>;
  /**
   * Read-modify-write under optimistic locking: `mutate` sees the current record and returns the
   * new one (or null for no change). Conflicting writers are retried with a fresh read. A status
   * or phase change also appends an event to the timeline. `known` (a record just read) saves
   * the first read; if it is stale, the conditional write fails and the loop reads afresh.
   */
  updateCluster(id: string, mutate: ClusterMutation, known?: Cluster): Promise<Cluster>;
  /** The timeline: status and phase changes, and notes such as webhook outcomes, in order. */
  listEvents(id: string): Promise<ClusterEvent[]>;
  /** Adds a note to the timeline that is not a status change (it is not published again). */
  addTimelineNote(change: Pick<StatusChange, 'clusterId' | 'status' | 'phase'>, message: string): Promise<void>;
  /** The project's webhook signing secret, made on first use. */
  webhookSecret(project: string): Promise<string>;
  /** A project's clusters, newest first; with `status`, only those, `limit` of them per page. */
  listClusters(project: string, options: { limit: number; nextToken?: string; status?: ClusterStatus }): Promise<Page<Cluster>>;
  /** Clusters whose status is one of `statuses`, across projects (restart recovery). */
  findClustersByStatus(statuses: readonly ClusterStatus[]): Promise<Cluster[]>;

  getQuota(project: string): Promise<QuotaRecord>;
  /**
   * Adds `amounts` to the project's usage only if every resulting figure stays within `limits`
   * (one conditional write: race-free); throws `QuotaExceeded` naming each resource over.
   */
  reserveQuota(project: string, amounts: QuotaAmounts, limits: QuotaAmounts): Promise<void>;
  releaseQuota(project: string, amounts: QuotaAmounts): Promise<void>;
  /**
   * Sets the project's own limit for each resource in `limits` and removes it for each in `reset`
   * (the deployment's default applies again). The other resources' limits are left as they are,
   * so concurrent changes to different resources do not undo each other. A resource may not be
   * in both. Answers the record as written.
   */
  setQuotaLimits(project: string, limits: Partial<QuotaAmounts>, reset?: readonly QuotaResource[]): Promise<QuotaRecord>;

  /** Records a key as IN_PROGRESS unless it exists; answers the existing record otherwise. */
  claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | null>;
  completeIdempotencyKey(project: string, key: string, response: NonNullable<IdempotencyRecord['response']>): Promise<void>;
  /** Forgets a claim whose request failed, so the client may try again with the same key. */
  releaseIdempotencyKey(project: string, key: string, createdAt: string): Promise<void>;
  /** Replaces an IN_PROGRESS record that nobody finished (its holder crashed) with `record`. */
  takeOverIdempotencyKey(record: IdempotencyRecord, previousCreatedAt: string): Promise<boolean>;

  putToken(token: TokenRecord): Promise<void>;
  getToken(hash: string): Promise<TokenRecord | null>;
  /** Tokens of one project (or of all), oldest first; hashes only. */
  listTokens(project?: string): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when no token has that hash. */
  revokeToken(hash: string): Promise<boolean>;
}
