/** Starts and stops executions on AWS Step Functions. */
import { ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowKind, Workflows } from '#domain/workflow';
import { traced } from '#lib/tracer';

/** The Step Functions console page of an execution, in the execution's own region. */
export const stepFunctionsConsoleUrl = (executionArn: string): string | null => {
  const region = executionArn.split(':')[3];
  if (!region) return null;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
};

export class StepFunctionsWorkflows implements Workflows {
  private readonly client: SFNClient;

  /**
   * @param stateMachines the ARN of each workflow's state machine
   * @param stepTimeoutSeconds the longest a Task can run on after its execution is stopped
   */
  constructor(
    private readonly stateMachines: Record<WorkflowKind, string>,
    private readonly stepTimeoutSeconds: number,
    client?: SFNClient,
  ) {
    this.client = client ?? traced(new SFNClient({}));
  }

  executionIdFor(kind: WorkflowKind, name: string): string {
    // arn:aws:states:<region>:<account>:stateMachine:<sm> → …:execution:<sm>:<execution name>
    return `${this.stateMachines[kind].replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(kind: WorkflowKind, name: string, clusterId: string, input: Readonly<Record<string, string>> = {}): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachines[kind], name, input: JSON.stringify({ ...input, clusterId }) }),
      );
    } catch (error) {
      // Same name and same input: the execution is already running or ran; nothing to do.
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
  }

  async stop(kind: WorkflowKind, name: string): Promise<{ settleSeconds: number }> {
    try {
      await this.client.send(
        new StopExecutionCommand({ executionArn: this.executionIdFor(kind, name), error: 'ClusterDestroyRequested', cause: 'DELETE of the cluster' }),
      );
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return { settleSeconds: 0 };
      throw error;
    }
    // StopExecution does not stop a Lambda already running: its step may still finish.
    return { settleSeconds: this.stepTimeoutSeconds + 10 };
  }
}

/** The workflows named by the environment the CDK stack sets. */
export const stepFunctionsWorkflowsFromEnv = (env: {
  PROVISION_STATE_MACHINE_ARN: string;
  DESTROY_STATE_MACHINE_ARN: string;
  POWER_STATE_MACHINE_ARN: string;
  WORKFLOW_STEP_TIMEOUT_SECONDS: number;
}): StepFunctionsWorkflows =>
  new StepFunctionsWorkflows(
    { provision: env.PROVISION_STATE_MACHINE_ARN, destroy: env.DESTROY_STATE_MACHINE_ARN, power: env.POWER_STATE_MACHINE_ARN },
    env.WORKFLOW_STEP_TIMEOUT_SECONDS,
  );
