/**
 * The steps of both workflows, one per Task state: provision (statemachine/provision.asl.json)
 * and destroy (statemachine/destroy.asl.json).
 *
 * The workflow state carries only the cluster id and small control values; the cluster record
 * in the store is the truth, so a step can be retried, redriven or resumed after a crash and
 * land on the same result. Every status or phase change goes through `clusters.updateCluster`,
 * which also writes the timeline event.
 */
import {
  ConfigurationFailed,
  ConfigurationReportPending,
  ConfigurationTimeout,
  ContainerRunnerUnavailable,
  RollbackIncomplete,
  RollbackInterrupted,
  ClusterDestroying,
  DestroyIncomplete,
  ServerBootFailed,
  ServersBootTimeout,
} from '#domain/errors';
import { isTerminal, type Cluster, type ClusterStatus, type Phase, type Server } from '#domain/model';
import { failedStepOf, type CaughtError, type FailedSteps } from '#domain/failed-step';
import { planServers, serverOptionsOf } from '#domain/plan';
import { containerDocuments, containerEnvironment } from '#domain/configuration-inventory';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import type { CloudProvider, ConfigurationStatus } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';
import type { ClusterStore } from '#domain/cluster-store';
import type { QuotaStore } from '#domain/quota-store';
import type { WorkflowConfig } from '#lib/config';
import { chunk, forEachConcurrently } from '#lib/batching';
import { releaseClusterQuota } from './quota.ts';
import { checkConfigurationAgents, configurationServers } from './configuration-agents.ts';
import { countMetric, METRIC_NAMES, timeMetric } from '#lib/metrics';

export const STEP_NAMES = [
  'plan',
  'create-networks',
  'create-servers',
  'describe-servers',
  'allocate-ips',
  'prepare-container',
  'name-container-failure',
  'check-configuration-agents',
  'configure',
  'check-configuration',
  'activate',
  'rollback',
  'record-failure',
  'destroy',
  'record-destroyed',
  'record-destroy-failure',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type { CaughtError };

export interface StepInput {
  step: StepName;
  clusterId: string;
  /**
   * name-container-failure: the error the configuration container's run was caught with; rollback,
   * from an execution of a definition older than `failed`: the error alone.
   */
  failure?: CaughtError;
  /** rollback: the error, filed under the step whose state caught it. */
  failed?: FailedSteps;
  /** record-failure, record-destroy-failure: the execution's state. */
  state?: { failed?: FailedSteps; failure?: CaughtError; rollbackFailure?: CaughtError };
}

export interface StepDeps {
  clusters: ClusterStore;
  quotas: QuotaStore;
  providers: ProviderRegistry;
  config: Pick<WorkflowConfig, 'SERVER_BOOT_TIMEOUT_SECONDS' | 'CONFIGURATION_AGENT_TIMEOUT_SECONDS' | 'CONFIGURATION_TIMEOUT_SECONDS' | 'POLL_INTERVAL_SECONDS'> &
    Partial<Pick<WorkflowConfig, 'DEFAULT_CONFIGURATION_RUNNER' | 'CONTAINER_RUNNER_ENABLED' | 'CONFIGURATION_SUBNETS' | 'CONFIGURATION_SECURITY_GROUPS'>>;
  /**
   * Where the configuration container's documents are kept for it to fetch (S3 on AWS); without
   * it (locally) they travel in its environment.
   */
  inputs?: ConfigurationInputs;
  now?: () => number;
  /** Milliseconds left before the invocation is stopped (Lambda's context); unbounded locally. */
  remainingMs?: () => number;
}

/** Batches run a few at a time: fast enough for large clusters, gentle on provider rate limits. */
const BATCH_CONCURRENCY = 4;
/** Stop starting batches when less than this is left of the invocation; the workflow calls again. */
const BATCH_TIME_RESERVE_MS = 20_000;
const ROLLBACK_TIMEOUT_SECONDS = 1800;
const ROLLBACK_POLL_SECONDS = 2;
const DESTROY_TIMEOUT_SECONDS = 1800;

/** Steps of the destroy workflow; every other step belongs to the provision workflow. */
const DESTROY_STEPS: readonly StepName[] = ['destroy', 'record-destroyed', 'record-destroy-failure'];
const BEING_DESTROYED: readonly ClusterStatus[] = ['DESTROYING', 'DESTROYED'];

class StepContext {
  /** The record as this step last read or wrote it: the next write starts from it. */
  private latest: Cluster | undefined;

  constructor(
    readonly deps: StepDeps,
    readonly clusterId: string,
    /** Provision steps never write to a cluster that is being destroyed. */
    readonly destroying: boolean,
  ) {}

  now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async load(): Promise<Cluster> {
    const cluster = await this.deps.clusters.getCluster(this.clusterId);
    if (!cluster) throw new Error(`cluster ${this.clusterId} does not exist`);
    this.latest = cluster;
    return cluster;
  }

  provider(cluster: Cluster): CloudProvider {
    return this.deps.providers.get(cluster.provider);
  }

  /** Writes a change; the timeline gets `message` when status or phase moved. */
  async update(change: (cluster: Cluster) => Partial<Cluster> | null, message: string): Promise<Cluster> {
    this.latest = await this.deps.clusters.updateCluster(this.clusterId, (current) => {
      if (!this.destroying && BEING_DESTROYED.includes(current.status)) {
        throw new ClusterDestroying(`cluster ${current.id} is ${current.status}; its provision workflow stops here`);
      }
      const patch = change(current);
      return patch ? { cluster: { ...current, ...patch }, message } : null;
    }, this.latest);
    return this.latest;
  }

  /** `patch` may be worked out from the record as it is when written (an empty one writes nothing unless the phase moved). */
  enter(status: ClusterStatus, phase: Phase, message: string, patch: Partial<Cluster> | ((current: Cluster) => Partial<Cluster>) = {}): Promise<Cluster> {
    return this.update((current) => {
      const moved = current.status !== status || current.phase !== phase;
      const changes = typeof patch === 'function' ? patch(current) : patch;
      return moved || Object.keys(changes).length > 0 ? { status, phase, ...changes } : null;
    }, message);
  }

  deadline(seconds: number): string {
    return new Date(this.now() + seconds * 1000).toISOString();
  }

  passed(deadline: string | undefined): boolean {
    return deadline !== undefined && this.now() > Date.parse(deadline);
  }
}

interface EcsTaskCause {
  TaskArn?: string;
  StoppedReason?: string;
  Containers?: { Name?: string; ExitCode?: number; Reason?: string }[];
}

/** run-profile.sh's exit status when a component failed (configuration/README.md). */
export const COMPONENT_FAILED_EXIT = 2;

const configurationContainerOf = (task: EcsTaskCause) => task.Containers?.find((c) => c.Name === 'configuration') ?? task.Containers?.[0];

/** The stopped task a runTask.sync failure carries as its cause, if that is what it carries. */
const ecsTaskOf = (cause: string | undefined): EcsTaskCause | undefined => {
  try {
    const parsed: unknown = JSON.parse(cause ?? '');
    if (parsed && typeof parsed === 'object' && ('Containers' in parsed || 'StoppedReason' in parsed)) return parsed as EcsTaskCause;
  } catch {
    // not a task's description
  }
  return undefined;
};

/**
 * A stopped ECS task as `ecs:runTask.sync` reports it (the task's description): the
 * configuration container's exit code and reason say what failed.
 */
const ecsTaskMessage = (task: EcsTaskCause): string => {
  const container = configurationContainerOf(task);
  const exit = container?.ExitCode !== undefined ? `exited with code ${container.ExitCode}` : 'stopped';
  const reasons = [container?.Reason, task.StoppedReason].filter((reason): reason is string => Boolean(reason));
  return `the configuration container ${exit}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}${task.TaskArn ? ` (task ${task.TaskArn})` : ''}`;
};

/**
 * The message of a caught error: Lambda wraps it as JSON `{errorType, errorMessage}`; an ECS
 * task that failed comes as the task's description.
 */
export const causeMessage = (cause: string | undefined): string => {
  if (!cause) return '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) return String(parsed.errorMessage);
    if (parsed && typeof parsed === 'object' && ('Containers' in parsed || 'StoppedReason' in parsed)) return ecsTaskMessage(parsed as EcsTaskCause);
  } catch {
    // a plain message
  }
  return cause;
};

const plan = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  if (isTerminal(cluster.status)) throw new Error(`cluster ${cluster.id} is ${cluster.status}; it cannot be provisioned again`);
  if (cluster.phase === 'rollback') throw new RollbackInterrupted(`cluster ${cluster.id} was rolling back when its workflow stopped`);
  const provider = ctx.provider(cluster);
  // A re-run keeps what an earlier run planned (and perhaps created): names and ids stay stable.
  const servers: Server[] = cluster.servers.length > 0 ? cluster.servers : planServers(cluster.spec, provider);
  // Resolved once and kept: a retry runs the configuration the way the first attempt planned it.
  const runner = cluster.spec.configuration.runner ?? ctx.deps.config.DEFAULT_CONFIGURATION_RUNNER ?? 'ssm';
  const spec = { ...cluster.spec, configuration: { ...cluster.spec.configuration, runner } };
  await ctx.enter('PROVISIONING', 'plan', `planned ${servers.length} servers on ${provider.name}`, { servers, spec });
  return {
    servers: servers.length,
    runner,
    // Whether "Start the configuration" waits for the provider's configuration agents first.
    configurationAgents: provider.describeConfigurationAgents !== undefined,
    expectedBootSeconds: provider.timings.expectedBootSeconds,
    expectedConfigurationSeconds: provider.timings.expectedConfigurationSeconds,
  };
};

const createNetworks = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const count = cluster.spec.network.privateNetworks;
  await ctx.enter('PROVISIONING', 'create-networks', `creating ${count} private networks`);
  const securityRules = cluster.spec.network.securityRules ?? [];
  const networks = count > 0 ? await ctx.provider(cluster).createNetworks({ clusterId: cluster.id, count, securityRules }) : [];
  await ctx.update(() => ({ networks }), '');
  return { networks: networks.length };
};

const createServers = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const provider = ctx.provider(cluster);
  await ctx.enter('PROVISIONING', 'create-servers', `creating ${cluster.servers.length} servers in batches of ${provider.maxBatchSize}`);
  // Batches are cut from the planned order, so batch k and its client token are the same on every run.
  const batches = chunk(cluster.servers, provider.maxBatchSize).map((servers, index) => ({ servers, index }));
  const pending = batches.filter((batch) => batch.servers.some((server) => server.id === null));
  const made = new Map<string, { id: string; state: Server['state']; privateIp: string | null }>();
  // From the recorded spec: every batch, and every retry of one, asks for the same image, tags, … .
  const options = serverOptionsOf(cluster.spec);
  let more = false;
  await forEachConcurrently(pending, BATCH_CONCURRENCY, async (batch) => {
    if ((ctx.deps.remainingMs?.() ?? Infinity) < BATCH_TIME_RESERVE_MS) {
      more = true;
      return;
    }
    const created = await provider.createServers({
      clusterId: cluster.id,
      // The attempt keeps a retried cluster's new servers apart from the ones an earlier attempt deleted.
      clientToken: `${cluster.id}-a${cluster.attempt}-b${batch.index}`,
      networkIds: cluster.networks,
      servers: batch.servers.map((server) => {
        const group = cluster.spec.nodeGroups.find((g) => g.name === server.group);
        return {
          name: server.name,
          role: server.role,
          flavor: server.flavor,
          vcpus: group?.vcpus ?? 1,
          ramMb: group?.ramMb ?? 512,
          diskGb: group?.diskGb ?? 5,
        };
      }),
      options,
    });
    for (const server of created) {
      made.set(server.name, { id: server.id, state: server.state === 'ACTIVE' ? 'ACTIVE' : 'BUILD', privateIp: server.privateIp });
    }
  });
  await ctx.update(
    (current) => ({
      servers: current.servers.map((server) => {
        const created = made.get(server.name);
        return created && server.id === null ? { ...server, ...created } : server;
      }),
      deadlines: { ...current.deadlines, servers: current.deadlines.servers ?? ctx.deadline(ctx.deps.config.SERVER_BOOT_TIMEOUT_SECONDS) },
    }),
    '',
  );
  return { more, waitSeconds: Math.max(1, provider.timings.expectedBootSeconds) };
};

const describeServers = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  // Recorded before the provider is asked: the timeline shows the wait even when its first describe fails.
  await ctx.enter('PROVISIONING', 'wait-servers', `waiting for ${cluster.servers.length} servers to run`);
  const seen = new Map((await ctx.provider(cluster).describeServers({ clusterId: cluster.id })).map((s) => [s.id, s]));
  const servers = cluster.servers.map((server): Server => {
    const found = server.id ? seen.get(server.id) : undefined;
    if (!found) return { ...server, state: server.id ? 'ERROR' : server.state };
    const state = found.state === 'ACTIVE' || found.state === 'BUILD' ? found.state : 'ERROR';
    return { ...server, state, privateIp: found.privateIp ?? server.privateIp, publicIp: found.publicIp ?? server.publicIp };
  });
  const running = servers.filter((server) => server.state === 'ACTIVE').length;
  const changed = servers.some((server, i) => server.state !== cluster.servers[i]?.state);
  if (changed) await ctx.update(() => ({ servers }), `waiting for servers: ${running} of ${servers.length} running`);
  const failed = servers.filter((server) => server.state === 'ERROR');
  if (failed.length > 0) {
    const faults = failed.slice(0, 5).map((server) => {
      const fault = server.id ? seen.get(server.id)?.fault : 'the provider no longer knows it';
      return `${server.name}${fault ? ` (${fault})` : ''}`;
    });
    throw new ServerBootFailed(`${failed.length} server(s) failed to boot: ${faults.join(', ')}${failed.length > 5 ? ', …' : ''}`);
  }
  const allRunning = running === servers.length;
  if (!allRunning && ctx.passed(cluster.deadlines.servers)) {
    throw new ServersBootTimeout(
      `${servers.length - running} of ${servers.length} servers were not running after ${ctx.deps.config.SERVER_BOOT_TIMEOUT_SECONDS} s`,
    );
  }
  return { allRunning, running, total: servers.length, waitSeconds: ctx.deps.config.POLL_INTERVAL_SECONDS };
};

const allocateIps = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const policy = cluster.spec.network.publicIp;
  const targets = cluster.servers.filter((server) => policy === 'all' || (policy === 'master' && server.role === 'master'));
  await ctx.enter('PROVISIONING', 'allocate-ips', `allocating public IPs (policy ${policy}) for ${targets.length} servers`);
  const ids = targets.map((server) => server.id).filter((id): id is string => id !== null);
  const addresses = ids.length > 0 ? await ctx.provider(cluster).allocatePublicIps({ clusterId: cluster.id, serverIds: ids }) : {};
  await ctx.update(
    (current) => ({
      servers: current.servers.map((server) => (server.id && addresses[server.id] ? { ...server, publicIp: addresses[server.id] ?? null } : server)),
    }),
    '',
  );
  return { allocated: Object.keys(addresses).length };
};

/** How many nodes of a cluster keep a configuration message (each up to 200 characters). */
export const MAX_NODE_MESSAGES = 50;

/**
 * The servers with a run's per-node results on them, or nothing when none changed: the check is
 * polled, and a poll that learnt nothing new writes nothing. A node the run did not report this
 * time keeps what it had.
 */
const nodeResults = (servers: Server[], nodes: ConfigurationStatus['nodes']): Pick<Cluster, 'servers'> | Record<string, never> => {
  if (!nodes) return {};
  let changed = false;
  // The record holds every server in one DynamoDB item (400 KB at most): when many nodes fail
  // alike, the first ones' messages say why, the rest keep their state only.
  let messages = servers.filter((server) => server.configuration?.message !== undefined && !Object.hasOwn(nodes, server.name)).length;
  const next = servers.map((server) => {
    const reported = Object.hasOwn(nodes, server.name) ? nodes[server.name] : undefined;
    if (!reported) return server;
    const keepMessage = reported.message !== undefined && messages < MAX_NODE_MESSAGES;
    if (keepMessage) messages += 1;
    const result = { state: reported.state, ...(keepMessage ? { message: reported.message } : {}) };
    if (server.configuration?.state === result.state && server.configuration.message === result.message) return server;
    changed = true;
    return { ...server, configuration: result };
  });
  return changed ? { servers: next } : {};
};

const configure = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const provider = ctx.provider(cluster);
  // Recorded before the provider is asked: a start that fails shows as the configuration's. A
  // cluster CONFIGURING already (waiting for its agents, or a resumed run) keeps its phase.
  if (cluster.status !== 'CONFIGURING') await ctx.enter('CONFIGURING', 'configure', `starting configuration '${cluster.spec.configuration.profile}'`);
  const configurationId =
    cluster.configurationId ??
    (await provider.startConfiguration({
      clusterId: cluster.id,
      profile: cluster.spec.configuration.profile,
      servers: configurationServers(cluster),
      cluster,
    }));
  const status = await provider.describeConfiguration({ clusterId: cluster.id, configurationId, servers: configurationServers(cluster) });
  await ctx.enter('CONFIGURING', `configure:${status.component}`, `configuration '${cluster.spec.configuration.profile}' started`, (current) => ({
    // A run in stages may have moved on already: the next describe asks for where it is now.
    configurationId: status.configurationId ?? configurationId,
    deadlines: { ...cluster.deadlines, configuration: cluster.deadlines.configuration ?? ctx.deadline(ctx.deps.config.CONFIGURATION_TIMEOUT_SECONDS) },
    ...nodeResults(current.servers, status.nodes),
  }));
  return { done: false, waitSeconds: Math.max(1, Math.min(ctx.deps.config.POLL_INTERVAL_SECONDS, provider.timings.expectedConfigurationSeconds)) };
};

const ids = (list: string | undefined): string[] => (list ?? '').split(',').map((id) => id.trim()).filter(Boolean);

/**
 * The container runner's first half: records CONFIGURING and hands the workflow the container's
 * environment; the ECS task itself is the next state's (`ecs:runTask.sync`).
 */
const prepareContainer = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const { config } = ctx.deps;
  // Recorded first, so a refusal below is reported as this step's failure.
  // No deadline is recorded: no step runs while the task does; the ECS state's TimeoutSeconds bounds it.
  await ctx.enter('CONFIGURING', 'configure:container', `configuration '${cluster.spec.configuration.profile}' runs in the configuration container`);
  if (!config.CONTAINER_RUNNER_ENABLED) {
    throw new ContainerRunnerUnavailable('this deployment has no configuration container (CDK context configurationImage); use the ssm runner');
  }
  // On ec2 a private network is a security group admitting its members: the task joins the
  // first (every node is in every one), which is how it reaches the nodes on 22.
  const viaNetwork = cluster.provider === 'ec2' ? cluster.networks.slice(0, 1) : [];
  if (cluster.provider === 'ec2' && viaNetwork.length === 0) {
    throw new ContainerRunnerUnavailable('the configuration container reaches the nodes through a private network; this cluster has none (network.privateNetworks 0)');
  }
  // By reference whenever the deployment has the bucket: ECS refuses more than 8 KiB of
  // overrides, and one path for every cluster size is one path to trust. Keyed by attempt, so a
  // retried step writes the same objects and a retried cluster never reads an older attempt's.
  const documents = containerDocuments(cluster, { ...ctx.provider(cluster).inventoryVars });
  const { inputs } = ctx.deps;
  const prefix = `${cluster.id}/${cluster.attempt}`;
  const passed = inputs
    ? { inventoryUri: await inputs.put(`${prefix}/inventory.json`, documents.inventory), extraVarsUri: await inputs.put(`${prefix}/extra-vars.json`, documents.extraVars) }
    : documents;
  return {
    environment: containerEnvironment(cluster, passed),
    subnets: ids(config.CONFIGURATION_SUBNETS),
    securityGroups: [...ids(config.CONFIGURATION_SECURITY_GROUPS), ...viaNetwork],
  };
};

/**
 * On the failure path of "Run the configuration container": runTask.sync reports only the exit
 * code, so a component's failure is named from what the configuration-progress function recorded
 * from the container's `COMPONENT … FAILED <node>` lines — the code the ssm runner uses
 * (ConfigurationFailed), the component and nodes in the message, the exit code and stop reason
 * kept. Any other failure (bad input, a task that never ran, a timeout) passes unchanged. The
 * answer replaces the caught error the rollback records.
 */
const nameContainerFailure = async (ctx: StepContext, failure: CaughtError | undefined): Promise<Record<string, unknown>> => {
  const caught = failure ?? { Error: 'Unknown' };
  const task = ecsTaskOf(caught.Cause);
  if (!task || configurationContainerOf(task)?.ExitCode !== COMPONENT_FAILED_EXIT) return { ...caught };
  const cluster = await ctx.load();
  const report = cluster.configurationReport?.attempt === cluster.attempt ? cluster.configurationReport.failure : undefined;
  if (!report) {
    // The line is on its way through the log group's subscription; the state's Retry is the wait.
    throw new ConfigurationReportPending(`the configuration container exited with code ${COMPONENT_FAILED_EXIT}; its COMPONENT … FAILED line has not been recorded yet`);
  }
  // The nodes to blame, on their servers (the container reports no other node's result).
  await ctx.update((current) => {
    const blamed = nodeResults(current.servers, Object.fromEntries(report.nodes.map((node) => [node, { state: 'FAILED' as const, message: `failed at ${report.component}` }])));
    return 'servers' in blamed ? blamed : null;
  }, '');
  const shown = report.nodes.slice(0, 5).join(', ') + (report.nodes.length > 5 ? `, … (${report.nodes.length} nodes)` : '');
  const message = `configuration failed at ${report.component}${shown ? ` on ${shown}` : ''}: ${ecsTaskMessage(task)}`;
  return { Error: ConfigurationFailed.name, Cause: JSON.stringify({ errorType: ConfigurationFailed.name, errorMessage: message }) };
};

const checkConfiguration = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  if (!cluster.configurationId) throw new Error('no configuration run was started');
  const provider = ctx.provider(cluster);
  const run = { clusterId: cluster.id, configurationId: cluster.configurationId, servers: configurationServers(cluster) };
  const described = await provider.describeConfiguration(run);
  // Describing only reports: a run in stages goes on by its own call, once describe names the next stage.
  const status = described.nextStage !== undefined && provider.continueConfiguration ? await provider.continueConfiguration(run) : described;
  // A run in stages sent its next stage: recorded before anything else, or the next poll would
  // find the finished stage again (and continue it a second time).
  const movedOn = status.configurationId !== undefined && status.configurationId !== cluster.configurationId;
  // The nodes go in the same write, before a failure is thrown: the record shows which node failed.
  await ctx.enter('CONFIGURING', `configure:${status.component}`, `configuring ${status.component}`, (current) => ({
    ...(movedOn ? { configurationId: status.configurationId } : {}),
    ...nodeResults(current.servers, status.nodes),
  }));
  if (status.state === 'FAILED') {
    const node = status.failedNode ? ` on ${status.failedNode}` : '';
    throw new ConfigurationFailed(`configuration failed at ${status.component}${node}: ${status.message ?? 'no message'}`);
  }
  if (status.state === 'SUCCEEDED') return { done: true, waitSeconds: 0 };
  if (ctx.passed(cluster.deadlines.configuration)) {
    throw new ConfigurationTimeout(`configuration did not finish within ${ctx.deps.config.CONFIGURATION_TIMEOUT_SECONDS} s`);
  }
  return { done: false, waitSeconds: ctx.deps.config.POLL_INTERVAL_SECONDS };
};

const activate = async (ctx: StepContext) => {
  // The container's run reports no per-node progress; its exit 0 says every node is configured.
  const cluster = await ctx.enter('ACTIVE', 'ready', 'cluster is active', (current) =>
    current.spec.configuration.runner === 'container'
      ? nodeResults(current.servers, Object.fromEntries(current.servers.map((server) => [server.name, { state: 'SUCCEEDED' as const }])))
      : {},
  );
  countMetric(METRIC_NAMES.active);
  timeMetric(METRIC_NAMES.timeToActive, ctx.now() - Date.parse(cluster.createdAt));
  return { status: cluster.status };
};

/**
 * The cluster's error from what the failing state's Catch filed. An execution of a definition
 * older than the filing (under way while this code was deployed) hands over the error alone:
 * then the phase stands for the step.
 */
const clusterError = (cluster: Cluster, failed: FailedSteps | undefined, unfiled: CaughtError | undefined) => {
  const caught = failedStepOf(failed, cluster);
  const failure = caught?.error ?? unfiled;
  return { code: failure?.Error ?? 'Unknown', message: causeMessage(failure?.Cause) || 'no cause given', step: caught?.step ?? cluster.phase };
};

const rollback = async (ctx: StepContext, failed: FailedSteps | undefined, unfiled: CaughtError | undefined) => {
  let cluster = await ctx.load();
  // A destroy took over: it deletes everything, and the cluster's record is its to write.
  if (BEING_DESTROYED.includes(cluster.status)) return { remaining: 0, waitSeconds: 0 };
  if (cluster.phase !== 'rollback') {
    const error = clusterError(cluster, failed, unfiled);
    cluster = await ctx.enter(cluster.status, 'rollback', `${error.code} at ${error.step}: rolling back`, {
      error,
      deadlines: { ...cluster.deadlines, rollback: ctx.deadline(ROLLBACK_TIMEOUT_SECONDS) },
    });
  }
  const madeSomething = cluster.servers.some((server) => server.id !== null) || cluster.networks.length > 0;
  if (cluster.spec.onFailure === 'keep' || !madeSomething) return { remaining: 0, waitSeconds: 0 };
  const { remaining } = await ctx.provider(cluster).deleteCluster({ clusterId: cluster.id });
  if (remaining === 0) {
    await ctx.update((current) => ({ servers: current.servers.map((server) => ({ ...server, state: 'DELETED' as const, publicIp: null })) }), '');
  } else if (ctx.passed(cluster.deadlines.rollback)) {
    throw new RollbackIncomplete(`${remaining} resources were still present after ${ROLLBACK_TIMEOUT_SECONDS} s of rollback`);
  }
  return { remaining, waitSeconds: ROLLBACK_POLL_SECONDS };
};

const recordFailure = async (ctx: StepContext, state: StepInput['state']) => {
  const cluster = await ctx.load();
  if (BEING_DESTROYED.includes(cluster.status)) return { status: cluster.status };
  // Recorded by the rollback, unless it failed before it could record anything.
  const error = cluster.error ?? clusterError(cluster, state?.failed, state?.failure);
  const rollbackFailure = state?.rollbackFailure;
  const message = rollbackFailure
    ? `${error.message}; the rollback did not complete (${rollbackFailure.Error}: ${causeMessage(rollbackFailure.Cause)})`
    : error.message;
  // Kept resources still count against the quota until the cluster is destroyed. The quota is
  // given back before the status says FAILED, so whoever sees FAILED sees the quota free.
  if (cluster.spec.onFailure !== 'keep' && !rollbackFailure) await releaseClusterQuota(ctx.deps, cluster.id);
  await ctx.load();
  await ctx.enter('FAILED', 'failed', `failed at ${error.step}: ${error.code}`, { error: { ...error, message } });
  countMetric(METRIC_NAMES.failed);
  return { status: 'FAILED' };
};

const destroy = async (ctx: StepContext) => {
  let cluster = await ctx.load();
  if (cluster.status === 'DESTROYED') return { done: true, remaining: 0, waitSeconds: 0 };
  if (cluster.phase !== 'destroy') {
    cluster = await ctx.enter('DESTROYING', 'destroy', 'deleting every server, address and network of the cluster', {
      deadlines: { ...cluster.deadlines, destroy: ctx.deadline(DESTROY_TIMEOUT_SECONDS) },
    });
  }
  let remaining: number;
  try {
    // By tag, not by the record: a step that was still running when the destroy began may have made more.
    ({ remaining } = await ctx.provider(cluster).deleteCluster({ clusterId: cluster.id }));
  } catch (error) {
    // A provider this deployment does not have can have made nothing.
    if (!(error instanceof Error && error.name === 'ProviderUnavailable')) throw error;
    remaining = 0;
  }
  const settled = !cluster.deadlines.settle || ctx.passed(cluster.deadlines.settle);
  if (remaining > 0 && ctx.passed(cluster.deadlines.destroy)) {
    throw new DestroyIncomplete(`${remaining} resources were still present after ${DESTROY_TIMEOUT_SECONDS} s`);
  }
  return { done: remaining === 0 && settled, remaining, waitSeconds: ROLLBACK_POLL_SECONDS };
};

const recordDestroyed = async (ctx: StepContext) => {
  // Quota first: whoever sees DESTROYED sees the quota free. A re-run releases nothing twice.
  await releaseClusterQuota(ctx.deps, ctx.clusterId);
  await ctx.load();
  await ctx.update(
    (current) => ({
      status: 'DESTROYED',
      phase: 'destroyed',
      servers: current.servers.map((server) => ({ ...server, state: 'DELETED' as const, publicIp: null })),
    }),
    'the provider confirms every server, address and network gone',
  );
  countMetric(METRIC_NAMES.destroyed);
  return { status: 'DESTROYED' };
};

const recordDestroyFailure = async (ctx: StepContext, state: StepInput['state']) => {
  const caught = failedStepOf(state?.failed);
  const failure = caught?.error ?? state?.failure;
  const error = { code: failure?.Error ?? 'Unknown', message: causeMessage(failure?.Cause) || 'no cause given', step: caught?.step ?? 'destroy' };
  await ctx.enter('FAILED', 'failed', `destroy failed: ${error.code}`, { error });
  return { status: 'FAILED' };
};

export const runStep = async (deps: StepDeps, input: StepInput): Promise<Record<string, unknown>> => {
  const ctx = new StepContext(deps, input.clusterId, DESTROY_STEPS.includes(input.step));
  switch (input.step) {
    case 'plan':
      return plan(ctx);
    case 'create-networks':
      return createNetworks(ctx);
    case 'create-servers':
      return createServers(ctx);
    case 'describe-servers':
      return describeServers(ctx);
    case 'allocate-ips':
      return allocateIps(ctx);
    case 'prepare-container':
      return prepareContainer(ctx);
    case 'name-container-failure':
      return nameContainerFailure(ctx, input.failure);
    case 'check-configuration-agents':
      return checkConfigurationAgents(ctx);
    case 'configure':
      return configure(ctx);
    case 'check-configuration':
      return checkConfiguration(ctx);
    case 'activate':
      return activate(ctx);
    case 'rollback':
      return rollback(ctx, input.failed, input.failure);
    case 'record-failure':
      return recordFailure(ctx, input.state);
    case 'destroy':
      return destroy(ctx);
    case 'record-destroyed':
      return recordDestroyed(ctx);
    case 'record-destroy-failure':
      return recordDestroyFailure(ctx, input.state);
    default:
      throw new Error(`unknown step '${String((input as { step: unknown }).step)}'`);
  }
};
