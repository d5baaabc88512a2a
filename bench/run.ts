/**
 * `npm run bench`: how the provision workflow and the create route behave at scale, measured on
 * the local stack (startLocalStack, in memory, loopback only). See bench/README.md for the
 * method and what each figure means.
 *
 * Everything is bounded: fixed counts, a time limit on every wait and an overall deadline. When a
 * deadline hits, what was measured so far is printed and the exit code is 1; a completed run
 * exits 0 even when a target is missed (the report says which).
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SEED_EXAMPLE } from '#domain/compat-request';
import type { ExecutionSummary, ProfileSummary, StackSettings } from './protocol.ts';
import { mean, median, percentile, round, table } from './report.ts';
import { DeadlineExceeded, StackClient, within } from './stack-client.ts';
import { measureFloor, type FloorLevel } from './floor.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const STARTED_AT = Date.now();
/** The whole run, start to stop, stays under five minutes on a 2-core machine. */
const OVERALL_DEADLINE_MS = 285_000;
const HOST = '127.0.0.1';
const LOCAL_POLL_MS = 100;

/** Realistic timings, fixed (min = max) so the physical limit of every cluster is known exactly. */
const WORKFLOW_CLOUD: StackSettings['cloud'] = {
  bootMs: { min: 3000, max: 3000 },
  configMs: { min: 2000, max: 2000 },
  deleteMs: { min: 100, max: 400 },
  apiLatencyMs: { min: 2, max: 10 },
  // The bench destroys nothing (a destroy would add its own load to what is measured): room for every cluster.
  maxVcpus: 20_000,
  maxServers: 20_000,
};
const PHYSICAL_LIMIT_MS = WORKFLOW_CLOUD.bootMs.max + WORKFLOW_CLOUD.configMs.max;
const NODE_COUNTS = [1, 10, 100, 1000] as const;
/** Three runs per N: the reported figure is the middle one, the worst is shown beside it. */
const REPEATS: Record<(typeof NODE_COUNTS)[number], number> = { 1: 3, 10: 3, 100: 3, 1000: 3 };

/** Fast timings: each create's workflow still runs to ACTIVE, with the fewest polls it can do. */
const CREATE_CLOUD: StackSettings['cloud'] = {
  ...WORKFLOW_CLOUD,
  bootMs: { min: 50, max: 50 },
  configMs: { min: 50, max: 50 },
  deleteMs: { min: 10, max: 10 },
  apiLatencyMs: { min: 1, max: 3 },
};
const CLIENT_LEVELS = [1, 10, 50] as const;
const REQUESTS_PER_LEVEL = 200;
const WARMUP_REQUESTS = 50;

const TARGETS = { transitionGrowth: 1.5, readyOverLimit: 1.15, createP99Ms: 100 } as const;

/** Every cluster of a run belongs to project `local`: its quotas must hold all of them. */
const PROJECT_QUOTA = '1000000';
const stackEnv = (): Record<string, string> => ({
  PORT: '0',
  DYNAMODB_PORT: '0',
  HOST,
  LOCAL_POLL_MS: String(LOCAL_POLL_MS),
  QUOTA_MAX_VCPUS: PROJECT_QUOTA,
  QUOTA_MAX_SERVERS: PROJECT_QUOTA,
  QUOTA_MAX_CLUSTERS: PROJECT_QUOTA,
  // The expiry sweep scans the table; none of these clusters expires, and a scan would land in a random level.
  LOCAL_EXPIRY_SWEEP_MS: '3600000',
});

const left = () => STARTED_AT + OVERALL_DEADLINE_MS - Date.now();
/** A step's own limit, never past the overall deadline. */
const budget = (ms: number) => Math.max(0, Math.min(ms, left()));
const log = (line = '') => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Results

interface StateTotals {
  count: number;
  totalMs: number;
}

interface WorkflowRun {
  nodes: number;
  repeat: number;
  clusterId: string;
  status: string;
  executionStatus: string;
  error: unknown;
  transitions: number;
  taskInvocations: number;
  /** POST sent → the record's ACTIVE write. */
  timeToActiveMs: number | null;
  readyOverLimit: number | null;
  createRequestMs: number;
  /** The overhead (time to ACTIVE − the physical limit) cut at the workflow's milestones; the parts add up to it. */
  segments: Record<string, number> | null;
  byState: Record<string, StateTotals>;
  byStateType: Record<string, StateTotals>;
  dynamodbOps: Record<string, number>;
  cloudApiCalls: number;
  /** The cluster record's size as JSON, next to DynamoDB's 400 KB item limit. */
  recordBytes: number;
}

interface LevelResult {
  clients: number;
  requests: number;
  accepted: number;
  failures: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  wallMs: number;
  throughputPerSecond: number;
  newConnections: number;
  dynamodbOpsPerRequest: number;
  serverLoopUtilization: number;
  serverCpuMsPerRequest: number;
  clientCpuMsPerRequest: number;
  /** Per cluster, the create and its whole workflow (the level and its drain). */
  perCluster: { dynamodbOps: number; serverCpuMs: number };
  workflows: {
    started: number;
    statuses: Record<string, number>;
    /** Workflows running at once during the level, on average (time-weighted). */
    meanInFlight: number;
    /** Last response → every workflow of the level ended. */
    drainMs: number;
  };
}

const results = {
  complete: false,
  transitionsPerCluster: {} as Record<string, number>,
  readyOverLimit: {} as Record<string, number>,
  createLatencyMs: null as { p50: number; p99: number } | null,
  taskInvocationsPerCluster: {} as Record<string, number>,
  timeToActiveMs: {} as Record<string, number>,
  physicalLimitMs: PHYSICAL_LIMIT_MS,
  worstReadyOverLimit: {} as Record<string, number>,
  workflowRuns: [] as WorkflowRun[],
  createLatencyByClients: {} as Record<string, LevelResult>,
  /** Diagnostic: the same creates with their workflows held back until the level ended. */
  createRouteAlone: {} as Record<string, LevelResult>,
  /** Diagnostic: a create's DynamoDB calls alone (no API, no workflows), the least any create can cost here. */
  createFloor: [] as FloorLevel[],
  /** CPU profiles of the stack process: 50 clients with workflows running, and the route alone. */
  createProfile: null as (ProfileSummary & { latency: LevelResult }) | null,
  createRouteProfile: null as (ProfileSummary & { latency: LevelResult }) | null,
  /** met is null when the run ended before the figure was measured. */
  targets: [] as { target: string; value: number | null; limit: string; met: boolean | null }[],
  settings: {
    localPollMs: LOCAL_POLL_MS,
    host: HOST,
    workflowCloud: WORKFLOW_CLOUD,
    createCloud: CREATE_CLOUD,
    nodeCounts: [...NODE_COUNTS],
    repeats: REPEATS,
    nodeSize: { vcpus: 1, ramMb: 512, diskGb: 5 },
    request: 'compat create, seed body with small nodes, ip_allocation master, network_request 1',
    clientLevels: [...CLIENT_LEVELS],
    requestsPerLevel: REQUESTS_PER_LEVEL,
    warmupRequests: WARMUP_REQUESTS,
    overallDeadlineMs: OVERALL_DEADLINE_MS,
  },
  environment: {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    date: new Date(STARTED_AT).toISOString(),
    durationMs: 0,
    stackStderrLines: 0,
  },
};

// ---------------------------------------------------------------------------------------------
// HTTP

const createBody = (instanceName: string, slaves: number): string =>
  JSON.stringify({
    ...SEED_EXAMPLE,
    instance_name: instanceName,
    slaves,
    vcpus_master: 1,
    vcpus_slave: 1,
    ram_master: 512,
    ram_slave: 512,
    disk_master: 5,
    disk_slave: 5,
  });

/** The seed's call: POST /backend/create_lambda_instance with `Authorization: Token …`. Node's fetch keeps connections alive. */
const postCreate = async (stack: StackClient, body: string): Promise<{ status: number; text: string }> => {
  const response = await fetch(`${stack.url}/backend/create_lambda_instance`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Token ${stack.token}` },
    body,
  });
  return { status: response.status, text: await response.text() };
};

const uuidOf = (text: string): string => (JSON.parse(text) as { uuid: string }).uuid;

// ---------------------------------------------------------------------------------------------
// 1 + 2: transitions and time to ACTIVE per node count

const stateTotals = (execution: ExecutionSummary) => {
  const byState: Record<string, StateTotals> = {};
  const byStateType: Record<string, StateTotals> = {};
  const open = new Map<string, { at: number; type: string }>();
  for (const state of execution.states) {
    const at = Date.parse(state.at);
    if (state.event === 'StateEntered') open.set(state.name, { at, type: state.type });
    if (state.event !== 'StateExited') continue;
    const entered = open.get(state.name);
    if (!entered) continue;
    open.delete(state.name);
    for (const [totals, key] of [[byState, state.name], [byStateType, entered.type]] as const) {
      const entry = (totals[key] ??= { count: 0, totalMs: 0 });
      entry.count += 1;
      entry.totalMs += at - entered.at;
    }
  }
  return { byState, byStateType };
};

/** Milestones by state name (statemachine/provision.asl.json); null if the workflow no longer has them. */
const segmentsOf = (execution: ExecutionSummary, sentAt: number, activeAt: number): Record<string, number> | null => {
  const last = (name: string, event: string) => {
    const times = execution.states.filter((s) => s.name === name && s.event === event).map((s) => Date.parse(s.at));
    return times.length > 0 ? Math.max(...times) : null;
  };
  // The boot clock starts inside "Create servers" and the configuration's inside "Start the
  // configuration": the first is cut at the step's exit, the second at its entry, so neither lag
  // can come out negative; "submit" and "configuration lag" include those steps' own tails.
  const created = last('Create servers', 'StateExited');
  const running = last('Check the servers', 'StateExited');
  const configStarted = last('Start the configuration', 'StateEntered');
  const configured = last('Check the configuration', 'StateExited');
  if (created === null || running === null || configStarted === null || configured === null) return null;
  const boot = WORKFLOW_CLOUD.bootMs.max;
  const config = WORKFLOW_CLOUD.configMs.max;
  return {
    submitMs: created - sentAt,
    bootDetectLagMs: running - created - boot,
    allocateIpsMs: configStarted - running,
    configDetectLagMs: configured - configStarted - config,
    activateMs: activeAt - configured,
  };
};

const provisionOnce = async (stack: StackClient, nodes: number, repeat: number): Promise<WorkflowRun> => {
  const before = await stack.counters(budget(10_000));
  const sentAt = Date.now();
  const requestStarted = performance.now();
  const created = await within(postCreate(stack, createBody(`bench n${nodes} r${repeat}`, nodes - 1)), budget(15_000), `create N=${nodes}`);
  const createRequestMs = performance.now() - requestStarted;
  if (created.status !== 202) throw new Error(`create N=${nodes}: answered ${created.status}: ${created.text}`);
  const id = uuidOf(created.text);
  const waitMs = budget(120_000);
  const { executions, timedOut } = await stack.call({ type: 'await-executions', ids: [id], timeoutMs: waitMs }, 'executions', waitMs + 5_000);
  if (timedOut.length > 0 || !executions[0]) throw new DeadlineExceeded(`N=${nodes}: the workflow did not end within ${waitMs} ms`);
  const execution = executions[0];
  const after = await stack.counters(budget(10_000));
  const { cluster } = await stack.call({ type: 'cluster', id }, 'cluster', budget(10_000));
  if (!cluster) throw new Error(`N=${nodes}: cluster ${id} is not in the store`);

  const activeEvent = cluster.events.find((event) => event.status === 'ACTIVE');
  const activeAt = activeEvent ? Date.parse(activeEvent.at) : null;
  const timeToActiveMs = activeAt === null ? null : activeAt - sentAt;
  const dynamodbOps = Object.fromEntries(
    Object.entries(after.dynamodbOps).map(([op, count]) => [op, count - (before.dynamodbOps[op] ?? 0)]).filter(([, count]) => count !== 0),
  );
  return {
    nodes,
    repeat,
    clusterId: id,
    status: cluster.status,
    executionStatus: execution.status,
    error: cluster.error,
    transitions: execution.states.filter((s) => s.event === 'StateEntered').length,
    taskInvocations: execution.states.filter((s) => s.event === 'StateEntered' && s.type === 'Task').length,
    timeToActiveMs,
    readyOverLimit: timeToActiveMs === null ? null : round(timeToActiveMs / PHYSICAL_LIMIT_MS, 3),
    createRequestMs: round(createRequestMs, 2),
    segments: activeAt === null ? null : segmentsOf(execution, sentAt, activeAt),
    ...stateTotals(execution),
    dynamodbOps,
    cloudApiCalls: after.cloudDraws - before.cloudDraws,
    recordBytes: cluster.recordBytes,
  };
};

const summarizeWorkflowRuns = () => {
  for (const nodes of NODE_COUNTS) {
    const runs = results.workflowRuns.filter((run) => run.nodes === nodes);
    if (runs.length === 0) continue;
    const key = String(nodes);
    results.transitionsPerCluster[key] = median(runs.map((run) => run.transitions));
    results.taskInvocationsPerCluster[key] = median(runs.map((run) => run.taskInvocations));
    const ratios = runs.map((run) => run.readyOverLimit ?? Number.POSITIVE_INFINITY);
    results.readyOverLimit[key] = median(ratios);
    results.worstReadyOverLimit[key] = Math.max(...ratios);
    results.timeToActiveMs[key] = median(runs.map((run) => run.timeToActiveMs ?? Number.POSITIVE_INFINITY));
  }
};

const workflowTables = (): string => {
  const measured = NODE_COUNTS.filter((nodes) => results.transitionsPerCluster[String(nodes)] !== undefined);
  const runsOf = (nodes: number) => results.workflowRuns.filter((run) => run.nodes === nodes);
  const stateMs = (runs: WorkflowRun[], name: string, per: 'total' | 'each') =>
    median(
      runs.map((run) => {
        const totals = run.byState[name];
        if (!totals || totals.count === 0) return Number.NaN;
        return round(per === 'total' ? totals.totalMs : totals.totalMs / totals.count, 1);
      }),
    );
  const counts = measured.map((nodes) => {
    const key = String(nodes);
    const runs = runsOf(nodes);
    return [
      nodes,
      runs.length,
      results.transitionsPerCluster[key] ?? '',
      results.taskInvocationsPerCluster[key] ?? '',
      median(runs.map((run) => run.byState['Check the servers']?.count ?? 0)),
      stateMs(runs, 'Check the servers', 'each'),
      stateMs(runs, 'Create servers', 'total'),
      median(runs.map((run) => run.cloudApiCalls)),
      median(runs.map((run) => Object.values(run.dynamodbOps).reduce((a, b) => a + b, 0))),
      round(median(runs.map((run) => run.recordBytes)) / 1024, 1),
    ];
  });
  const times = measured.map((nodes) => {
    const key = String(nodes);
    const runs = runsOf(nodes);
    const segment = (name: string) => median(runs.map((run) => run.segments?.[name] ?? Number.NaN));
    return [
      nodes,
      results.timeToActiveMs[key] ?? '',
      PHYSICAL_LIMIT_MS,
      (results.readyOverLimit[key] ?? Number.NaN).toFixed(3),
      (results.worstReadyOverLimit[key] ?? Number.NaN).toFixed(3),
      segment('submitMs'),
      segment('bootDetectLagMs'),
      segment('allocateIpsMs'),
      segment('configDetectLagMs'),
      segment('activateMs'),
    ];
  });
  return [
    table(['N', 'runs', 'transitions', 'tasks', 'server polls', 'ms/poll', 'create-servers ms', 'cloud calls', 'ddb calls', 'record KB'], counts),
    '',
    table(['N', 'to ACTIVE ms', 'limit ms', 'ready/limit', 'worst run', 'submit ms', 'boot lag ms', 'IPs ms', 'config lag ms', 'activate ms'], times),
  ].join('\n');
};

const workflowBench = async (): Promise<void> => {
  log(`\n== Workflow per cluster: N = ${NODE_COUNTS.join(', ')} servers (slaves = N - 1), runs ${NODE_COUNTS.map((n) => REPEATS[n]).join('/')}`);
  log(
    `   emulated cloud: boot ${WORKFLOW_CLOUD.bootMs.max} ms, configuration ${WORKFLOW_CLOUD.configMs.max} ms (fixed), ` +
      `API latency ${WORKFLOW_CLOUD.apiLatencyMs.min}-${WORKFLOW_CLOUD.apiLatencyMs.max} ms; LOCAL_POLL_MS=${LOCAL_POLL_MS}; physical limit ${PHYSICAL_LIMIT_MS} ms`,
  );
  const stack = await StackClient.start({ env: stackEnv(), cloud: WORKFLOW_CLOUD, seed: 1 }, budget(60_000));
  active.add(stack);
  try {
    // One cluster first, not reported: JIT, the table and the connection pools warm up.
    await provisionOnce(stack, 10, 0);
    for (const nodes of NODE_COUNTS) {
      for (let repeat = 1; repeat <= REPEATS[nodes]; repeat++) {
        const run = await provisionOnce(stack, nodes, repeat);
        results.workflowRuns.push(run);
        summarizeWorkflowRuns();
        log(`   N=${nodes} run ${repeat}: ${run.status}, ${run.transitions} transitions, ${run.timeToActiveMs ?? '-'} ms to ACTIVE (×${run.readyOverLimit ?? '-'})`);
      }
    }
  } finally {
    results.environment.stackStderrLines += stack.stderrLines;
    await stack.stop(budget(15_000));
    active.delete(stack);
  }
  printWorkflowTables();
};

const printWorkflowTables = () => {
  if (results.workflowRuns.length === 0) return;
  log();
  log(workflowTables());
};

// ---------------------------------------------------------------------------------------------
// 3: create-request latency and throughput

const meanInFlight = (executions: ExecutionSummary[], from: number, to: number): number => {
  if (to <= from) return 0;
  const overlap = executions.reduce((sum, execution) => {
    const start = Date.parse(execution.startedAt);
    const stop = execution.stoppedAt ? Date.parse(execution.stoppedAt) : to;
    return sum + Math.max(0, Math.min(stop, to) - Math.max(start, from));
  }, 0);
  return overlap / (to - from);
};

const loadLevel = async (
  stack: StackClient,
  clients: number,
  requests: number,
  label: string,
  options: { holdWorkflows?: boolean; atWindowEnd?: () => Promise<void> } = {},
): Promise<LevelResult> => {
  if (options.holdWorkflows) await stack.call({ type: 'hold-workflows' }, 'held', budget(10_000));
  const before = await stack.counters(budget(10_000));
  const clientCpuBefore = process.cpuUsage();
  const latencies: number[] = [];
  const ids: string[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  const windowStart = Date.now();
  const started = performance.now();
  const client = async (worker: number) => {
    while (next < requests) {
      const index = next++;
      const sent = performance.now();
      try {
        const { status, text } = await postCreate(stack, createBody(`${label} c${worker} r${index}`, 0));
        const ms = performance.now() - sent;
        if (status === 202) {
          latencies.push(ms);
          ids.push(uuidOf(text));
        } else {
          failures[String(status)] = (failures[String(status)] ?? 0) + 1;
        }
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        failures[name] = (failures[name] ?? 0) + 1;
      }
    }
  };
  await within(Promise.all(Array.from({ length: clients }, (_, worker) => client(worker))), budget(90_000), `${label}: ${requests} creates with ${clients} clients`);
  const wallMs = performance.now() - started;
  const windowEnd = Date.now();
  const clientCpu = process.cpuUsage(clientCpuBefore);
  await options.atWindowEnd?.();
  const after = await stack.counters(budget(10_000));
  if (options.holdWorkflows) await stack.call({ type: 'release-workflows' }, 'released', budget(10_000));

  const waitMs = budget(120_000);
  const drained = await stack.call({ type: 'await-executions', ids, timeoutMs: waitMs }, 'executions', waitMs + 5_000);
  if (drained.timedOut.length > 0) throw new DeadlineExceeded(`${label}: ${drained.timedOut.length} workflows still running after ${waitMs} ms`);
  const statuses: Record<string, number> = {};
  for (const execution of drained.executions) statuses[execution.status] = (statuses[execution.status] ?? 0) + 1;
  const unsuccessful = drained.executions.length - (statuses.SUCCEEDED ?? 0);
  if (unsuccessful > 0) log(`   note: ${unsuccessful} of the ${label} workflows did not succeed: ${JSON.stringify(statuses)}`);
  const lastStop = Math.max(windowEnd, ...drained.executions.map((e) => (e.stoppedAt ? Date.parse(e.stoppedAt) : windowEnd)));
  const settled = await stack.counters(budget(10_000));
  const opsBetween = (from: typeof before, to: typeof before) =>
    Object.entries(to.dynamodbOps).reduce((sum, [op, n]) => sum + n - (from.dynamodbOps[op] ?? 0), 0);
  const cpuBetween = (from: typeof before, to: typeof before) => to.cpuUserMs + to.cpuSystemMs - from.cpuUserMs - from.cpuSystemMs;

  const ddbOps = opsBetween(before, after);
  const loopActive = after.loopActiveMs - before.loopActiveMs;
  const loopIdle = after.loopIdleMs - before.loopIdleMs;
  const count = Math.max(1, latencies.length);
  return {
    clients,
    requests,
    accepted: latencies.length,
    failures,
    p50: round(percentile(latencies, 50), 2),
    p90: round(percentile(latencies, 90), 2),
    p99: round(percentile(latencies, 99), 2),
    max: round(Math.max(...latencies), 2),
    mean: round(mean(latencies), 2),
    wallMs: round(wallMs, 1),
    throughputPerSecond: round((latencies.length / wallMs) * 1000, 1),
    newConnections: after.apiConnections - before.apiConnections,
    dynamodbOpsPerRequest: round(ddbOps / count, 1),
    serverLoopUtilization: round(loopActive / Math.max(1, loopActive + loopIdle), 3),
    serverCpuMsPerRequest: round(cpuBetween(before, after) / count, 2),
    clientCpuMsPerRequest: round((clientCpu.user + clientCpu.system) / 1000 / count, 2),
    perCluster: { dynamodbOps: round(opsBetween(before, settled) / count, 1), serverCpuMs: round(cpuBetween(before, settled) / count, 2) },
    workflows: {
      started: ids.length,
      statuses,
      meanInFlight: round(meanInFlight(drained.executions, windowStart, windowEnd), 1),
      drainMs: lastStop - windowEnd,
    },
  };
};

const latencyRow = (level: LevelResult, label: string) => [
  label,
  level.accepted,
  Object.values(level.failures).reduce((a, b) => a + b, 0),
  level.p50,
  level.p90,
  level.p99,
  level.max,
  level.throughputPerSecond,
  level.newConnections,
];
const LATENCY_HEADERS = ['clients', 'accepted', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'new conns'];

const loadRow = (level: LevelResult, label: string) => [
  label,
  level.serverLoopUtilization,
  level.serverCpuMsPerRequest,
  level.clientCpuMsPerRequest,
  level.dynamodbOpsPerRequest,
  level.perCluster.dynamodbOps,
  level.perCluster.serverCpuMs,
  level.workflows.meanInFlight,
  level.workflows.drainMs,
];
const LOAD_HEADERS = ['clients', 'stack loop busy', 'stack cpu ms/req', 'client cpu ms/req', 'ddb calls/req', 'ddb calls/cluster', 'cpu ms/cluster', 'workflows in flight', 'drain ms'];

const createBench = async (): Promise<void> => {
  log(`\n== Create requests: POST /backend/create_lambda_instance (slaves 0), ${REQUESTS_PER_LEVEL} per level, ${CLIENT_LEVELS.join('/')} concurrent clients`);
  log(
    `   emulated cloud: boot ${CREATE_CLOUD.bootMs.max} ms, configuration ${CREATE_CLOUD.configMs.max} ms, API latency ` +
      `${CREATE_CLOUD.apiLatencyMs.min}-${CREATE_CLOUD.apiLatencyMs.max} ms; LOCAL_POLL_MS=${LOCAL_POLL_MS}; every create starts a workflow that runs to ACTIVE`,
  );
  const stack = await StackClient.start({ env: stackEnv(), cloud: CREATE_CLOUD, seed: 2 }, budget(60_000));
  active.add(stack);
  try {
    await loadLevel(stack, 10, WARMUP_REQUESTS, 'warm-up');
    for (const clients of CLIENT_LEVELS) {
      const level = await loadLevel(stack, clients, REQUESTS_PER_LEVEL, `c${clients}`);
      results.createLatencyByClients[String(clients)] = level;
      if (clients === 50) results.createLatencyMs = { p50: level.p50, p99: level.p99 };
      log(`   ${clients} clients: p50 ${level.p50} ms, p99 ${level.p99} ms, ${level.throughputPerSecond} req/s`);
    }
    // Diagnostic, not a figure: the route alone, its workflows held back until each level ends.
    for (const clients of [1, 50]) {
      const level = await loadLevel(stack, clients, REQUESTS_PER_LEVEL, `alone-c${clients}`, { holdWorkflows: true });
      results.createRouteAlone[String(clients)] = level;
      log(`   ${clients} clients, workflows held back: p50 ${level.p50} ms, p99 ${level.p99} ms, ${level.throughputPerSecond} req/s`);
    }
    // The same loads once more under the CPU profiler (it slows the process a little): not figures, explanations.
    // Each profile covers the requests' window only: held workflows start after it.
    const profiled = async (holdWorkflows: boolean) => {
      let profile: ProfileSummary | null = null;
      await stack.profileStart();
      const latency = await loadLevel(stack, 50, REQUESTS_PER_LEVEL, holdWorkflows ? 'profiled-alone' : 'profiled', {
        holdWorkflows,
        atWindowEnd: async () => {
          profile = await stack.profileStop();
        },
      });
      return profile ? { ...(profile as ProfileSummary), latency } : null;
    };
    results.createProfile = await profiled(false);
    results.createRouteProfile = await profiled(true);
  } finally {
    results.environment.stackStderrLines += stack.stderrLines;
    await stack.stop(budget(15_000));
    active.delete(stack);
  }
  // With the stack stopped, so that nothing else runs beside it.
  results.createFloor = await measureFloor({ levels: [1, 50], requests: REQUESTS_PER_LEVEL, timeoutMs: budget(60_000) });
  printCreateTables();
};

const printCreateTables = () => {
  if (Object.keys(results.createLatencyByClients).length === 0) return;
  log();
  const levels = [
    ...Object.values(results.createLatencyByClients).map((level) => [level, String(level.clients)] as const),
    ...Object.values(results.createRouteAlone).map((level) => [level, `${level.clients} held*`] as const),
  ];
  log(table(LATENCY_HEADERS, levels.map(([level, label]) => latencyRow(level, label))));
  log();
  log(table(LOAD_HEADERS, levels.map(([level, label]) => loadRow(level, label))));
  log('   * diagnostic: workflows held back during the level and started after it (the route alone); not a target figure');
  log('   "per req" = during the requests\' window; "per cluster" = the create and its whole workflow (window + drain)');
  printFloor();
  printProfile('with the workflows running', results.createProfile);
  printProfile('the route alone (workflows held back)', results.createRouteProfile);
};

const printFloor = () => {
  if (results.createFloor.length === 0) return;
  log('\n   The floor: a create\'s DynamoDB calls alone, with the service\'s store adapter, against dynalite in a process of its own');
  log('   (no HTTP, no handler, no workflows; two processes, a core each). Not a target figure: what no create on this machine can beat.');
  log(
    table(
      ['calls', 'ddb calls', 'callers', 'p50 ms', 'p99 ms', 'req/s', 'caller cpu ms/create'],
      results.createFloor.map((level) => [level.variant, level.dynamodbCallsPerCreate, level.clients, level.p50, level.p99, level.throughputPerSecond, level.callerCpuMsPerCreate]),
    ),
  );
};

const printProfile = (what: string, profile: (ProfileSummary & { latency: LevelResult }) | null) => {
  if (!profile) return;
  log(
    `\n   Where the stack's CPU goes, 50 clients, ${what} (profiled pass: p50 ${profile.latency.p50} ms, p99 ${profile.latency.p99} ms; ` +
      `busy ${profile.busyMs} of ${profile.totalMs} ms):`,
  );
  log(table(['component (self time)', 'ms', 'share'], profile.groups.slice(0, 12).map((g) => [g.group, g.selfMs, `${(g.share * 100).toFixed(1)}%`])));
  log();
  log(table(['hottest functions', 'where', 'ms', 'share'], profile.functions.slice(0, 8).map((f) => [f.function, f.location, f.selfMs, `${(f.share * 100).toFixed(1)}%`])));
};

// ---------------------------------------------------------------------------------------------
// Targets and output

const evaluateTargets = () => {
  const t1 = results.transitionsPerCluster['1'];
  const t1000 = results.transitionsPerCluster['1000'];
  const growth = t1 !== undefined && t1000 !== undefined ? round(t1000 / t1, 3) : null;
  const ratios = NODE_COUNTS.map((n) => results.readyOverLimit[String(n)]);
  const worstMedian = ratios.every((r) => r !== undefined) ? Math.max(...(ratios as number[])) : null;
  const p99 = results.createLatencyMs?.p99 ?? null;
  results.targets = [
    { target: 'transitions at N=1000 within 1.5× of N=1', value: growth, limit: `≤ ${TARGETS.transitionGrowth}`, met: growth === null ? null : growth <= TARGETS.transitionGrowth },
    { target: 'every readyOverLimit ≤ 1.15 (largest shown)', value: worstMedian, limit: `≤ ${TARGETS.readyOverLimit}`, met: worstMedian === null ? null : worstMedian <= TARGETS.readyOverLimit },
    { target: 'create p99 < 100 ms at 50 concurrent clients', value: p99, limit: `< ${TARGETS.createP99Ms} ms`, met: p99 === null ? null : p99 < TARGETS.createP99Ms },
  ];
};

const printTargets = () => {
  log('\n== Targets');
  const mark = (met: boolean | null) => (met === null ? ' -- ' : met ? 'PASS' : 'FAIL');
  for (const target of results.targets) log(`   [${mark(target.met)}] ${target.target}: ${target.value ?? 'not measured'} (${target.limit})`);
  const overall = Object.entries(results.worstReadyOverLimit).filter(([, r]) => r > TARGETS.readyOverLimit);
  if (overall.length > 0) log(`   note: single runs above ${TARGETS.readyOverLimit}: ${overall.map(([n, r]) => `N=${n} ×${r}`).join(', ')}`);
  if (results.environment.stackStderrLines > 0) log(`   note: the stack wrote ${results.environment.stackStderrLines} lines to stderr (warnings/errors)`);
};

const active = new Set<StackClient>();

const main = async (): Promise<number> => {
  log(`cluster-service bench: node ${process.version}, ${os.cpus().length} CPUs, deadline ${OVERALL_DEADLINE_MS / 1000} s`);
  let part: 'workflow' | 'create' = 'workflow';
  try {
    await workflowBench();
    part = 'create';
    await createBench();
    results.complete = true;
  } catch (error) {
    for (const stack of active) stack.kill();
    const deadline = error instanceof DeadlineExceeded;
    log(`\n!! ${deadline ? 'DEADLINE' : 'ERROR'}: ${error instanceof Error ? error.message : String(error)}`);
    if (!deadline && error instanceof Error && error.stack) log(error.stack);
    log('\n== Measured before it stopped');
    // The part that was cut short has not printed its tables yet.
    if (part === 'workflow') printWorkflowTables();
    else printCreateTables();
  }
  results.environment.durationMs = Date.now() - STARTED_AT;
  evaluateTargets();
  printTargets();
  const summary = JSON.stringify(
    {
      transitionsPerCluster: results.transitionsPerCluster,
      readyOverLimit: results.readyOverLimit,
      createLatencyMs: results.createLatencyMs,
    },
    null,
    0,
  );
  if (!results.complete) {
    // A partial run does not replace the last complete results.json; it is printed instead.
    log(`\npartial results (results.json left as it was): ${summary}`);
    log(JSON.stringify(results, null, 2));
    return 1;
  }
  const file = path.join(import.meta.dirname, 'results.json');
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  const missed = results.targets.filter((target) => target.met === false).length;
  log(`\n${summary}`);
  log(`wrote ${path.relative(process.cwd(), file)} in ${Math.round(results.environment.durationMs / 1000)} s; ${missed === 0 ? 'every target met' : `${missed} target(s) missed (see above and bench/README.md)`}`);
  return 0;
};

process.exitCode = await main();
// Fetch's idle keep-alive sockets would hold the process a few seconds more; nothing is left to do.
process.exit();
