/**
 * Local Step Functions: the very ASL files in statemachine/ executed by aws-local-stepfunctions,
 * each Task state bound to the handler code its Lambda runs on AWS. Execution name = cluster id,
 * and starting a name that is running is a no-op, as on AWS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ExecutionError, StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import type { WorkflowKind, Workflows } from '#domain/workflow';
import { logger } from '#lib/logger';
import { invokeLocally, localFunctionArn, outsideInvocations } from './invocations.ts';

type JsonValue = Parameters<StateMachine['run']>[0];
/** A Lambda handler as the local runtime calls it. */
export type LocalLambda = (event: never, context: Context) => Promise<unknown>;
/**
 * The local stand-in for a service integration (`arn:aws:states:::…`): gets the Task's
 * Parameters, answers what the integration would, or throws an error named as Step Functions
 * would name it.
 */
export type LocalIntegration = (parameters: JsonValue) => Promise<JsonValue>;

const ROOT = path.resolve(import.meta.dirname, '../..');
const LOCAL_REGION = 'local';
const LOCAL_ACCOUNT = '000000000000';

/** The ASL file with its `${…}` placeholders filled, as CDK's definitionSubstitutions does. */
export const loadDefinition = (file: string, substitutions: Record<string, string>): Record<string, unknown> => {
  const text = readFileSync(path.resolve(ROOT, file), 'utf8').replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${file}: no substitution for ${whole}`);
    return value;
  });
  return JSON.parse(text) as Record<string, unknown>;
};

export interface ExecutionRecord {
  name: string;
  input: JsonValue;
  executionId: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  startedAt: string;
  stoppedAt?: string;
  /** States entered, in order: the console draws the workflow from these. */
  states: { name: string; type: string; event: string; at: string }[];
  error?: { error: string; cause: string };
}

export interface LocalWorkflowOptions {
  /** The ASL file, relative to the repository root. */
  file: string;
  stateMachineName: string;
  /** Placeholder → the local function name bound to it. */
  functions: Record<string, { name: string; handler: LocalLambda; timeoutMs: number }>;
  /** Service-integration Resource (e.g. `arn:aws:states:::ecs:runTask.sync`) → its local stand-in. */
  resources?: Record<string, LocalIntegration>;
  /** Values for the file's other placeholders (ARNs the local stand-ins ignore). */
  substitutions?: Record<string, string>;
  /** How long every Wait state pauses locally, in ms (instead of its seconds). */
  waitMs?: number;
  /** Pause before a retry, in ms, per Task state (the definition's backoff when absent). */
  retryMs?: number;
}

/** One state machine, run locally. */
export class LocalWorkflow {
  private readonly machine: StateMachine;
  private readonly runOptions: RunOptions;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly aborts = new Map<string, () => void>();
  /** Task invocations under way, by cluster: a stopped execution's Task still finishes, as on AWS. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  constructor(private readonly options: LocalWorkflowOptions) {
    const arns = Object.fromEntries(Object.entries(options.functions).map(([placeholder, fn]) => [placeholder, localFunctionArn(fn.name)]));
    const definition = loadDefinition(options.file, { ...options.substitutions, ...arns });
    this.machine = new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0]);

    const byArn = new Map(Object.values(options.functions).map((fn) => [localFunctionArn(fn.name), fn]));
    const states = Object.entries(definition.States as Record<string, { Type: string; Resource?: string }>);
    const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, state] of states) {
      const integration = state.Type === 'Task' && state.Resource ? options.resources?.[state.Resource] : undefined;
      if (integration) {
        taskResourceLocalHandlers[name] = (input) => this.track(input, async () =>
          JSON.parse(JSON.stringify((await integration(structuredClone(input))) ?? null)) as JsonValue);
        if (options.retryMs !== undefined) retryIntervalOverrides[name] = options.retryMs;
      } else if (state.Type === 'Task' && state.Resource) {
        const fn = byArn.get(state.Resource);
        if (!fn) throw new Error(`${options.file}: state '${name}' calls ${state.Resource}, which has no local binding`);
        // A JSON round trip, as Lambda's invoke does: nothing but JSON crosses the boundary.
        taskResourceLocalHandlers[name] = (input) => this.track(input, async () =>
          JSON.parse(JSON.stringify((await invokeLocally(fn.name, fn.timeoutMs, (context) => fn.handler(structuredClone(input) as never, context))) ?? null)) as JsonValue);
        if (options.retryMs !== undefined) retryIntervalOverrides[name] = options.retryMs;
      }
      if (state.Type === 'Wait' && options.waitMs !== undefined) waitTimeOverrides[name] = options.waitMs;
    }
    this.runOptions = { overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides } };
  }

  executionIdFor(name: string): string {
    return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${this.options.stateMachineName}:${name}`;
  }

  private async track<T>(input: JsonValue, run: () => Promise<T>): Promise<T> {
    // Integrations carry the cluster id as ECS's StartedBy.
    const clusterId =
      input && typeof input === 'object' && 'clusterId' in input ? String(input.clusterId) : input && typeof input === 'object' && 'StartedBy' in input ? String(input.StartedBy) : '';
    const tasks = this.inFlight.get(clusterId) ?? new Set<Promise<unknown>>();
    this.inFlight.set(clusterId, tasks);
    const task = run();
    tasks.add(task);
    try {
      return await task;
    } finally {
      tasks.delete(task);
      if (tasks.size === 0) this.inFlight.delete(clusterId);
    }
  }

  /**
   * Stops the named execution if it runs, and waits for its Task under way to end, so that
   * nothing more can come of it once this answers.
   */
  async stop(name: string): Promise<void> {
    const abort = this.aborts.get(name);
    if (!abort) return;
    const input = this.executions.get(name)?.input;
    abort();
    await this.running.get(name);
    const clusterId = input && typeof input === 'object' && 'clusterId' in input ? String(input.clusterId) : '';
    await Promise.allSettled([...(this.inFlight.get(clusterId) ?? [])]);
  }

  /** Starts an execution unless one of that name is running; answers whether it started one. */
  start(name: string, input: JsonValue): boolean {
    if (this.running.has(name)) return false;
    // The execution outlives the request that started it, and logs as the runtime.
    outsideInvocations(() => this.run(name, input));
    return true;
  }

  private run(name: string, input: JsonValue): void {
    const record: ExecutionRecord = { name, input, executionId: this.executionIdFor(name), status: 'RUNNING', startedAt: new Date().toISOString(), states: [] };
    this.executions.set(name, record);
    const execution = this.machine.run(input, {
      ...this.runOptions,
      context: { Execution: { Id: record.executionId, Name: name, Input: input, StartTime: record.startedAt } } as RunOptions['context'],
    });
    this.aborts.set(name, execution.abort);
    const follow = (async () => {
      for await (const event of execution.eventLogs) {
        if ('state' in event) record.states.push({ name: event.state.name, type: event.state.type, event: event.type, at: new Date(event.timestamp).toISOString() });
      }
    })().catch((error: unknown) => logger.warn('reading the event log of a local execution failed', { execution: name, error }));
    const done = execution.result
      .then(() => {
        record.status = 'SUCCEEDED';
      })
      .catch((error: unknown) => {
        record.status = error instanceof ExecutionError ? 'FAILED' : error instanceof Error && error.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'ABORTED';
        record.error = { error: error instanceof Error ? error.name : 'Error', cause: error instanceof Error ? error.message : String(error) };
        if (record.status !== 'FAILED') logger.warn('local execution ended', { execution: name, ...record.error });
      })
      .finally(async () => {
        record.stoppedAt = new Date().toISOString();
        await follow;
        this.running.delete(name);
        this.aborts.delete(name);
      });
    this.running.set(name, done);
  }

  execution(name: string): ExecutionRecord | undefined {
    return this.executions.get(name);
  }

  /** Resolves when the named execution (if running) has ended. */
  async waitFor(name: string): Promise<ExecutionRecord | undefined> {
    await this.running.get(name);
    return this.executions.get(name);
  }

  /**
   * Stops every running execution (process shutdown) and waits for their Tasks under way, so
   * nothing writes to the store after it closes. Their clusters resume on the next start.
   */
  async stopAll(): Promise<void> {
    for (const abort of this.aborts.values()) abort();
    await Promise.allSettled([...this.running.values()]);
    await Promise.allSettled([...this.inFlight.values()].flatMap((tasks) => [...tasks]));
  }
}

/** The service's workflows, run locally: one LocalWorkflow per state machine. */
export class LocalWorkflows implements Workflows {
  constructor(readonly machines: Record<WorkflowKind, LocalWorkflow>) {}

  executionIdFor(kind: WorkflowKind, name: string): string {
    return this.machines[kind].executionIdFor(name);
  }

  async start(kind: WorkflowKind, name: string, clusterId: string, input: Readonly<Record<string, string>> = {}): Promise<void> {
    this.machines[kind].start(name, { ...input, clusterId });
  }

  async stop(kind: WorkflowKind, name: string): Promise<{ settleSeconds: number }> {
    await this.machines[kind].stop(name);
    return { settleSeconds: 0 };
  }

  execution(kind: WorkflowKind, name: string): ExecutionRecord | undefined {
    return this.machines[kind].execution(name);
  }

  waitFor(kind: WorkflowKind, name: string): Promise<ExecutionRecord | undefined> {
    return this.machines[kind].waitFor(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all(Object.values(this.machines).map((machine) => machine.stopAll()));
  }
}
