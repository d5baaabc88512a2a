/**
 * The OpenAPI 3.1 document of the API, generated from the same zod schemas that validate the
 * requests (`GET /v1/openapi.json`). Built once per container: it never changes at run time.
 */
import { z } from 'zod';
import { COMPAT_STATUSES } from '#domain/compat-view';
import { compatActionRequestSchema, compatCreateRequestSchema, SEED_EXAMPLE } from '#domain/compat-request';
import { CLUSTER_STATUSES, NODE_CONFIGURATION_STATES } from '#domain/model';
import { nativeCreateRequestSchema } from '#domain/native-request';
import { nodeReportSchema } from '#domain/node-agents';

/** The request bodies, under their names in the document's components. */
export const REQUEST_BODIES = {
  CompatCreateRequest: compatCreateRequestSchema,
  CompatActionRequest: compatActionRequestSchema,
  NativeCreateRequest: nativeCreateRequestSchema,
  NodeReport: nodeReportSchema,
} as const satisfies Record<string, z.ZodType>;
export type RequestBodyName = keyof typeof REQUEST_BODIES;

export interface JsonSchemaOptions {
  /** The request as sent (defaults absent) or the answer as given. */
  readonly io?: 'input' | 'output';
  /** The JSON Schema dialect. */
  readonly target?: 'draft-2020-12' | 'draft-04';
}

/** A zod schema as JSON Schema, without the `$schema` keyword; the dialect defaults to OpenAPI 3.1's. */
export const jsonSchemaOf = (zodSchema: z.ZodType, { io = 'input', target = 'draft-2020-12' }: JsonSchemaOptions = {}): Record<string, unknown> => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(zodSchema, { io, target, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const schema = (zodSchema: z.ZodType, io: 'input' | 'output' = 'input') => jsonSchemaOf(zodSchema, { io });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schemaRef: object, description: string) => ({ description, content: { 'application/json': { schema: schemaRef } } });
const error = (description: string) => jsonBody(ref('Error'), description);

const serverSchema = z.object({
  id: z.string().nullable(),
  name: z.string(),
  role: z.string(),
  state: z.enum(['PLANNED', 'BUILD', 'ACTIVE', 'ERROR', 'DELETED']),
  privateIp: z.string().nullable(),
  publicIp: z.string().nullable(),
  configuration: z
    .object({ state: z.enum(NODE_CONFIGURATION_STATES), message: z.string().optional() })
    .optional()
    .describe('The current attempt’s configuration of the node, once its run has reported it'),
});
const clusterSchema = z.object({
  id: z.string(),
  name: z.string(),
  project: z.string(),
  provider: z.string(),
  status: z.enum(CLUSTER_STATUSES),
  phase: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  servers: z.array(serverSchema),
  error: z.object({ code: z.string(), message: z.string(), step: z.string() }).optional(),
  execution: z.object({ id: z.string().nullable(), consoleUrl: z.string().optional() }),
  links: z.object({ self: z.string(), events: z.string() }),
});
const eventSchema = z.object({ at: z.string(), status: z.enum(CLUSTER_STATUSES), phase: z.string(), message: z.string() });
const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.array(z.object({ path: z.string(), message: z.string() })) }),
});
const compatInstanceSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  status: z.enum(COMPAT_STATUSES),
  master_ip: z.string().nullable(),
  failure_message: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).catchall(z.unknown());

const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
const listParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
  { name: 'nextToken', in: 'query', schema: { type: 'string' }, description: 'The opaque token of the previous page, for the same project and filter; any other is a 400' },
];
const idempotencyKey = { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 64 }, description: 'Replays the first answer for the same body; 409 for another body.' };
const commonErrors = { '401': { description: 'Missing, malformed, unknown, revoked or expired token' } };

let built: Record<string, unknown> | undefined;

export const openApiDocument = (): Record<string, unknown> =>
  (built ??= {
    openapi: '3.1.0',
    info: {
      title: 'Cluster service',
      version: '1',
      description: 'Provisions clusters (a master and workers) on a cloud through a Step Functions workflow. Also serves the ~okeanos Lambda on Demand API family.',
    },
    security: [{ token: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        token: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <token>`' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        nodeSecret: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Node <secret>`: a cluster’s node secret, in its nodes’ user data (the cloud-init runner)' },
      },
      schemas: {
        CompatCreateRequest: { ...schema(REQUEST_BODIES.CompatCreateRequest), example: SEED_EXAMPLE },
        CompatActionRequest: schema(REQUEST_BODIES.CompatActionRequest),
        NativeCreateRequest: schema(REQUEST_BODIES.NativeCreateRequest),
        NodeReport: schema(REQUEST_BODIES.NodeReport),
        Cluster: schema(clusterSchema, 'output'),
        ClusterEvent: schema(eventSchema, 'output'),
        CompatInstance: schema(compatInstanceSchema, 'output'),
        Error: schema(errorSchema, 'output'),
      },
    },
    paths: {
      '/backend/create_lambda_instance': {
        post: {
          summary: 'Create a lambda instance (the ~okeanos Lambda on Demand call, byte for byte; also with a trailing slash)',
          parameters: [idempotencyKey],
          requestBody: { required: true, ...jsonBody(ref('CompatCreateRequest'), 'The seed’s body') },
          responses: {
            '202': jsonBody({ type: 'object', properties: { uuid: { type: 'string', format: 'uuid' } }, required: ['uuid'] }, 'Accepted'),
            '400': error('A field is missing, unknown or out of range'),
            ...commonErrors,
            '403': error('QuotaExceeded'),
            '409': error('Idempotency-Key reused with another body'),
            '413': error('Body over 64 KiB'),
            '415': error('Not application/json'),
          },
        },
      },
      '/backend/lambda-instances': {
        get: {
          summary: 'The project’s lambda instances, newest first',
          parameters: listParams,
          responses: {
            '200': jsonBody({ type: 'object', properties: { results: { type: 'array', items: ref('CompatInstance') }, next: { type: ['string', 'null'] } } }, 'A page'),
            ...commonErrors,
          },
        },
      },
      '/backend/lambda-instances/{uuid}': {
        get: { summary: 'One lambda instance', parameters: [idParam('uuid')], responses: { '200': jsonBody(ref('CompatInstance'), 'The instance'), '404': error('Unknown, or another project’s'), ...commonErrors } },
        delete: {
          summary: 'Destroy a lambda instance',
          parameters: [idParam('uuid')],
          responses: { '202': jsonBody({ type: 'object', properties: { uuid: { type: 'string' }, status: { enum: [...COMPAT_STATUSES] } } }, 'Destroying'), '404': error('Unknown, or another project’s'), ...commonErrors },
        },
        post: {
          summary: 'Start or stop a lambda instance (STOPPING → STOPPED, STARTING → STARTED)',
          parameters: [idParam('uuid')],
          requestBody: { required: true, ...jsonBody(ref('CompatActionRequest'), 'The action') },
          responses: {
            '202': jsonBody({ type: 'object', properties: { uuid: { type: 'string' }, status: { enum: [...COMPAT_STATUSES] } } }, 'STOPPING or STARTING'),
            '400': error('Another action'),
            '404': error('Unknown, or another project’s'),
            '409': error('Not in a status that allows it'),
            ...commonErrors,
          },
        },
      },
      '/backend/lambda-instances/{uuid}/status': {
        get: {
          summary: 'A lambda instance’s status, in the seed service’s names',
          parameters: [idParam('uuid')],
          responses: { '200': jsonBody({ type: 'object', properties: { uuid: { type: 'string' }, status: { enum: [...COMPAT_STATUSES] } } }, 'The status'), '404': error('Unknown, or another project’s'), ...commonErrors },
        },
      },
      '/v1/clusters': {
        post: {
          summary: 'Create a cluster',
          parameters: [idempotencyKey, { name: 'dryRun', in: 'query', schema: { type: 'boolean' }, description: 'Answer the plan (flavors, quota headroom, estimated time) and make nothing' }],
          requestBody: { required: true, ...jsonBody(ref('NativeCreateRequest'), 'The cluster') },
          responses: {
            '200': jsonBody(
              {
                type: 'object',
                properties: {
                  valid: { type: 'boolean' },
                  provider: { type: 'string' },
                  nodes: { type: 'array', items: { type: 'object' } },
                  batches: { type: 'integer' },
                  quota: { type: 'object', description: 'The service’s own quota: vcpus, servers, clusters, each {requested, used, limit, headroom}' },
                  wouldExceedQuota: { type: 'array', items: { type: 'string' } },
                  cloudQuota: {
                    type: 'object',
                    description: 'The cloud’s own limits and usage against the plan (providers that answer them: openstack)',
                    properties: {
                      resources: {
                        type: 'object',
                        additionalProperties: {
                          type: 'object',
                          properties: {
                            limit: { type: 'integer', description: '-1: unlimited' },
                            used: { type: 'integer' },
                            requested: { type: 'integer' },
                            headroom: { type: ['integer', 'null'], description: 'limit - used - requested; null when unlimited' },
                            fits: { type: 'boolean' },
                          },
                        },
                      },
                      wouldExceed: { type: 'array', items: { type: 'string' } },
                      fits: { type: 'boolean' },
                    },
                  },
                  cloudQuotaUnavailable: { type: 'string', description: 'Why cloudQuota is absent: the provider does not answer it, the cloud refused, or it did not answer in time' },
                  estimatedSecondsToActive: { type: 'integer' },
                },
              },
              'The dry-run plan; a plan over the cloud’s quota is still 200, with cloudQuota.fits false',
            ),
            '202': {
              ...jsonBody({ type: 'object', properties: { id: { type: 'string' }, status: { enum: [...CLUSTER_STATUSES] }, links: { type: 'object' } } }, 'Accepted'),
              headers: { Location: { schema: { type: 'string' }, description: '/v1/clusters/{id}' } },
            },
            '400': error('Invalid body (details name the fields)'),
            ...commonErrors,
            '403': error('QuotaExceeded (details name the resource)'),
            '409': error('Idempotency-Key reused with another body, or in progress'),
            '413': error('Body over 64 KiB'),
            '415': error('Not application/json'),
          },
        },
        get: {
          summary: 'The project’s clusters, newest first',
          parameters: [...listParams, { name: 'status', in: 'query', schema: { enum: [...CLUSTER_STATUSES] } }],
          responses: {
            '200': jsonBody({ type: 'object', properties: { items: { type: 'array', items: ref('Cluster') }, nextToken: { type: 'string' } } }, 'A page'),
            '400': error('Bad query'),
            ...commonErrors,
          },
        },
      },
      '/v1/clusters/{id}': {
        get: { summary: 'One cluster', parameters: [idParam('id')], responses: { '200': jsonBody(ref('Cluster'), 'The cluster'), '404': error('Unknown, or another project’s'), ...commonErrors } },
        delete: {
          summary: 'Destroy a cluster, from any status',
          parameters: [idParam('id')],
          responses: { '202': jsonBody({ type: 'object' }, 'DESTROYING'), '404': error('Unknown, or another project’s'), ...commonErrors },
        },
      },
      '/v1/clusters/{id}/events': {
        get: {
          summary: 'The cluster’s timeline, oldest first',
          parameters: [idParam('id')],
          responses: { '200': jsonBody({ type: 'object', properties: { items: { type: 'array', items: ref('ClusterEvent') } } }, 'The timeline'), '404': error('Unknown, or another project’s'), ...commonErrors },
        },
      },
      '/v1/clusters/{id}/retry': {
        post: {
          summary: 'Retry a FAILED cluster as a new attempt, resuming where it failed',
          parameters: [idParam('id')],
          responses: { '202': jsonBody({ type: 'object' }, 'PENDING again'), '403': error('QuotaExceeded'), '404': error('Unknown, or another project’s'), '409': error('Not FAILED'), ...commonErrors },
        },
      },
      '/v1/clusters/{id}/stop': {
        post: {
          summary: 'Stop an ACTIVE cluster’s servers: STOPPING → STOPPED; disks, addresses and quota are kept (again after a failed stop)',
          parameters: [idParam('id')],
          responses: { '202': jsonBody({ type: 'object' }, 'STOPPING'), '404': error('Unknown, or another project’s'), '409': error('ClusterBusy: not ACTIVE'), ...commonErrors },
        },
      },
      '/v1/clusters/{id}/start': {
        post: {
          summary: 'Start a STOPPED cluster’s servers again: STARTING → ACTIVE (again after a failed start)',
          parameters: [idParam('id')],
          responses: { '202': jsonBody({ type: 'object' }, 'STARTING'), '404': error('Unknown, or another project’s'), '409': error('ClusterBusy: not STOPPED'), ...commonErrors },
        },
      },
      '/v1/clusters/{id}/node-reports': {
        post: {
          summary: 'A node of a cloud-init cluster reports, and is told what to do next (docs/cloud-init-runner.md); not for clients',
          security: [{ nodeSecret: [] }],
          parameters: [idParam('id')],
          requestBody: { required: true, ...jsonBody(ref('NodeReport'), 'What the node did') },
          responses: {
            '200': jsonBody({ type: 'object', properties: { next: { type: 'string', enum: ['wait', 'controller-key', 'authorize', 'run', 'ok', 'stop'] } }, required: ['next'] }, 'What to do next'),
            '400': error('Not a report'),
            '401': error('Not the cluster’s node secret'),
          },
        },
      },
      '/v1/clusters/{id}/provider-events/{secret}': {
        post: {
          summary: 'The cloud calls back about a cluster’s servers (Hyperstack’s callback_url, docs/hyperstack-provider.md); not for clients',
          // The path's secret is the credential: the cloud signs nothing.
          security: [],
          parameters: [idParam('id'), { name: 'secret', in: 'path', required: true, schema: { type: 'string' }, description: 'The cluster’s callback secret' }],
          requestBody: { required: true, ...jsonBody({ type: 'object' }, 'The cloud’s event, read leniently') },
          responses: {
            '200': jsonBody({ type: 'object', properties: { recorded: { type: 'boolean' } }, required: ['recorded'] }, 'Whether a note was recorded'),
            '400': error('Not a JSON object'),
            '401': error('Not the cluster’s callback URL'),
            '413': error('Larger than 16 KiB'),
          },
        },
      },
      '/v1/webhook-secret': {
        get: {
          summary: 'The project’s webhook signing secret: X-Signature-256 = sha256=<hex HMAC-SHA256 of the body>',
          responses: { '200': jsonBody({ type: 'object', properties: { secret: { type: 'string' }, header: { type: 'string' }, algorithm: { type: 'string' } } }, 'The secret'), ...commonErrors },
        },
      },
      '/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' }, ...commonErrors } } },
    },
  });
