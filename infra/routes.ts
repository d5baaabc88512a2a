/**
 * The service's functions and HTTP routes, in one place for both targets: the CDK stack builds
 * its Lambda functions and API Gateway resources from these lists, and the local runtime routes
 * requests to the same handler files.
 */

export interface FunctionDefinition {
  /** Handler source, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** What the function may do with the table. */
  readonly tableAccess: 'read' | 'readWrite';
  /** Whether it starts provision executions. */
  readonly startsWorkflow?: boolean;
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
    description: 'POST /backend/create_lambda_instance: records the cluster and starts the provision workflow',
    tableAccess: 'readWrite',
    startsWorkflow: true,
    timeoutSeconds: 10,
  },
  getCluster: {
    entry: 'functions/get-cluster/handler.ts',
    description: 'GET /v1/clusters/{id}: a cluster of the caller’s project',
    tableAccess: 'read',
    timeoutSeconds: 10,
  },
  workflowStep: {
    entry: 'functions/workflow-step/handler.ts',
    description: 'The provision workflow’s Task states: one step per invocation',
    tableAccess: 'readWrite',
    timeoutSeconds: 120,
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{name}` marks a path parameter. */
  readonly path: string;
  readonly function: Exclude<FunctionName, 'authorizer' | 'workflowStep'>;
}

/**
 * API Gateway REST matches a request with a trailing slash to the resource without it, so
 * `/backend/create_lambda_instance/` (the seed's curl example) needs no resource of its own;
 * the local runtime does the same.
 */
export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/backend/create_lambda_instance', function: 'createCluster' },
  { method: 'GET', path: '/v1/clusters/{id}', function: 'getCluster' },
];

/** The workflow files and the `${…}` substitutions each one takes. */
export const STATE_MACHINES = {
  provision: {
    file: 'statemachine/provision.asl.json',
    substitutions: ['WorkflowStepFunctionArn'] as const,
  },
} as const;
