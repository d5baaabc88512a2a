/**
 * The process under test: the local stack, as `npm start` builds it (startLocalStack, in memory,
 * loopback, ports chosen by the system), driven by bench/run.ts over the IPC channel. It answers
 * what only the service side can see: execution records, cluster records, DynamoDB call counts,
 * event-loop load and a CPU profile.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { provisionExecutionName } from '#domain/workflow';
import { readLocalConfig } from '../infra/local/config.ts';
import { startLocalStack, type LocalStack } from '../infra/local/stack.ts';
import type { LocalWorkflow } from '../infra/local/step-functions.ts';
import { summarizeProfile, type CpuProfile } from './profile.ts';
import type { ClusterSummary, Counters, Envelope, ExecutionSummary, Reply, Request } from './protocol.ts';

let stack: LocalStack | null = null;
let session: Session | null = null;
/** Workflow starts held back by `hold-workflows` (a diagnostic: the create route without the work it starts). */
let held: Parameters<LocalWorkflow['start']>[] | null = null;
let startWorkflow: LocalWorkflow['start'] | null = null;

const counters = {
  dynamodbOps: {} as Record<string, number>,
  cloudDraws: 0,
  apiRequests: 0,
  apiConnections: 0,
};
const apiSockets = new WeakSet<Socket>();
// Counted at the emulator's HTTP door, so nothing in the service has to change for its calls to be seen.
diagnosticsChannel.subscribe('http.server.request.start', (message) => {
  const { request, socket } = message as { request: IncomingMessage; socket: Socket };
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') {
    const operation = target.split('.').pop() ?? target;
    counters.dynamodbOps[operation] = (counters.dynamodbOps[operation] ?? 0) + 1;
    return;
  }
  counters.apiRequests += 1;
  if (!apiSockets.has(socket)) {
    apiSockets.add(socket);
    counters.apiConnections += 1;
  }
});

/** mulberry32: small, fast, and the same sequence for the same seed. */
const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    counters.cloudDraws += 1;
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const requireStack = (): LocalStack => {
  if (!stack) throw new Error('the stack is not started');
  return stack;
};

const provisionWorkflow = (): LocalWorkflow => requireStack().workflows.machines.provision;
/** Every cluster here is new: its one provision execution is its first attempt. */
const executionName = (clusterId: string) => provisionExecutionName(clusterId, 1);

const summarizeExecution = (id: string): ExecutionSummary | null => {
  const record = provisionWorkflow().execution(executionName(id));
  if (!record) return null;
  return {
    id,
    status: record.status,
    startedAt: record.startedAt,
    ...(record.stoppedAt ? { stoppedAt: record.stoppedAt } : {}),
    states: record.states.map((state) => ({ ...state })),
    ...(record.error ? { error: { ...record.error } } : {}),
  };
};

const awaitExecutions = async (ids: string[], timeoutMs: number): Promise<Reply> => {
  const workflow = provisionWorkflow();
  const pending = new Set(ids);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(ids.map((id) => workflow.waitFor(executionName(id)).then(() => pending.delete(id)))),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const executions = ids.flatMap((id) => (pending.has(id) ? [] : [summarizeExecution(id)].filter((e): e is ExecutionSummary => e !== null)));
  return { type: 'executions', executions, timedOut: [...pending] };
};

const clusterSummary = async (id: string): Promise<Reply> => {
  const { clusters } = requireStack().stores;
  const cluster = await clusters.getCluster(id);
  if (!cluster) return { type: 'cluster', cluster: null };
  const events = await clusters.listEvents(id);
  const summary: ClusterSummary = {
    id,
    status: cluster.status,
    phase: cluster.phase,
    createdAt: cluster.createdAt,
    updatedAt: cluster.updatedAt,
    servers: cluster.servers.length,
    recordBytes: Buffer.byteLength(JSON.stringify(cluster)),
    error: cluster.error ?? null,
    events: events.map((event) => ({ at: event.at, status: event.status, phase: event.phase })),
  };
  return { type: 'cluster', cluster: summary };
};

const readCounters = (): Counters => {
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  return {
    dynamodbOps: { ...counters.dynamodbOps },
    cloudDraws: counters.cloudDraws,
    apiRequests: counters.apiRequests,
    apiConnections: counters.apiConnections,
    loopActiveMs: loop.active,
    loopIdleMs: loop.idle,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
  };
};

const handle = async (request: Request): Promise<Reply> => {
  switch (request.type) {
    case 'start': {
      const { settings } = request;
      stack = await startLocalStack({
        config: readLocalConfig(settings.env),
        cloud: { ...settings.cloud, failPattern: null, configFailPattern: null, apiErrorRate: 0, random: seededRandom(settings.seed) },
        inMemory: true,
        providerEnv: {},
      });
      // Held starts are what `hold-workflows` needs; otherwise a start goes straight through.
      const workflow = provisionWorkflow();
      const start = workflow.start.bind(workflow);
      startWorkflow = start;
      workflow.start = (...args: Parameters<LocalWorkflow['start']>) => {
        if (held) {
          held.push(args);
          return true;
        }
        return start(...args);
      };
      return { type: 'started', url: stack.url, token: stack.token };
    }
    case 'await-executions':
      return awaitExecutions(request.ids, request.timeoutMs);
    case 'cluster':
      return clusterSummary(request.id);
    case 'counters':
      return { type: 'counters', counters: readCounters() };
    case 'profile-start': {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
      return { type: 'profile', profile: null };
    }
    case 'profile-stop': {
      if (!session) return { type: 'profile', profile: null };
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = null;
      // tsx registers a source map per transpiled file: project frames get their .ts lines.
      const sourceLine = (url: string, line: number, column: number) => {
        if (!url.startsWith('file:') || url.includes('/node_modules/')) return null;
        const entry = findSourceMap(url)?.findEntry(line, column);
        return entry && 'originalLine' in entry ? entry.originalLine + 1 : null;
      };
      return { type: 'profile', profile: summarizeProfile(profile as unknown as CpuProfile, { sourceLine }) };
    }
    case 'hold-workflows':
      held = [];
      return { type: 'held' };
    case 'release-workflows': {
      const starts = held ?? [];
      held = null;
      const start = startWorkflow;
      if (start) for (const args of starts) start(...args);
      return { type: 'released', count: starts.length };
    }
    case 'stop': {
      await stack?.stop();
      stack = null;
      return { type: 'stopped' };
    }
  }
};

process.on('message', (message: Envelope<Request>) => {
  void handle(message.body)
    .catch((error: unknown): Reply => ({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    .then((reply) => {
      process.send?.({ seq: message.seq, body: reply } satisfies Envelope<Reply>);
      if (message.body.type === 'stop') process.disconnect();
    });
});

// The driver going away (deadline, crash) must not leave this process and its ports behind.
process.on('disconnect', () => {
  void Promise.resolve(stack?.stop())
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
