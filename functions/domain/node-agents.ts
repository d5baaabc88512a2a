/**
 * The cloud-init runner's protocol (docs/cloud-init-runner.md): each node's user data starts an
 * agent at first boot, which reports to `POST /v1/clusters/{id}/node-reports` and is told what to
 * do next. The master makes the controller key and sends its public half; each worker lets that
 * key in and says so; once "Start the configuration" released the run, the master fetches it
 * (profile, inventory, parameters, the configuration bundle's URL), runs run-profile.sh, and
 * sends its `COMPONENT` lines and its exit status.
 *
 * A node proves itself with its cluster's secret: an HMAC of the cluster id under the service's
 * node-report key, so it opens that cluster's route and no other's, and nothing needs storing.
 * It is never a project token and reaches nothing but this route.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { PUBLIC_KEY } from './controller-scripts.ts';
import { isTerminal } from './lifecycle.ts';
import { MASTER_ROLE, type Cluster, type NodeAgents } from './model.ts';

/** `Authorization: Node <secret>`. */
export const NODE_AUTH_SCHEME = 'Node';

/** How long an agent waits before asking again, in seconds. */
export const AGENT_POLL_SECONDS = 5;
/** A kept FAILED cluster may be retried: its master asks again, slowly, until its own deadline. */
export const AGENT_IDLE_POLL_SECONDS = 60;


const secretInput = (clusterId: string) => `cluster-service node report\u0000${clusterId}`;

/** The secret a cluster's nodes report with. */
export const nodeSecret = (key: string, clusterId: string): string => createHmac('sha256', key).update(secretInput(clusterId)).digest('base64url');

/** Whether `presented` is the cluster's secret, compared in constant time (over digests of equal length). */
export const nodeSecretMatches = (key: string, clusterId: string, presented: string): boolean => {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(nodeSecret(key, clusterId)), digest(presented));
};

/** The secret from an `Authorization` header, or null when the header is not a node's. */
export const nodeSecretOf = (authorization: string | undefined): string | null => {
  const match = /^Node ([A-Za-z0-9_-]{16,128})$/.exec(authorization ?? '');
  return match?.[1] ?? null;
};

const node = z.string().min(1).max(255);
const attempt = z.int().min(1).max(999_999);

/** What an agent sends. */
export const nodeReportSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('poll'), node }),
  z.strictObject({ type: z.literal('controller-key'), node, publicKey: z.string().regex(PUBLIC_KEY, 'must be an ssh-ed25519 public key') }),
  z.strictObject({ type: z.literal('authorized'), node }),
  z.strictObject({ type: z.literal('lines'), node, attempt, lines: z.array(z.string().max(2000)).min(1).max(200) }),
  z.strictObject({ type: z.literal('result'), node, attempt, exitCode: z.int().min(0).max(255) }),
]);
export type NodeReport = z.infer<typeof nodeReportSchema>;

/** What an agent is told; `run` is completed with the run's documents by whoever answers. */
export type NodeInstruction =
  | { next: 'wait'; seconds: number; reason: string }
  | { next: 'controller-key' }
  | { next: 'authorize'; publicKey: string; masterIp: string }
  | { next: 'run'; attempt: number; profile: string }
  | { next: 'ok' }
  | { next: 'stop'; reason: string };

export interface NodeReportDecision {
  /** The record's new `nodeAgents`, when the report changes it. */
  nodeAgents?: NodeAgents;
  /** For the timeline, when the change is worth a line there. */
  message?: string;
  instruction: NodeInstruction;
}

const EMPTY: NodeAgents = { ready: [] };

/** Why the cluster's agents have nothing more to do, or null while they may. */
const finished = (cluster: Cluster): string | null => {
  if (cluster.spec.configuration.runner !== 'cloud-init') return 'the cluster is not configured by its nodes';
  if (cluster.status === 'ACTIVE') return 'the cluster is active';
  if (isTerminal(cluster.status) && cluster.status !== 'FAILED') return `the cluster is ${cluster.status}`;
  if (cluster.status === 'DESTROYING' || cluster.phase === 'rollback') return 'the cluster is being taken down';
  if (cluster.status === 'FAILED' && cluster.servers.every((server) => server.id === null || server.state === 'DELETED')) {
    return 'the cluster failed and its servers were deleted';
  }
  return null;
};


type Wait = (reason: string, seconds?: number) => NodeInstruction;

const masterInstruction = (cluster: Cluster, agents: NodeAgents, wait: Wait): NodeInstruction => {
  if (!agents.controllerKey) return { next: 'controller-key' };
  const run = agents.run;
  if (cluster.status === 'FAILED') return wait('the cluster failed; a retry may release another run', AGENT_IDLE_POLL_SECONDS);
  if (!run || run.attempt !== cluster.attempt) return wait('the run is not released yet');
  if (agents.result?.attempt === run.attempt) return wait('the run has ended');
  return { next: 'run', attempt: run.attempt, profile: run.profile };
};

const workerInstruction = (cluster: Cluster, agents: NodeAgents, name: string, wait: Wait): NodeInstruction => {
  if (agents.ready.includes(name)) return { next: 'stop', reason: 'the controller key is let in already' };
  const masterIp = cluster.servers.find((server) => server.role === MASTER_ROLE)?.privateIp;
  if (!agents.controllerKey || !masterIp) return wait('the master has not sent its controller key yet');
  return { next: 'authorize', publicKey: agents.controllerKey, masterIp };
};

/**
 * What a report does to the record and what its agent is told: decided on the record as it is
 * now (the store retries on conflict), so a report applied twice changes nothing the second time.
 * `lines` are the progress use case's to apply; here they are only acknowledged.
 */
export const decideNodeReport = (cluster: Cluster, report: NodeReport, now: string, pollSeconds = AGENT_POLL_SECONDS): NodeReportDecision => {
  const wait: Wait = (reason, seconds = pollSeconds) => ({ next: 'wait', seconds, reason });
  const stop = finished(cluster);
  if (stop) return { instruction: { next: 'stop', reason: stop } };
  const server = cluster.servers.find((candidate) => candidate.name === report.node);
  if (!server) return { instruction: { next: 'stop', reason: `${report.node} is not a node of this cluster` } };
  const agents = cluster.nodeAgents ?? EMPTY;
  const isMaster = server.role === MASTER_ROLE;
  switch (report.type) {
    case 'poll': {
      if (!isMaster) return { instruction: workerInstruction(cluster, agents, server.name, wait) };
      const instruction = masterInstruction(cluster, agents, wait);
      if (instruction.next === 'run' && agents.run && !agents.run.fetchedAt) {
        return { nodeAgents: { ...agents, run: { ...agents.run, fetchedAt: now } }, message: `the master ${server.name} fetched the configuration run`, instruction };
      }
      return { instruction };
    }
    case 'controller-key': {
      if (!isMaster) return { instruction: { next: 'stop', reason: 'only the master sends a controller key' } };
      if (agents.controllerKey === report.publicKey) return { instruction: masterInstruction(cluster, agents, wait) };
      const next = { ...agents, controllerKey: report.publicKey };
      return { nodeAgents: next, message: `the master ${server.name} sent its controller key`, instruction: masterInstruction(cluster, next, wait) };
    }
    case 'authorized': {
      if (isMaster) return { instruction: { next: 'stop', reason: 'the master lets in no controller key' } };
      if (agents.ready.includes(server.name)) return { instruction: { next: 'stop', reason: 'recorded already' } };
      const ready = [...agents.ready, server.name];
      const workers = cluster.servers.filter((candidate) => candidate.role !== MASTER_ROLE).length;
      return {
        nodeAgents: { ...agents, ready },
        ...(ready.length === workers ? { message: `all ${workers} workers let the controller key in` } : {}),
        instruction: { next: 'stop', reason: 'recorded' },
      };
    }
    case 'lines':
      return { instruction: isMaster ? { next: 'ok' } : { next: 'stop', reason: 'only the master runs the profile' } };
    case 'result': {
      if (!isMaster) return { instruction: { next: 'stop', reason: 'only the master runs the profile' } };
      if (report.attempt !== cluster.attempt || agents.run?.attempt !== report.attempt || agents.result?.attempt === report.attempt) return { instruction: { next: 'ok' } };
      return {
        nodeAgents: { ...agents, result: { attempt: report.attempt, exitCode: report.exitCode, at: now } },
        message: `the master ${server.name} finished the run with exit status ${report.exitCode}`,
        instruction: { next: 'ok' },
      };
    }
  }
};

/** The servers (by id) whose agents have not checked in: a master without its key, workers that have not let it in. */
export const offlineAgents = (cluster: Pick<Cluster, 'servers' | 'nodeAgents'>): string[] => {
  const agents = cluster.nodeAgents ?? EMPTY;
  return cluster.servers.flatMap((server) => {
    if (!server.id) return [];
    const online = server.role === MASTER_ROLE ? agents.controllerKey !== undefined : agents.ready.includes(server.name);
    return online ? [] : [server.id];
  });
};
