/**
 * The clusters and their timelines. Only single-item conditional writes: the design needs no
 * transactions (and the local DynamoDB emulator has none).
 */
import type { Cluster, ClusterEvent, ClusterStatus, StatusChange } from './model.ts';

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
  /** A project's clusters, newest first; with `status`, only those, `limit` of them per page. */
  listClusters(project: string, options: { limit: number; nextToken?: string; status?: ClusterStatus }): Promise<Page<Cluster>>;
  /** Clusters whose status is one of `statuses`, across projects (restart recovery, expiry). */
  findClustersByStatus(statuses: readonly ClusterStatus[]): Promise<Cluster[]>;
}
