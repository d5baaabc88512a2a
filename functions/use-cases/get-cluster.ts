/** Reading a cluster, in the response shape of design.md §5. */
import { NotFound } from '#domain/errors';
import type { Cluster } from '#domain/model';
import type { ClusterStore } from '#domain/store';
import type { ConsoleUrlFor } from '#domain/workflow';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cluster of the caller's project; any other project's cluster is as absent as an unknown id. */
export const findOwnCluster = async (store: ClusterStore, project: string, id: string | undefined): Promise<Cluster> => {
  const cluster = id && UUID.test(id) ? await store.getCluster(id) : null;
  if (!cluster || cluster.project !== project) throw new NotFound(`cluster ${id ?? ''} not found`);
  return cluster;
};

export const clusterLinks = (id: string) => ({ self: `/v1/clusters/${id}`, events: `/v1/clusters/${id}/events` });

export const toClusterView = (cluster: Cluster, consoleUrlFor: ConsoleUrlFor) => {
  const consoleUrl = cluster.executionId ? consoleUrlFor(cluster.executionId) : null;
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
    })),
    ...(cluster.error ? { error: cluster.error } : {}),
    execution: { id: cluster.executionId, ...(consoleUrl ? { consoleUrl } : {}) },
    links: clusterLinks(cluster.id),
  };
};
