/** The workflow port: starts and stops a cluster's executions (provision, destroy, power: stop or start). */

export const WORKFLOW_KINDS = ['provision', 'destroy', 'power'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/** Where a person can watch an execution, for the cluster view's `execution.consoleUrl`. */
export type ConsoleUrlFor = (executionId: string) => string | null;

export interface Workflows {
  /**
   * The id an execution of that name has, known before it starts so the cluster record can
   * carry it from its first write.
   */
  executionIdFor(kind: WorkflowKind, name: string): string;
  /**
   * Starts the execution `name` with `{ clusterId }` as input, and `input`'s fields beside it (the
   * power workflow's `action`). Starting a name that exists is
   * not an error: Step Functions' own name uniqueness makes this idempotent.
   */
  start(kind: WorkflowKind, name: string, clusterId: string, input?: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Stops the execution if it runs. A Task already running finishes on its own; the answer says
   * how many seconds may pass before nothing more can come of it.
   */
  stop(kind: WorkflowKind, name: string): Promise<{ settleSeconds: number }>;
}

/** Execution names: the cluster id for the first provision run (the console's search key), then `<id>-<attempt>`. */
export const provisionExecutionName = (clusterId: string, attempt: number): string =>
  attempt <= 1 ? clusterId : `${clusterId}-${attempt}`;

/** Each destroy request gets its own execution; the version makes the name unique. */
export const destroyExecutionName = (clusterId: string, version: number): string => `${clusterId}-destroy-${version}`;

/** Each stop or start gets its own execution; the version makes the name unique. */
export const powerExecutionName = (clusterId: string, action: 'stop' | 'start', version: number): string => `${clusterId}-${action}-${version}`;
