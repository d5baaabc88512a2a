/**
 * The create routes: `POST /backend/create_lambda_instance` (the seed's call, answered
 * 202 {"uuid"}) and `POST /v1/clusters` (native, with dry runs). Two doors into one use case.
 */
import { z } from 'zod';
import { compatCreateRequestSchema, compatToSpec, type CompatCreateRequest } from '#domain/compat-request';
import { nativeCreateRequestSchema, nativeToSpec, type NativeCreateRequest } from '#domain/native-request';
import type { Cluster, ClusterSpec, ConfigurationRunner } from '#domain/model';
import type { ProviderRegistry } from '#domain/providers';
import { createCluster, type CreateClusterDeps } from '#use-cases/create-cluster';
import { dryRun } from '#use-cases/dry-run';
import { IDEMPOTENCY_KEY_HEADER, runIdempotently, type StoredResponse } from '#use-cases/idempotency';
import { clusterLinks } from '#use-cases/read-clusters';
import { checkSpecFits, checkSpecOptions, flavorSizeOn, providerFor } from '#use-cases/validate-spec';
import { httpHandler, json, projectOf, type ApiEvent } from '#lib/http';
import { logger } from '#lib/logger';
import { router } from '#lib/router';
import { SIGNATURE_HEADER } from '#domain/webhooks';

export interface CreateClusterHandlerDeps extends CreateClusterDeps {
  defaultProvider: string;
  /** The runner compat requests get (they cannot name one). */
  defaultConfigurationRunner?: ConfigurationRunner;
  providers: ProviderRegistry;
  pollSeconds: number;
}

/** The seed's field for a size of its master (group 0) or slaves (group 1). */
const compatField = (group: number, field: string): string => {
  const role = group === 0 ? 'master' : 'slave';
  const name = { vcpus: 'vcpus', ramMb: 'ram', diskGb: 'disk' }[field] ?? field;
  return `${name}_${role}`;
};

/** The native create's one parameter; the compat door has none, as the seed's call has none. */
export const nativeCreateQuerySchema = z.strictObject({
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
      store: deps.store,
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
      const spec = compatToSpec(event.body, deps.defaultProvider, deps.defaultConfigurationRunner);
      // Compat bodies name sizes per role: a size no flavor fits is reported on the seed's fields.
      checkSpecFits(spec, providerFor(deps.providers, spec.provider), compatField);
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
      const provider = providerFor(deps.providers, event.body.provider ?? deps.defaultProvider);
      const spec = nativeToSpec(event.body, provider.name, flavorSizeOn(provider));
      checkSpecFits(spec, provider, (i, field) => `nodeGroups.${i}.${field}`);
      checkSpecOptions(spec, provider);
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
    json(200, { secret: await deps.store.webhookSecret(projectOf(event)), header: SIGNATURE_HEADER, algorithm: 'HMAC-SHA256 of the raw body, hex, prefixed sha256=' }),
  );

  return router({
    'POST /backend/create_lambda_instance': compat,
    'POST /v1/clusters': native,
    'GET /v1/webhook-secret': webhookSecret,
  });
};
