/**
 * The ssm runner: the provider applies the profile through its own run-command service (SSM Run
 * Command on ec2, the emulated cloud's stand-in locally), started by "Start the configuration"
 * and polled by "Check the configuration", with each node's result kept on its server.
 *
 * Before the start, "Check the configuration agents" waits for the agents through which a
 * provider configures its servers (SSM's on ec2), which come online some time after the servers
 * run — about a minute on ec2, several behind a NAT or on a cold image. The wait is a loop of the
 * workflow (Wait ⇄ this check ⇄ a Choice), bounded by its own deadline, so its length is a
 * setting rather than a Task's retry budget.
 */
import { ConfigurationAgentsOffline, ConfigurationFailed, ConfigurationTimeout } from '#domain/errors';
import type { Cluster, Server } from '#domain/model';
import type { ConfigurationStatus } from '#domain/provider';
import { cloudInitRunner } from './cloud-init.ts';
import type { ConfigurationRunnerPort, StepContext } from './context.ts';

/** The runner of the configuration steps: the cloud-init runner, or the provider's own. */
export const configurationRunnerOf = (ctx: StepContext, cluster: Cluster): ConfigurationRunnerPort => {
  const provider = ctx.provider(cluster);
  return cluster.spec.configuration.runner === 'cloud-init' ? cloudInitRunner(ctx, provider) : provider;
};

/** How many offline servers the error names: enough to act on, short enough for the record. */
const NAMED_IN_ERROR = 20;

/** The servers as the provider's configuration calls take them: those it made, by id. */
export const configurationServers = (cluster: Pick<Cluster, 'servers'>) =>
  cluster.servers.flatMap((server) => (server.id ? [{ id: server.id, name: server.name, role: server.role }] : []));

export const checkConfigurationAgents = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  // A run started already (a resumed execution): its agents were online.
  if (cluster.configurationId) return { online: true, offline: 0, waitSeconds: 0 };
  const { CONFIGURATION_AGENT_TIMEOUT_SECONDS: limit, POLL_INTERVAL_SECONDS: poll } = ctx.deps.config;
  const servers = configurationServers(cluster);
  const deadline = cluster.deadlines.agents ?? ctx.deadline(limit);
  if (!cluster.deadlines.agents) {
    // The configuration begins here: agents that never come online fail it, and the timeline says so.
    await ctx.enter('CONFIGURING', 'configure', `waiting for the configuration agents of ${servers.length} servers`, (current) => ({
      deadlines: { ...current.deadlines, agents: deadline },
    }));
  }
  const provider = configurationRunnerOf(ctx, cluster);
  const { offline } = provider.describeConfigurationAgents
    ? await provider.describeConfigurationAgents({ clusterId: cluster.id, profile: cluster.spec.configuration.profile, servers })
    : { offline: [] };
  if (offline.length === 0) return { online: true, offline: 0, waitSeconds: 0 };
  if (ctx.passed(deadline)) {
    const names = new Map(servers.map((server) => [server.id, server.name]));
    const listed = offline.slice(0, NAMED_IN_ERROR).map((id) => `${id} (${names.get(id) ?? 'unknown server'})`);
    const more = offline.length > NAMED_IN_ERROR ? `, … (${offline.length} in all)` : '';
    throw new ConfigurationAgentsOffline(
      `${offline.length} of ${servers.length} servers' configuration agents were still not online after ${limit} s: ${listed.join(', ')}${more}`,
    );
  }
  return { online: false, offline: offline.length, waitSeconds: poll };
};

/** How many nodes of a cluster keep a configuration message (each up to 200 characters). */
export const MAX_NODE_MESSAGES = 50;

/**
 * The servers with a run's per-node results on them, or nothing when none changed: the check is
 * polled, and a poll that learnt nothing new writes nothing. A node the run did not report this
 * time keeps what it had.
 */
export const nodeResults = (servers: Server[], nodes: ConfigurationStatus['nodes']): Pick<Cluster, 'servers'> | Record<string, never> => {
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

export const configure = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const provider = configurationRunnerOf(ctx, cluster);
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

export const checkConfiguration = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  if (!cluster.configurationId) throw new Error('no configuration run was started');
  const provider = configurationRunnerOf(ctx, cluster);
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
    const heard = status.message ? ` (${status.message})` : '';
    throw new ConfigurationTimeout(`configuration did not finish within ${ctx.deps.config.CONFIGURATION_TIMEOUT_SECONDS} s; the last component heard from: ${status.component}${heard}`);
  }
  return { done: false, waitSeconds: ctx.deps.config.POLL_INTERVAL_SECONDS };
};
