/**
 * The create routes: `POST /backend/create_lambda_instance` (the seed's call, answered
 * 202 {"uuid"}) and `POST /v1/clusters` (native, with dry runs). Two doors into one use case.
 */
import { z } from 'zod';
import { compatCreateRequestSchema, type CompatCreateRequest } from '#domain/compat-request';
import { nativeCreateRequestSchema, type NativeCreateRequest } from '#domain/native-request';
import type { Cluster, ClusterSpec } from '#domain/model';
import type { IdempotencyStore } from '#domain/idempotency-store';
import type { WebhookSecretStore } from '#domain/webhook-secret-store';
import { createCluster, type CreateClusterDeps } from '#use-cases/create-cluster';
import { dryRun } from '#use-cases/dry-run';
import { IDEMPOTENCY_KEY_HEADER, runIdempotently, type StoredResponse } from '#use-cases/idempotency';
import { clusterLinks } from '#use-cases/read-clusters';
import { prepareCompatSpec, prepareNativeSpec, type SpecDeps } from '#use-cases/prepare-spec';
import { httpHandler, json, projectOf, type ApiEvent } from '#lib/http';
import { logger } from '#lib/logger';
import { router } from '#lib/router';
import { SIGNATURE_HEADER } from '#domain/webhooks';

export interface CreateClusterHandlerDeps extends CreateClusterDeps, SpecDeps {
  idempotencyKeys: IdempotencyStore;
  /** For GET /v1/webhook-secret, which this function serves. */
  webhookSecrets: WebhookSecretStore;
  pollSeconds: number;
}

/** The native create's one parameter; the compat door has none, as the seed's call has none. */
const nativeCreateQuerySchema = z.strictObject({
  dryRun: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
});
type NativeCreateQuery = z.infer<typeof nativeCreateQuerySchema>;

export const createClusterHandler = (deps: CreateClusterHandlerDeps) => {
  /** Both doors: one idempotent create, answered in each door's own shape. */
  const create = (
    event: ApiEvent<Record<string, unknown>, unknown>,
    route: string,
    spec: ClusterSpec,
    answer: (cluster: Cluster) => StoredResponse,
  ): Promise<StoredResponse> => {
    const project = projectOf(event);
    return runIdempotently({
      idempotencyKeys: deps.idempotencyKeys,
      project,
      key: event.headers[IDEMPOTENCY_KEY_HEADER],
      route,
      body: event.body,
      run: async (id) => {
        const cluster = await createCluster(deps, { project, spec, request: event.body, id });
        logger.info('cluster accepted', { clusterId: cluster.id, project });
        return answer(cluster);
      },
    });
  };

  const compat = httpHandler<CompatCreateRequest>(
    async (event) => {
      const spec = prepareCompatSpec(deps, event.body);
      return create(event, 'POST /backend/create_lambda_instance', spec, (cluster) => ({
        statusCode: 202,
        headers: { 'Content-Type': 'application/json' },
        // The seed service's answer, byte for byte.
        body: `{"uuid": "${cluster.id}"}`,
      }));
    },
    { body: compatCreateRequestSchema },
  );

  const native = httpHandler<NativeCreateRequest, NativeCreateQuery>(
    async (event) => {
      const spec = prepareNativeSpec(deps, event.body);
      if (event.query.dryRun === 'true') return json(200, await dryRun(deps, projectOf(event), spec));
      return create(event, 'POST /v1/clusters', spec, (cluster) => {
        const links = clusterLinks(cluster.id);
        return {
          statusCode: 202,
          headers: { 'Content-Type': 'application/json', Location: links.self },
          body: JSON.stringify({ id: cluster.id, status: cluster.status, links }),
        };
      });
    },
    { body: nativeCreateRequestSchema, query: nativeCreateQuerySchema },
  );

  // The project's key for checking the X-Signature-256 of its webhooks (made on first use).
  const webhookSecret = httpHandler(async (event) =>
    json(200, { secret: await deps.webhookSecrets.secretOf(projectOf(event)), header: SIGNATURE_HEADER, algorithm: 'HMAC-SHA256 of the raw body, hex, prefixed sha256=' }),
  );

  return router({
    'POST /backend/create_lambda_instance': compat,
    'POST /v1/clusters': native,
    'GET /v1/webhook-secret': webhookSecret,
  });
};
