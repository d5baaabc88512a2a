/** Reading clusters, in the response shapes of docs/api.md. */
import { NotFound } from '#domain/errors';
import type { Cluster, ClusterStatus } from '#domain/model';
import type { ClusterStore, Page } from '#domain/cluster-store';
import type { ConsoleUrlFor } from '#domain/workflow';
import { openPageToken, sealPageToken } from './page-tokens.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cluster of the caller's project; any other project's cluster is as absent as an unknown id. */
export const findOwnCluster = async (clusters: ClusterStore, project: string, id: string | undefined): Promise<Cluster> => {
  const cluster = id && UUID.test(id) ? await clusters.getCluster(id) : null;
  if (!cluster || cluster.project !== project) throw new NotFound(`cluster ${id ?? ''} not found`);
  return cluster;
};

export const clusterLinks = (id: string) => ({ self: `/v1/clusters/${id}`, events: `/v1/clusters/${id}/events` });

export const toClusterView = (cluster: Cluster, consoleUrlFor: ConsoleUrlFor) => {
  // The execution that acts on the cluster now: the destroy one once there is one, else the latest stop or start.
  const executionId = cluster.destroyExecutionId ?? cluster.powerExecutionId ?? cluster.executionId;
  const consoleUrl = executionId ? consoleUrlFor(executionId) : null;
  return {
    id: cluster.id,
    name: cluster.name,
    project: cluster.project,
    provider: cluster.provider,
    status: cluster.status,
    phase: cluster.phase,
    createdAt: cluster.createdAt,
    updatedAt: cluster.updatedAt,
    servers: cluster.servers.map((server) => ({
      id: server.id,
      name: server.name,
      role: server.role,
      state: server.state,
      privateIp: server.privateIp,
      publicIp: server.publicIp,
      // Beyond the base shape (docs/api.md): present once the configuration run has reported the node.
      ...(server.configuration ? { configuration: server.configuration } : {}),
    })),
    ...(cluster.error ? { error: cluster.error } : {}),
    execution: { id: executionId, ...(consoleUrl ? { consoleUrl } : {}) },
    links: clusterLinks(cluster.id),
  };
};

export const LIST_LIMIT = { default: 20, max: 100 } as const;

/** What listing needs: the clusters, and the secret that seals its page tokens. */
export interface ListClustersDeps {
  clusters: ClusterStore;
  pageTokenSecret: () => Promise<string>;
}

/**
 * The project's clusters, newest first, optionally of one status. `nextToken` is a sealed page
 * token (page-tokens.ts) bound to the project and the status filter, never the store's cursor.
 */
export const listOwnClusters = async (
  deps: ListClustersDeps,
  project: string,
  options: { limit: number; nextToken?: string; status?: ClusterStatus },
): Promise<Page<Cluster>> => {
  const secret = await deps.pageTokenSecret();
  const binding = { project, query: { status: options.status } };
  const cursor = options.nextToken === undefined ? undefined : openPageToken(secret, binding, options.nextToken);
  const page = await deps.clusters.listClusters(project, {
    limit: options.limit,
    ...(cursor ? { nextToken: cursor } : {}),
    ...(options.status ? { status: options.status } : {}),
  });
  return { items: page.items, ...(page.nextToken ? { nextToken: sealPageToken(secret, binding, page.nextToken) } : {}) };
};
