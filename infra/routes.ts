/**
 * The service's functions and HTTP routes, in one place for both targets: the CDK stack builds
 * its Lambda functions and API Gateway resources from these lists, and the local runtime routes
 * requests to the same handler files.
 */

import { PROJECT_INDEX } from '../functions/adapters/dynamodb/table-schema.ts';
import type { WorkflowKind } from '../functions/domain/workflow.ts';
import type { RequestBodyName } from '../functions/lib/openapi.ts';

/**
 * What the CDK stack gives a function beyond its table, from the stack's props or context
 * (docs/deploying.md, docs/configuration.md). A function gets a setting only if its definition
 * lists it.
 */
export const FUNCTION_SETTINGS = {
  defaultProvider: '`DEFAULT_PROVIDER`: the provider of requests that name none',
  defaultConfigurationRunner: '`DEFAULT_CONFIGURATION_RUNNER`: the runner of compat requests and of native ones that name none',
  quotaDefaults: '`QUOTA_MAX_*`: the limits of projects without their own, for every function that reserves or releases quota',
  configurationAgentTimeout: '`CONFIGURATION_AGENT_TIMEOUT_SECONDS`: how long the workflow waits for the servers\' configuration agents',
  pageTokenSecret: '`PAGE_TOKEN_SECRET_ARN` and the right to read it: the key that seals the list routes\' page tokens',
  ec2Settings: 'the `ec2` provider\'s settings (`EC2_*`, `SERVICE_TAG`), to plan with; only in a stack with them',
  ec2Servers: 'the `ec2` settings and the rights to make, configure and delete servers, with the configuration inputs bucket and bundle; only in a stack with them',
  configurationContainer: 'the configuration container\'s network settings and `CONTAINER_RUNNER_ENABLED`: it starts the container\'s runs; only in a stack with it',
  openstackSettings: 'the `openstack` provider\'s settings (`OPENSTACK_*`) and the right to read its credentials secret, to plan with and to make servers; only in a stack with them',
  hyperstackSettings: 'the `hyperstack` provider\'s settings (`HYPERSTACK_*`) and the right to read its API key secret, to plan with and to make servers; only in a stack with them',
  lightsailSettings: 'the `lightsail` provider\'s settings (`LIGHTSAIL_*`, `SERVICE_TAG`) to plan with, and for the workflow step the Lightsail actions it calls; only in a stack with them',
  nodeReportKey: '`NODE_REPORT_SECRET_ARN` and the right to read it: the key the clusters\' node secrets (cloud-init runner) are made with',
  serviceUrl: '`SERVICE_URL`: the API\'s URL, where the cloud-init runner\'s nodes report (their user data says so)',
  configurationBundleUrl: '`CONFIGURATION_BUNDLE_S3_URI` and the right to read that object: it signs URLs of the configuration bundle for the nodes',
} as const;

export type FunctionSetting = keyof typeof FUNCTION_SETTINGS;

export interface FunctionDefinition {
  /** Handler source, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** What the function may do with the table. */
  readonly tableAccess: 'read' | 'readWrite';
  /**
   * Narrows the table grant to exactly these actions, on the table and on `indexes`, for a
   * function whose reach is smaller than its access mode.
   *
   * @default - every data action of the access mode, on the table and all its indexes
   */
  readonly tableActions?: { readonly actions: readonly string[]; readonly indexes?: readonly string[] };
  /** What it is given beyond the table (FUNCTION_SETTINGS). */
  readonly settings?: readonly FunctionSetting[];
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
  /** Runs the Task states of every workflow (their `WorkflowStepFunctionArn`); exactly one function does. */
  readonly runsWorkflowSteps?: boolean;
  /** Seconds before Lambda stops it. */
  readonly timeoutSeconds: number;
}

export const FUNCTIONS = {
  authorizer: {
    entry: 'functions/authorizer/handler.ts',
    description: 'API Gateway REQUEST authorizer: token → project',
    tableAccess: 'read',
    // It runs before every request, so its role reaching no further than a token lookup by key
    // bounds what a flaw in it could read.
    tableActions: { actions: ['dynamodb:GetItem'] },
    timeoutSeconds: 5,
  },
  createCluster: {
    entry: 'functions/create-cluster/handler.ts',
    description: 'Creates clusters (compat and native routes, dry runs): quota, record, provision workflow; the project webhook secret',
    tableAccess: 'readWrite',
    settings: ['defaultProvider', 'defaultConfigurationRunner', 'quotaDefaults', 'ec2Settings', 'openstackSettings', 'hyperstackSettings', 'lightsailSettings'],
    startsWorkflows: ['provision'],
    timeoutSeconds: 15,
  },
  readClusters: {
    entry: 'functions/read-clusters/handler.ts',
    description: 'Reads clusters, their timelines and the OpenAPI document (native and compat routes)',
    tableAccess: 'read',
    tableActions: { actions: ['dynamodb:GetItem', 'dynamodb:Query'], indexes: [PROJECT_INDEX] },
    settings: ['pageTokenSecret'],
    timeoutSeconds: 10,
  },
  changeCluster: {
    entry: 'functions/change-cluster/handler.ts',
    description: 'Destroys, retries, stops and starts clusters (native and compat routes)',
    tableAccess: 'readWrite',
    settings: ['quotaDefaults'],
    startsWorkflows: ['provision', 'destroy', 'power'],
    stopsWorkflows: ['provision', 'power'],
    timeoutSeconds: 15,
  },
  expireClusters: {
    entry: 'functions/expire-clusters/handler.ts',
    description: 'Destroys clusters whose ttlHours have passed',
    tableAccess: 'readWrite',
    settings: ['quotaDefaults'],
    startsWorkflows: ['destroy'],
    stopsWorkflows: ['provision', 'power'],
    schedule: 'rate(5 minutes)',
    timeoutSeconds: 60,
  },
  createTrigger: {
    entry: 'functions/create-trigger/handler.ts',
    description: 'Creates clusters from Cluster Create Requested events (EventBridge rule → SQS)',
    tableAccess: 'readWrite',
    settings: ['defaultProvider', 'quotaDefaults', 'ec2Settings', 'openstackSettings', 'hyperstackSettings', 'lightsailSettings'],
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
    description: 'The Task states of the provision, destroy and power workflows: one step per invocation',
    tableAccess: 'readWrite',
    settings: ['defaultProvider', 'defaultConfigurationRunner', 'configurationAgentTimeout', 'ec2Servers', 'configurationContainer', 'openstackSettings', 'hyperstackSettings', 'lightsailSettings', 'nodeReportKey', 'serviceUrl'],
    runsWorkflowSteps: true,
    timeoutSeconds: 120,
  },
  configurationProgress: {
    entry: 'functions/configuration-progress/handler.ts',
    description: 'The configuration container’s COMPONENT lines (its log group’s subscription) → configure:<component> phases and the failed node',
    tableAccess: 'readWrite',
    // Reads a cluster and writes it back with its timeline event (the store's updateCluster): fed
    // by a log group whose lines anyone with a shell on the task could shape, it reaches no further.
    tableActions: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
    readsConfigurationLogs: true,
    timeoutSeconds: 30,
  },
  nodeReports: {
    entry: 'functions/node-reports/handler.ts',
    description: 'The cloud-init runner’s node reports (the controller key, the workers that let it in, the run’s COMPONENT lines and exit status) and the cloud’s callbacks about the servers',
    tableAccess: 'readWrite',
    // Reads a cluster and writes it back with its timeline (updateCluster, notes): called by the
    // nodes, whose secret opens one cluster's record, it reaches no further.
    tableActions: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
    settings: ['nodeReportKey', 'configurationBundleUrl'],
    timeoutSeconds: 10,
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
  readonly function: 'createCluster' | 'readClusters' | 'changeCluster' | 'nodeReports';
  /** The JSON body the route takes, by its schema's name in the OpenAPI document; on AWS also an API Gateway model. */
  readonly body?: RequestBodyName;
  /**
   * Who may call it: a project's token, checked by the API's authorizer (the default), or a
   * cluster's node secret or callback secret, checked by the function itself (no authorizer in front).
   */
  readonly caller?: 'project' | 'node';
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
  { method: 'POST', path: '/backend/lambda-instances/{uuid}', function: 'changeCluster', body: 'CompatActionRequest' },
  { method: 'POST', path: '/v1/clusters', function: 'createCluster', body: 'NativeCreateRequest' },
  { method: 'GET', path: '/v1/webhook-secret', function: 'createCluster' },
  { method: 'GET', path: '/v1/clusters', function: 'readClusters' },
  { method: 'GET', path: '/v1/clusters/{id}', function: 'readClusters' },
  { method: 'GET', path: '/v1/clusters/{id}/events', function: 'readClusters' },
  { method: 'DELETE', path: '/v1/clusters/{id}', function: 'changeCluster' },
  { method: 'POST', path: '/v1/clusters/{id}/retry', function: 'changeCluster' },
  { method: 'POST', path: '/v1/clusters/{id}/stop', function: 'changeCluster' },
  { method: 'POST', path: '/v1/clusters/{id}/start', function: 'changeCluster' },
  { method: 'GET', path: '/v1/openapi.json', function: 'readClusters' },
  { method: 'POST', path: '/v1/clusters/{id}/node-reports', function: 'nodeReports', body: 'NodeReport', caller: 'node' },
  // The cloud's callbacks (Infrahub's callback_url): the path's secret opens it; the body is the cloud's own.
  { method: 'POST', path: '/v1/clusters/{id}/provider-events/{secret}', function: 'nodeReports', caller: 'node' },
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
  power: {
    file: 'statemachine/power.asl.json',
    substitutions: ['WorkflowStepFunctionArn'] as const,
  },
} as const satisfies Record<WorkflowKind, { file: string; substitutions: readonly string[] }>;
