/** The change routes: destroy (native and compat) and retry. */
import { compatStatus } from '#domain/compat-view';
import { destroyOwnCluster, retryOwnCluster, type ChangeClusterDeps } from '#use-cases/change-cluster';
import { clusterLinks } from '#use-cases/read-clusters';
import { httpHandler, json, projectOf } from '#lib/http';
import { logger } from '#lib/logger';
import { router } from '#lib/router';

export const changeClusterHandler = (deps: ChangeClusterDeps) =>
  router({
    'DELETE /v1/clusters/{id}': httpHandler(async (event) => {
      const cluster = await destroyOwnCluster(deps, projectOf(event), event.pathParameters?.id);
      logger.info('destroy accepted', { clusterId: cluster.id });
      return json(202, { id: cluster.id, status: cluster.status, links: clusterLinks(cluster.id) });
    }),
    'POST /v1/clusters/{id}/retry': httpHandler(async (event) => {
      const cluster = await retryOwnCluster(deps, projectOf(event), event.pathParameters?.id);
      logger.info('retry accepted', { clusterId: cluster.id, attempt: cluster.attempt });
      return json(202, { id: cluster.id, status: cluster.status, attempt: cluster.attempt, links: clusterLinks(cluster.id) });
    }),
    'DELETE /backend/lambda-instances/{uuid}': httpHandler(async (event) => {
      const cluster = await destroyOwnCluster(deps, projectOf(event), event.pathParameters?.uuid);
      return json(202, { uuid: cluster.id, status: compatStatus(cluster) });
    }),
  });
