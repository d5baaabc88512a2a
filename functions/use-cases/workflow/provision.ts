/**
 * The provision workflow up to the configuration, and its end: "Plan the cluster", "Create
 * private networks", "Create servers" (in provider-sized batches), "Check the servers" (one
 * describe call for all of them), "Allocate public IPs", and "Mark the cluster active".
 */
import { RollbackInterrupted, ServerBootFailed, ServersBootTimeout } from '#domain/errors';
import { isTerminal } from '#domain/lifecycle';
import type { Server } from '#domain/model';
import { planServers, serverOptionsOf, wantsPublicIp } from '#domain/plan';
import { providerEventsSecret } from '#domain/provider-events';
import { chunk, forEachConcurrently } from '#lib/batching';
import { countMetric, METRIC_NAMES, timeMetric } from '#lib/metrics';
import { defaultRunnerOf } from '#domain/providers';
import { checkCloudInitRunner, nodeAgentUserData } from './cloud-init.ts';
import { configurationRunnerOf, nodeResults } from './configuration.ts';
import type { StepContext } from './context.ts';

/** Batches run a few at a time: fast enough for large clusters, gentle on provider rate limits. */
const BATCH_CONCURRENCY = 4;
/** Stop starting batches when less than this is left of the invocation; the workflow calls again. */
const BATCH_TIME_RESERVE_MS = 20_000;

export const plan = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  if (isTerminal(cluster.status)) throw new Error(`cluster ${cluster.id} is ${cluster.status}; it cannot be provisioned again`);
  if (cluster.phase === 'rollback') throw new RollbackInterrupted(`cluster ${cluster.id} was rolling back when its workflow stopped`);
  const provider = ctx.provider(cluster);
  // A re-run keeps what an earlier run planned (and perhaps created): names and ids stay stable.
  const servers: Server[] = cluster.servers.length > 0 ? cluster.servers : planServers(cluster.spec, provider);
  // Resolved once and kept: a retry runs the configuration the way the first attempt planned it.
  const runner = cluster.spec.configuration.runner ?? defaultRunnerOf(provider, ctx.deps.config.DEFAULT_CONFIGURATION_RUNNER);
  const spec = { ...cluster.spec, configuration: { ...cluster.spec.configuration, runner } };
  // Before anything is made: a deployment that cannot hear the nodes fails the cluster here.
  checkCloudInitRunner(ctx, { spec });
  await ctx.enter('PROVISIONING', 'plan', `planned ${servers.length} servers on ${provider.name}`, { servers, spec });
  return {
    servers: servers.length,
    runner,
    // Whether "Start the configuration" waits for the provider's configuration agents first.
    configurationAgents: configurationRunnerOf(ctx, { ...cluster, spec }).describeConfigurationAgents !== undefined,
    expectedBootSeconds: provider.timings.expectedBootSeconds,
    expectedConfigurationSeconds: provider.timings.expectedConfigurationSeconds,
  };
};

export const createNetworks = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const count = cluster.spec.network.privateNetworks;
  await ctx.enter('PROVISIONING', 'create-networks', `creating ${count} private networks`);
  const securityRules = cluster.spec.network.securityRules ?? [];
  const networks = count > 0 ? await ctx.provider(cluster).createNetworks({ clusterId: cluster.id, count, securityRules }) : [];
  await ctx.update(() => ({ networks }), '');
  return { networks: networks.length };
};

export const createServers = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const provider = ctx.provider(cluster);
  await ctx.enter('PROVISIONING', 'create-servers', `creating ${cluster.servers.length} servers in batches of ${provider.maxBatchSize}`);
  // Batches are cut from the planned order, so batch k and its client token are the same on every run.
  const batches = chunk(cluster.servers, provider.maxBatchSize).map((servers, index) => ({ servers, index }));
  const pending = batches.filter((batch) => batch.servers.some((server) => server.id === null));
  const made = new Map<string, { id: string; state: Server['state']; privateIp: string | null }>();
  // From the recorded spec: every batch, and every retry of one, asks for the same image, tags, … .
  const options = serverOptionsOf(cluster.spec);
  // The cloud-init runner's agent, per server; the same on every run, so a retried batch asks for the same.
  const userData = await nodeAgentUserData(ctx, cluster, provider, pending.flatMap((batch) => batch.servers));
  // Where the cloud may tell of its servers' changes, for one that calls back; the same on every run.
  const agents = ctx.deps.nodeAgents;
  const callbackUrl =
    provider.takesCallbackUrl && agents?.eventsUrl ? agents.eventsUrl(cluster.id, providerEventsSecret(await agents.nodeReportKey(), cluster.id)) : undefined;
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
          group: server.group,
          flavor: server.flavor,
          vcpus: group?.vcpus ?? 1,
          ramMb: group?.ramMb ?? 512,
          diskGb: group?.diskGb ?? 5,
          publicIp: wantsPublicIp(cluster.spec, server.role),
          ...(userData.has(server.name) ? { userData: userData.get(server.name) } : {}),
        };
      }),
      options,
      ...(cluster.spec.network.securityRules?.length ? { securityRules: cluster.spec.network.securityRules } : {}),
      onOperations: ctx.operationsNote(cluster),
      ...(callbackUrl ? { callbackUrl } : {}),
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

export const describeServers = async (ctx: StepContext) => {
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

export const allocateIps = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const policy = cluster.spec.network.publicIp;
  const targets = cluster.servers.filter((server) => wantsPublicIp(cluster.spec, server.role));
  await ctx.enter('PROVISIONING', 'allocate-ips', `allocating public IPs (policy ${policy}) for ${targets.length} servers`);
  const ids = targets.map((server) => server.id).filter((id): id is string => id !== null);
  const addresses = ids.length > 0 ? await ctx.provider(cluster).allocatePublicIps({ clusterId: cluster.id, serverIds: ids, onOperations: ctx.operationsNote(cluster) }) : {};
  await ctx.update(
    (current) => ({
      servers: current.servers.map((server) => (server.id && addresses[server.id] ? { ...server, publicIp: addresses[server.id] ?? null } : server)),
    }),
    '',
  );
  return { allocated: Object.keys(addresses).length };
};

export const activate = async (ctx: StepContext) => {
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
