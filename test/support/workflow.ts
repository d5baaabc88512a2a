/**
 * The provision workflow as it runs locally: the real ASL file in aws-local-stepfunctions, the
 * real step handler, a real DynamoDB API (dynalite) and the emulated cloud in memory.
 */
import { LocalCloud, LocalCloudProvider, type LocalCloudOptions } from '../../infra/local/cloud/index.ts';
import { compatToSpec, type CompatCreateRequest } from '#domain/compat-request';
import type { Cluster } from '#domain/model';
import { providerRegistry } from '#domain/providers';
import { createCluster } from '#use-cases/create-cluster';
import type { WorkflowConfig } from '#lib/config';
import { workflowStepHandler } from '../../functions/workflow-step/index.ts';
import { configurationProgressHandler } from '../../functions/configuration-progress/index.ts';
import { STATE_MACHINES } from '../../infra/routes.ts';
import { LocalWorkflow, LocalWorkflows, type ExecutionRecord, type LocalLambda } from '../../infra/local/step-functions.ts';
import { ECS_RUN_TASK_SYNC, LOCAL_CONFIGURATION_SUBSTITUTIONS, localConfigurationContainer } from '../../infra/local/configuration-container.ts';
import type { ConfigurationRunner } from '#domain/model';
import { WORKFLOW_KINDS, type WorkflowKind } from '#domain/workflow';
import type { QuotaAmounts } from '#domain/quota-store';
import type { CloudProvider } from '#domain/provider';
import { startTestTable, type TestTable } from './dynamodb.ts';

/** A fast cloud: tests wait milliseconds, not seconds. */
export const FAST_CLOUD: LocalCloudOptions = {
  bootMs: { min: 30, max: 30 },
  configMs: { min: 50, max: 50 },
  deleteMs: { min: 10, max: 10 },
  apiLatencyMs: { min: 0, max: 0 },
};

export const TEST_WORKFLOW_CONFIG: WorkflowConfig = {
  DEFAULT_PROVIDER: 'local',
  SERVER_BOOT_TIMEOUT_SECONDS: 30,
  CONFIGURATION_AGENT_TIMEOUT_SECONDS: 30,
  CONFIGURATION_TIMEOUT_SECONDS: 30,
  POLL_INTERVAL_SECONDS: 1,
  DEFAULT_CONFIGURATION_RUNNER: 'ssm',
  CONTAINER_RUNNER_ENABLED: true,
  CONFIGURATION_SUBNETS: '',
  CONFIGURATION_SECURITY_GROUPS: '',
};

/** Quotas that never get in the way, unless a test asks for smaller ones. */
export const GENEROUS_QUOTA: QuotaAmounts = { vcpus: 100_000, servers: 100_000, clusters: 100_000 };

export interface WorkflowHarness {
  quota: QuotaAmounts;
  table: TestTable;
  cloud: LocalCloud;
  workflows: LocalWorkflows;
  /** The provision workflow's runner. */
  workflow: LocalWorkflow;
  /** Records a cluster and starts its execution, as the create route does. */
  create(request: CompatCreateRequest, project?: string, runner?: ConfigurationRunner): Promise<Cluster>;
  /** Creates a cluster and waits for its execution to end. */
  run(request: CompatCreateRequest, runner?: ConfigurationRunner): Promise<{ cluster: Cluster; execution: ExecutionRecord }>;
  /** Workflow runners over the same table and cloud, as after a restart. */
  restart(): LocalWorkflows;
  stop(): Promise<void>;
}

export const startWorkflowHarness = async (options: {
  cloud?: LocalCloudOptions;
  config?: Partial<WorkflowConfig>;
  waitMs?: number;
  retryMs?: number;
  quota?: QuotaAmounts;
  /** Wraps the cloud's provider, e.g. to make one of its calls fail. */
  provider?: (provider: CloudProvider) => CloudProvider;
  /** Whether the container's COMPONENT lines reach the configuration-progress handler (as its log subscription does on AWS). */
  containerProgress?: boolean;
  /** Runs before each call of the workflow-step function with its event: what it throws is that step's failure, as a fault would be. */
  beforeStep?: (event: { step: string; clusterId: string }) => void;
  /** Runs before the configuration container's stand-in starts: what it throws is the ECS task's failure. */
  beforeContainer?: () => void;
} = {}): Promise<WorkflowHarness> => {
  const table = await startTestTable();
  const cloud = await LocalCloud.open({ ...FAST_CLOUD, ...options.cloud });
  const config = { ...TEST_WORKFLOW_CONFIG, ...options.config };
  const local = new LocalCloudProvider(cloud);
  const provider = options.provider ? options.provider(local) : local;
  const providers = providerRegistry([provider]);
  const stepHandler = workflowStepHandler({ clusters: table.clusters, quotas: table.quotas, providers, config }) as unknown as LocalLambda;
  const container = localConfigurationContainer({
    provider,
    pollMs: 10,
    ...(options.containerProgress === false ? {} : { progress: configurationProgressHandler({ clusters: table.clusters }) as unknown as LocalLambda }),
  });
  const machine = (kind: WorkflowKind) =>
    new LocalWorkflow({
      file: STATE_MACHINES[kind].file,
      stateMachineName: kind,
      functions: {
        WorkflowStepFunctionArn: {
          name: 'workflow-step',
          handler: async (event, context) => {
            options.beforeStep?.(event as { step: string; clusterId: string });
            return stepHandler(event, context);
          },
          timeoutMs: 120_000,
        },
      },
      resources: {
        [ECS_RUN_TASK_SYNC]: async (parameters) => {
          options.beforeContainer?.();
          return container(parameters);
        },
      },
      substitutions: LOCAL_CONFIGURATION_SUBSTITUTIONS,
      waitMs: options.waitMs ?? 20,
      retryMs: options.retryMs ?? 5,
    });
  const makeWorkflows = () => new LocalWorkflows(Object.fromEntries(WORKFLOW_KINDS.map((kind) => [kind, machine(kind)])) as Record<WorkflowKind, LocalWorkflow>);
  const workflows = makeWorkflows();
  const workflow = workflows.machines.provision;
  const create = (request: CompatCreateRequest, project = 'alpha', runner?: ConfigurationRunner) =>
    createCluster({ clusters: table.clusters, quotas: table.quotas, workflows, quotaDefaults: options.quota ?? GENEROUS_QUOTA }, { project, spec: compatToSpec(request, 'local', runner), request: { ...request } });
  return {
    quota: options.quota ?? GENEROUS_QUOTA,
    table,
    cloud,
    workflows,
    workflow,
    create,
    run: async (request, runner) => {
      const created = await create(request, 'alpha', runner);
      const execution = await workflow.waitFor(created.id);
      const cluster = await table.clusters.getCluster(created.id);
      if (!cluster || !execution) throw new Error('the cluster or its execution is missing');
      return { cluster, execution };
    },
    restart: makeWorkflows,
    stop: async () => {
      await workflows.stopAll();
      await cloud.close();
      await table.stop();
    },
  };
};

/** How many states an execution entered: its state transitions. */
/**
 * The polling loops' states: how many rounds they make follows the clock (boot and configuration
 * times, a busy machine), not the node count, so a count meant to show what grows with the nodes
 * leaves them out.
 */
const POLLING_STATE = /^(Wait for |Check the |Are all servers (running|stopped)\?|Is the configuration done\?|Are the configuration agents online\?)/;

/** State transitions outside the polling loops: what the definition itself makes a cluster take. */
export const transitionsOutsidePolling = (execution: ExecutionRecord): number =>
  execution.states.filter((s) => s.event === 'StateEntered' && !POLLING_STATE.test(s.name)).length;
