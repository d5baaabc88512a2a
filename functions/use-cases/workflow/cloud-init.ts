/**
 * The cloud-init runner (docs/cloud-init-runner.md): the nodes configure themselves from their
 * user data, and the workflow follows them through the record their agents report to
 * (#use-cases/node-reports). It goes through the same states as the provider's own runner:
 *
 * - "Create servers" gives every node the agent as its user data (nodeAgentUserData);
 * - "Check the configuration agents" waits until the master has sent its controller key and
 *   every worker has let it in;
 * - "Start the configuration" releases the run to the master;
 * - "Check the configuration" reads where the master's `COMPONENT` lines and exit status left it.
 *
 * The profile `none` needs no agent: no user data, nothing to wait for, done at once.
 */
import { CloudInitRunnerUnavailable } from '#domain/errors';
import { EMPTY_PROFILE } from '#domain/profiles';
import { MASTER_ROLE, type Cluster, type NodeAgents, type Server } from '#domain/model';
import { nodeAgentScript, nodeUserData } from '#domain/node-agent-script';
import { nodeSecret, offlineAgents } from '#domain/node-agents';
import type { CloudProvider, ConfigurationStatus } from '#domain/provider';
import { loginUserOf } from '#domain/providers';
import type { ConfigurationRunnerPort, StepContext } from './context.ts';

const RUN_PREFIX = 'cloud-init:';
/** The phase's component while the master has not started the first component. */
const WAITING_COMPONENT = 'controller';
/** run-profile.sh's exit status when a component failed (configuration/README.md). */
const COMPONENT_FAILED_EXIT = 2;

const settingsOf = (ctx: StepContext) => {
  const settings = ctx.deps.nodeAgents;
  if (!settings) {
    throw new CloudInitRunnerUnavailable('this deployment has no route for node reports (SERVICE_URL) or no node-report key: the cloud-init runner cannot run here');
  }
  return settings;
};

/** Whether the cluster's nodes boot with the agent. */
export const runsNodeAgents = (cluster: Pick<Cluster, 'spec'>): boolean =>
  cluster.spec.configuration.runner === 'cloud-init' && cluster.spec.configuration.profile !== EMPTY_PROFILE;

/** Refuses a cloud-init cluster before anything is made when this deployment cannot hear its nodes. */
export const checkCloudInitRunner = (ctx: StepContext, cluster: Pick<Cluster, 'spec'>): void => {
  if (runsNodeAgents(cluster)) settingsOf(ctx);
};

/**
 * Each server's user data by name: the agent, after the client's own user data when it gave
 * some (base64). Empty when the nodes run no agent.
 */
export const nodeAgentUserData = async (ctx: StepContext, cluster: Cluster, provider: CloudProvider, servers: Server[]): Promise<Map<string, string>> => {
  if (!runsNodeAgents(cluster)) return new Map();
  const settings = settingsOf(ctx);
  const secret = nodeSecret(await settings.nodeReportKey(), cluster.id);
  const reportUrl = settings.reportUrl(cluster.id);
  const loginUser = loginUserOf(provider);
  return new Map(
    servers.map((server) => [
      server.name,
      nodeUserData(
        nodeAgentScript({ reportUrl, secret, node: server.name, role: server.role === MASTER_ROLE ? 'master' : 'worker', loginUser }),
        cluster.spec.userData,
      ),
    ]),
  );
};

const componentOf = (cluster: Cluster): string =>
  cluster.phase.startsWith('configure:') && cluster.phase !== 'configure:' ? cluster.phase.slice('configure:'.length) : WAITING_COMPONENT;

const allNodes = (cluster: Cluster, state: 'SUCCEEDED' | 'FAILED', message?: string) =>
  Object.fromEntries(cluster.servers.map((server) => [server.name, { state, ...(message ? { message } : {}) }]));

/** Where the released run is, from what the master reported. */
const statusOf = (cluster: Cluster, attempt: number): ConfigurationStatus => {
  const agents: NodeAgents = cluster.nodeAgents ?? { ready: [] };
  const report = cluster.configurationReport?.attempt === attempt ? cluster.configurationReport : undefined;
  const component = componentOf(cluster);
  const result = agents.result?.attempt === attempt ? agents.result : undefined;
  if (!result) {
    const fetched = agents.run?.attempt === attempt ? agents.run.fetchedAt : undefined;
    return { state: 'RUNNING', component, message: fetched ? `the master fetched the run at ${fetched}` : 'the master has not fetched the run yet' };
  }
  if (result.exitCode === 0) return { state: 'SUCCEEDED', component, nodes: allNodes(cluster, 'SUCCEEDED') };
  const failure = report?.failure;
  if (result.exitCode === COMPONENT_FAILED_EXIT && failure) {
    return {
      state: 'FAILED',
      component: failure.component,
      ...(failure.node ? { failedNode: failure.node } : {}),
      message: `run-profile.sh stopped at ${failure.component}${failure.nodes.length > 0 ? ` (failed on ${failure.nodes.join(', ')})` : ''}`,
      nodes: Object.fromEntries(failure.nodes.map((node) => [node, { state: 'FAILED' as const, message: `failed at ${failure.component}` }])),
    };
  }
  return { state: 'FAILED', component, message: `run-profile.sh exited with status ${result.exitCode} on the master (64: bad input, or a bundle it could not fetch)` };
};

/** The runner the configuration steps drive for a cloud-init cluster. */
export const cloudInitRunner = (ctx: StepContext, provider: CloudProvider): ConfigurationRunnerPort => ({
  timings: provider.timings,
  async describeConfigurationAgents({ profile }) {
    if (profile === EMPTY_PROFILE) return { offline: [] };
    return { offline: offlineAgents(await ctx.load()) };
  },
  async startConfiguration({ profile }) {
    if (profile === EMPTY_PROFILE) return EMPTY_PROFILE;
    settingsOf(ctx);
    const cluster = await ctx.load();
    const attempt = cluster.attempt;
    await ctx.update((current) => {
      const agents = current.nodeAgents ?? { ready: [] };
      if (agents.run?.attempt === attempt) return null;
      return { nodeAgents: { ...agents, run: { attempt, profile, inventoryVars: { ...provider.inventoryVars } } } };
    }, '');
    return `${RUN_PREFIX}${attempt}`;
  },
  async describeConfiguration({ configurationId }) {
    if (configurationId === EMPTY_PROFILE) return { state: 'SUCCEEDED', component: EMPTY_PROFILE, message: 'nothing to configure' };
    const attempt = Number(configurationId.slice(RUN_PREFIX.length));
    return statusOf(await ctx.load(), attempt);
  },
});
