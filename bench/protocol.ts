/**
 * Messages between the bench driver (bench/run.ts) and the process that runs the local stack
 * (bench/stack-process.ts). The stack lives in its own process so the HTTP clients and the
 * service do not share one event loop: a client's own work would otherwise count as service
 * latency, and a CPU profile of the service would include the clients.
 */
import type { LocalCloudSettings } from '../infra/local/cloud/index.ts';

export interface StackSettings {
  /** Local-mode variables, as `npm start` would read them (ports and host included). */
  env: Record<string, string>;
  cloud: Pick<LocalCloudSettings, 'bootMs' | 'configMs' | 'deleteMs' | 'apiLatencyMs' | 'maxVcpus' | 'maxServers'>;
  /** Seed of the cloud's draws, so the API latencies of two runs are the same sequence. */
  seed: number;
}

export type Request =
  | { type: 'start'; settings: StackSettings }
  | { type: 'await-executions'; ids: string[]; timeoutMs: number }
  | { type: 'cluster'; id: string }
  | { type: 'counters' }
  | { type: 'profile-start' }
  | { type: 'profile-stop' }
  | { type: 'hold-workflows' }
  | { type: 'release-workflows' }
  | { type: 'stop' };

export interface StateEvent {
  name: string;
  type: string;
  event: string;
  at: string;
}

export interface ExecutionSummary {
  id: string;
  status: string;
  startedAt: string;
  stoppedAt?: string;
  states: StateEvent[];
  error?: { error: string; cause: string };
}

export interface ClusterSummary {
  id: string;
  status: string;
  phase: string;
  createdAt: string;
  updatedAt: string;
  servers: number;
  /** Size of the cluster record as JSON: close to its DynamoDB item size (limit 400 KB). */
  recordBytes: number;
  error: unknown;
  events: { at: string; status: string; phase: string }[];
}

/** Monotonic counters of the stack process; the driver takes differences. */
export interface Counters {
  /** DynamoDB API calls that reached the emulator, by operation (X-Amz-Target). */
  dynamodbOps: Record<string, number>;
  /** Calls of the cloud's random(): one per emulated cloud API call with these settings (see bench/README.md). */
  cloudDraws: number;
  /** Requests and new TCP connections on the API port (keep-alive check). */
  apiRequests: number;
  apiConnections: number;
  /** Event loop time, ms: busy and idle (utilization = active / (active + idle)). */
  loopActiveMs: number;
  loopIdleMs: number;
  /** CPU time of the process, ms (all threads). */
  cpuUserMs: number;
  cpuSystemMs: number;
}

export interface ProfileGroup {
  group: string;
  selfMs: number;
  share: number;
}

export interface ProfileFunction {
  function: string;
  location: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy time (everything but idle and the profiler itself), the base of the shares. */
  busyMs: number;
  idleMs: number;
  profilerMs: number;
  groups: ProfileGroup[];
  functions: ProfileFunction[];
}

export type Reply =
  | { type: 'started'; url: string; token: string }
  | { type: 'executions'; executions: ExecutionSummary[]; timedOut: string[] }
  | { type: 'cluster'; cluster: ClusterSummary | null }
  | { type: 'counters'; counters: Counters }
  | { type: 'profile'; profile: ProfileSummary | null }
  | { type: 'held' }
  | { type: 'released'; count: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

export interface Envelope<T> {
  seq: number;
  body: T;
}
