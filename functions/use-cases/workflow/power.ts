/**
 * The power workflow (statemachine/power.asl.json): "Stop the servers" ⇄ "Check the servers
 * stopped", then "Record the cluster stopped"; or "Start the servers" ⇄ "Check the servers
 * started", then "Record the cluster started"; on any failure "Record the power failure".
 *
 * A stopped cluster keeps its servers, their disks and addresses, and its quota; only the servers'
 * power changes. Every step reads the record and asks the provider again, so a repeated stop or
 * start (after a failure, or a restart) finishes what the first one began.
 */
import { ServerPowerFailed, ServerPowerTimeout } from '#domain/errors';
import { clusterErrorOf } from '#domain/failed-step';
import { isBeingDestroyed, type PowerAction } from '#domain/lifecycle';
import type { Cluster, ClusterStatus, Phase, Server } from '#domain/model';
import type { CloudProvider } from '#domain/provider';
import type { FailureInput, StepContext } from './context.ts';

interface Direction {
  status: ClusterStatus;
  phase: Phase;
  verb: string;
  /** The server state every powered server reaches. */
  target: 'STOPPED' | 'ACTIVE';
  call: (provider: CloudProvider) => CloudProvider['stopServers'];
}

const DIRECTIONS: Record<PowerAction, Direction> = {
  stop: { status: 'STOPPING', phase: 'stop', verb: 'stopping', target: 'STOPPED', call: (provider) => provider.stopServers.bind(provider) },
  start: { status: 'STARTING', phase: 'start', verb: 'starting', target: 'ACTIVE', call: (provider) => provider.startServers.bind(provider) },
};

/** The servers a stop or start acts on: those the provider made and has not deleted. */
export const poweredServers = (servers: readonly Server[]): Server[] => servers.filter((server) => server.id !== null && server.state !== 'DELETED');

const idsOf = (servers: readonly Server[]): string[] => servers.map((server) => server.id).filter((id): id is string => id !== null);

/** Asks the provider to stop (or start) every server of the cluster; a repeated ask is harmless. */
export const changePower = (action: PowerAction) => async (ctx: StepContext) => {
  const way = DIRECTIONS[action];
  const cluster = await ctx.load();
  const provider = ctx.provider(cluster);
  const call = way.call(provider);
  const servers = poweredServers(cluster.servers);
  await ctx.enter(way.status, way.phase, `${way.verb} ${servers.length} servers`, (current) =>
    current.deadlines.power ? {} : { deadlines: { ...current.deadlines, power: ctx.deadline(ctx.deps.config.SERVER_BOOT_TIMEOUT_SECONDS) } },
  );
  if (servers.length > 0) await call({ clusterId: cluster.id, serverIds: idsOf(servers), onOperations: ctx.operationsNote(cluster) });
  return { servers: servers.length, waitSeconds: ctx.deps.config.POLL_INTERVAL_SECONDS };
};

const stateSeen = (server: Server, state: string | undefined): Server['state'] => {
  switch (state) {
    case 'ACTIVE':
    case 'STOPPED':
    case 'BUILD':
    case 'ERROR':
      return state;
    case undefined:
    case 'DELETING':
    case 'DELETED':
      return 'ERROR';
    default:
      // On its way (STOPPING): it is what it was until it gets there.
      return server.state;
  }
};

/** One describe call for every server: done once all are where the action takes them. */
export const checkPower = (action: PowerAction) => async (ctx: StepContext) => {
  const way = DIRECTIONS[action];
  const cluster = await ctx.load();
  const seen = new Map((await ctx.provider(cluster).describeServers({ clusterId: cluster.id })).map((server) => [server.id, server]));
  const servers = cluster.servers.map((server): Server => {
    if (server.id === null || server.state === 'DELETED') return server;
    const found = seen.get(server.id);
    const state = stateSeen(server, found?.state);
    // A stopped server keeps the addresses it had; a started one answers them again.
    return { ...server, state, privateIp: found?.privateIp ?? server.privateIp, publicIp: found?.publicIp ?? server.publicIp };
  });
  const powered = poweredServers(servers);
  const there = powered.filter((server) => server.state === way.target).length;
  const changed = servers.some((server, i) => server.state !== cluster.servers[i]?.state || server.publicIp !== cluster.servers[i]?.publicIp);
  if (changed) await ctx.update(() => ({ servers }), `${way.verb} servers: ${there} of ${powered.length} ${way.target === 'STOPPED' ? 'stopped' : 'running'}`);
  const failed = powered.filter((server) => server.state === 'ERROR');
  if (failed.length > 0) {
    const named = failed.slice(0, 5).map((server) => {
      const fault = server.id ? seen.get(server.id)?.fault : undefined;
      return `${server.name}${fault ? ` (${fault})` : seen.has(server.id ?? '') ? '' : ' (the provider no longer knows it)'}`;
    });
    throw new ServerPowerFailed(`${failed.length} server(s) failed while ${way.verb}: ${named.join(', ')}${failed.length > 5 ? ', …' : ''}`);
  }
  const done = there === powered.length;
  if (!done && ctx.passed(cluster.deadlines.power)) {
    throw new ServerPowerTimeout(`${powered.length - there} of ${powered.length} servers were not ${way.target === 'STOPPED' ? 'stopped' : 'running'} after ${ctx.deps.config.SERVER_BOOT_TIMEOUT_SECONDS} s`);
  }
  return { done, waitSeconds: ctx.deps.config.POLL_INTERVAL_SECONDS };
};

const withoutPowerDeadline = (current: Cluster): Partial<Cluster> => {
  const { power: _, ...deadlines } = current.deadlines;
  return { deadlines };
};

export const recordStopped = async (ctx: StepContext) => {
  await ctx.load();
  const cluster = await ctx.enter('STOPPED', 'stopped', 'every server is stopped; disks, addresses and quota are kept', withoutPowerDeadline);
  return { status: cluster.status };
};

export const recordStarted = async (ctx: StepContext) => {
  await ctx.load();
  // The profile's services are enabled units on every node: they come back with their servers.
  const cluster = await ctx.enter('ACTIVE', 'ready', 'every server runs again', withoutPowerDeadline);
  return { status: cluster.status };
};

export const recordPowerFailure = async (ctx: StepContext, input: FailureInput) => {
  const cluster = await ctx.load();
  // A destroy took the cluster over (and stopped this execution): the destroy records what happens.
  if (isBeingDestroyed(cluster.status)) return { status: cluster.status };
  const action: PowerAction = input.action ?? (cluster.status === 'STARTING' ? 'start' : 'stop');
  const error = clusterErrorOf(input.state?.failed, input.state?.failure, action);
  await ctx.enter('FAILED', 'failed', `${action} failed: ${error.code}; the same request again repeats it`, (current) => ({ ...withoutPowerDeadline(current), error }));
  return { status: 'FAILED' };
};
