/** GET /v1/clusters/{id} — one cluster of the caller's project. */
import type { ClusterStore } from '#domain/store';
import type { ConsoleUrlFor } from '#domain/workflow';
import { findOwnCluster, toClusterView } from '#use-cases/get-cluster';
import { httpHandler, json, projectOf } from '#lib/http';

export const getClusterHandler = (deps: { store: ClusterStore; consoleUrlFor: ConsoleUrlFor }) =>
  httpHandler(async (event) => {
    const cluster = await findOwnCluster(deps.store, projectOf(event), event.pathParameters?.id);
    return json(200, toClusterView(cluster, deps.consoleUrlFor));
  });
