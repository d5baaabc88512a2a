/**
 * The persistence port. Only single-item conditional writes: the design needs no transactions
 * (and the local DynamoDB emulator has none).
 */
import type { Cluster, ClusterEvent, ClusterStatus } from './model.ts';

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
   * or phase change also appends an event to the timeline.
   */
  updateCluster(id: string, mutate: ClusterMutation): Promise<Cluster>;
  listEvents(id: string): Promise<ClusterEvent[]>;
  listClusters(project: string, options: { limit: number; nextToken?: string }): Promise<Page<Cluster>>;
  /** Clusters whose status is one of `statuses`, across projects (restart recovery). */
  findClustersByStatus(statuses: readonly ClusterStatus[]): Promise<Cluster[]>;

  putToken(token: TokenRecord): Promise<void>;
  getToken(hash: string): Promise<TokenRecord | null>;
  /** Tokens of one project (or of all), oldest first; hashes only. */
  listTokens(project?: string): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when no token has that hash. */
  revokeToken(hash: string): Promise<boolean>;
}
