/** The change routes: destroy, stop and start (native and compat) and retry. */
import { compatStatus } from '#domain/compat-view';
import { compatActionRequestSchema, type CompatActionRequest } from '#domain/compat-request';
import type { PowerAction } from '#domain/lifecycle';
import { changeOwnClusterPower, destroyOwnCluster, retryOwnCluster, type ChangeClusterDeps } from '#use-cases/change-cluster';
import { clusterLinks } from '#use-cases/read-clusters';
import { httpHandler, json, projectOf } from '#lib/http';
import { logger } from '#lib/logger';
import { router } from '#lib/router';

export const changeClusterHandler = (deps: ChangeClusterDeps) => {
  const power = (action: PowerAction) =>
    httpHandler(async (event) => {
      const cluster = await changeOwnClusterPower(deps, projectOf(event), event.pathParameters?.id, action);
      logger.info(`${action} accepted`, { clusterId: cluster.id });
      return json(202, { id: cluster.id, status: cluster.status, links: clusterLinks(cluster.id) });
    });
  return router({
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
    'POST /v1/clusters/{id}/stop': power('stop'),
    'POST /v1/clusters/{id}/start': power('start'),
    'DELETE /backend/lambda-instances/{uuid}': httpHandler(async (event) => {
      const cluster = await destroyOwnCluster(deps, projectOf(event), event.pathParameters?.uuid);
      return json(202, { uuid: cluster.id, status: compatStatus(cluster) });
    }),
    'POST /backend/lambda-instances/{uuid}': httpHandler<CompatActionRequest>(
      async (event) => {
        const cluster = await changeOwnClusterPower(deps, projectOf(event), event.pathParameters?.uuid, event.body.action);
        return json(202, { uuid: cluster.id, status: compatStatus(cluster) });
      },
      { body: compatActionRequestSchema },
    ),
  });
};
