/**
 * The service's functions and HTTP routes, in one place for both targets: the CDK stack builds
 * its Lambda functions and API Gateway resources from these lists, and the local runtime routes
 * requests to the same handler files.
 */

import type { WorkflowKind } from '../functions/domain/workflow.ts';
import type { RequestBodyName } from '../functions/lib/openapi.ts';

export interface FunctionDefinition {
  /** Handler source, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** What the function may do with the table. */
  readonly tableAccess: 'read' | 'readWrite';
  /** Workflows whose executions it starts. */
  readonly startsWorkflows?: readonly WorkflowKind[];
  /** Workflows whose executions it stops. */
  readonly stopsWorkflows?: readonly WorkflowKind[];
  /** Runs on a schedule (an EventBridge rate expression) instead of behind the API. */
  readonly schedule?: string;
  /** Consumes the bus's `Cluster Create Requested` events, through an SQS queue. */
  readonly consumesCreateRequests?: boolean;
  /** Puts events on the service's bus. */
  readonly publishesEvents?: boolean;
  /** Reads the table's change stream (new status-change items). */
  readonly consumesTableStream?: boolean;
  /**
   * Reads the configuration container's log group (a CloudWatch Logs subscription); it exists
   * only in a stack that has the configuration container.
   */
  readonly readsConfigurationLogs?: boolean;
  /** Seconds before Lambda stops it. */
  readonly timeoutSeconds: number;
}

export const FUNCTIONS = {
  authorizer: {
    entry: 'functions/authorizer/handler.ts',
    description: 'API Gateway REQUEST authorizer: token → project',
    tableAccess: 'read',
    timeoutSeconds: 5,
  },
  createCluster: {
    entry: 'functions/create-cluster/handler.ts',
    description: 'Creates clusters (compat and native routes, dry runs): quota, record, provision workflow; the project webhook secret',
    tableAccess: 'readWrite',
    startsWorkflows: ['provision'],
    timeoutSeconds: 15,
  },
  readClusters: {
    entry: 'functions/read-clusters/handler.ts',
    description: 'Reads clusters, their timelines and the OpenAPI document (native and compat routes)',
    tableAccess: 'read',
    timeoutSeconds: 10,
  },
  changeCluster: {
    entry: 'functions/change-cluster/handler.ts',
    description: 'Destroys and retries clusters (native and compat routes)',
    tableAccess: 'readWrite',
    startsWorkflows: ['provision', 'destroy'],
    stopsWorkflows: ['provision'],
    timeoutSeconds: 15,
  },
  expireClusters: {
    entry: 'functions/expire-clusters/handler.ts',
    description: 'Destroys clusters whose ttlHours have passed',
    tableAccess: 'readWrite',
    startsWorkflows: ['destroy'],
    stopsWorkflows: ['provision'],
    schedule: 'rate(5 minutes)',
    timeoutSeconds: 60,
  },
  createTrigger: {
    entry: 'functions/create-trigger/handler.ts',
    description: 'Creates clusters from Cluster Create Requested events (EventBridge rule → SQS)',
    tableAccess: 'readWrite',
    startsWorkflows: ['provision'],
    consumesCreateRequests: true,
    publishesEvents: true,
    timeoutSeconds: 30,
  },
  publishStatus: {
    entry: 'functions/publish-status/handler.ts',
    description: 'The table stream → Cluster Status Changed events and signed webhooks',
    tableAccess: 'readWrite',
    publishesEvents: true,
    consumesTableStream: true,
    // Webhook retries with backoff, for up to ten changes in order.
    timeoutSeconds: 300,
  },
  workflowStep: {
    entry: 'functions/workflow-step/handler.ts',
    description: 'The Task states of the provision and destroy workflows: one step per invocation',
    tableAccess: 'readWrite',
    timeoutSeconds: 120,
  },
  configurationProgress: {
    entry: 'functions/configuration-progress/handler.ts',
    description: 'The configuration container’s COMPONENT lines (its log group’s subscription) → configure:<component> phases and the failed node',
    tableAccess: 'readWrite',
    readsConfigurationLogs: true,
    timeoutSeconds: 30,
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof FUNCTIONS;

/** Functions that exist only in a stack with the configuration container. */
export type ConfigurationContainerFunctionName = {
  [K in FunctionName]: (typeof FUNCTIONS)[K] extends { readonly readsConfigurationLogs: true } ? K : never;
}[FunctionName];

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{name}` marks a path parameter. */
  readonly path: string;
  readonly function: 'createCluster' | 'readClusters' | 'changeCluster';
  /** The JSON body the route takes, by its schema's name in the OpenAPI document; on AWS also an API Gateway model. */
  readonly body?: RequestBodyName;
}

/**
 * API Gateway REST matches a request with a trailing slash to the resource without it, so
 * `/backend/create_lambda_instance/` (the seed's curl example) needs no resource of its own;
 * the local runtime does the same.
 */
export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/backend/create_lambda_instance', function: 'createCluster', body: 'CompatCreateRequest' },
  { method: 'GET', path: '/backend/lambda-instances', function: 'readClusters' },
  { method: 'GET', path: '/backend/lambda-instances/{uuid}', function: 'readClusters' },
  { method: 'GET', path: '/backend/lambda-instances/{uuid}/status', function: 'readClusters' },
  { method: 'DELETE', path: '/backend/lambda-instances/{uuid}', function: 'changeCluster' },
  { method: 'POST', path: '/v1/clusters', function: 'createCluster', body: 'NativeCreateRequest' },
  { method: 'GET', path: '/v1/webhook-secret', function: 'createCluster' },
  { method: 'GET', path: '/v1/clusters', function: 'readClusters' },
  { method: 'GET', path: '/v1/clusters/{id}', function: 'readClusters' },
  { method: 'GET', path: '/v1/clusters/{id}/events', function: 'readClusters' },
  { method: 'DELETE', path: '/v1/clusters/{id}', function: 'changeCluster' },
  { method: 'POST', path: '/v1/clusters/{id}/retry', function: 'changeCluster' },
  { method: 'GET', path: '/v1/openapi.json', function: 'readClusters' },
];

/** The key a function's router dispatches on: API Gateway's method and resource path. */
export const routeKey = (route: Pick<RouteDefinition, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** The workflow files and the `${…}` substitutions each one takes. */
export const STATE_MACHINES = {
  provision: {
    file: 'statemachine/provision.asl.json',
    // The configuration container's ECS cluster and task definition (the container runner).
    substitutions: ['WorkflowStepFunctionArn', 'ConfigurationClusterArn', 'ConfigurationTaskDefinitionArn'] as const,
  },
  destroy: {
    file: 'statemachine/destroy.asl.json',
    substitutions: ['WorkflowStepFunctionArn'] as const,
  },
} as const satisfies Record<WorkflowKind, { file: string; substitutions: readonly string[] }>;
