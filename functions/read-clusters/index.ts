/**
 * The read routes of both families: native `/v1/clusters…` and the seed service's
 * `/backend/lambda-instances…`, plus the OpenAPI document.
 */
import { z } from 'zod';
import { toCompatInstance, compatStatus } from '#domain/compat-view';
import { CLUSTER_STATUSES } from '#domain/model';
import type { ConsoleUrlFor } from '#domain/workflow';
import { findOwnCluster, LIST_LIMIT, listOwnClusters, toClusterView, type ListClustersDeps } from '#use-cases/read-clusters';
import { httpHandler, json, projectOf } from '#lib/http';
import { openApiDocument } from '#lib/openapi';
import { router } from '#lib/router';

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT.max).default(LIST_LIMIT.default),
  nextToken: z.string().min(1).max(2048).optional(),
  status: z.enum(CLUSTER_STATUSES).optional(),
});

const compatListQuerySchema = listQuerySchema.omit({ status: true });

type ListQuery = z.infer<typeof listQuerySchema>;
type CompatListQuery = z.infer<typeof compatListQuerySchema>;

export const readClustersHandler = (deps: ListClustersDeps & { consoleUrlFor: ConsoleUrlFor }) =>
  router({
    'GET /v1/clusters': httpHandler<unknown, ListQuery>(async (event) => {
      const { limit, nextToken, status } = event.query;
      const page = await listOwnClusters(deps, projectOf(event), { limit, ...(nextToken ? { nextToken } : {}), ...(status ? { status } : {}) });
      return json(200, { items: page.items.map((c) => toClusterView(c, deps.consoleUrlFor)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
    }, { query: listQuerySchema }),
    'GET /v1/clusters/{id}': httpHandler(async (event) => {
      const cluster = await findOwnCluster(deps.clusters, projectOf(event), event.pathParameters?.id);
      return json(200, toClusterView(cluster, deps.consoleUrlFor));
    }),
    'GET /v1/clusters/{id}/events': httpHandler(async (event) => {
      const cluster = await findOwnCluster(deps.clusters, projectOf(event), event.pathParameters?.id);
      return json(200, { items: await deps.clusters.listEvents(cluster.id) });
    }),
    'GET /backend/lambda-instances': httpHandler<unknown, CompatListQuery>(async (event) => {
      const { limit, nextToken } = event.query;
      const page = await listOwnClusters(deps, projectOf(event), { limit, ...(nextToken ? { nextToken } : {}) });
      const next = page.nextToken ? `/backend/lambda-instances?limit=${limit}&nextToken=${encodeURIComponent(page.nextToken)}` : null;
      return json(200, { results: page.items.map(toCompatInstance), next });
    }, { query: compatListQuerySchema }),
    'GET /backend/lambda-instances/{uuid}': httpHandler(async (event) => {
      const cluster = await findOwnCluster(deps.clusters, projectOf(event), event.pathParameters?.uuid);
      return json(200, toCompatInstance(cluster));
    }),
    'GET /backend/lambda-instances/{uuid}/status': httpHandler(async (event) => {
      const cluster = await findOwnCluster(deps.clusters, projectOf(event), event.pathParameters?.uuid);
      return json(200, { uuid: cluster.id, status: compatStatus(cluster) });
    }),
    'GET /v1/openapi.json': httpHandler(async () => json(200, openApiDocument())),
  });
