/** The workflow port: starts a cluster's provision execution. */

/** Where a person can watch an execution, for the cluster view's `execution.consoleUrl`. */
export type ConsoleUrlFor = (executionId: string) => string | null;

export interface WorkflowStarter {
  /**
   * The execution id a cluster's provision run has (execution name = cluster id), known before
   * it starts so the cluster record can carry it from its first write.
   */
  executionIdFor(clusterId: string): string;
  /**
   * Starts the provision execution named after the cluster. Starting it again for the same
   * cluster is not an error: Step Functions' own name uniqueness makes this idempotent.
   */
  startProvision(clusterId: string): Promise<void>;
}
