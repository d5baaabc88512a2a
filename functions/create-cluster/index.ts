/** POST /backend/create_lambda_instance — the seed's create call, answered 202 {"uuid"}. */
import { compatCreateRequestSchema, compatToSpec, type CompatCreateRequest } from '#domain/compat-request';
import { createCluster, type CreateClusterDeps } from '#use-cases/create-cluster';
import { httpHandler, projectOf } from '#lib/http';
import { logger } from '#lib/logger';

export interface CreateClusterHandlerDeps extends CreateClusterDeps {
  defaultProvider: string;
}

export const createClusterHandler = (deps: CreateClusterHandlerDeps) =>
  httpHandler<CompatCreateRequest>(
    async (event) => {
      const project = projectOf(event);
      const cluster = await createCluster(deps, {
        project,
        spec: compatToSpec(event.body, deps.defaultProvider),
        request: event.body,
      });
      logger.info('cluster accepted', { clusterId: cluster.id, project });
      // The seed service's answer, byte for byte.
      return {
        statusCode: 202,
        headers: { 'Content-Type': 'application/json' },
        body: `{"uuid": "${cluster.id}"}`,
      };
    },
    { body: compatCreateRequestSchema },
  );
