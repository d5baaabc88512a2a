/** Starts provision executions on AWS Step Functions. */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '#domain/workflow';

/** The Step Functions console page of an execution, in the execution's own region. */
export const stepFunctionsConsoleUrl = (executionArn: string): string | null => {
  const region = executionArn.split(':')[3];
  if (!region) return null;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
};

export class StepFunctionsWorkflow implements WorkflowStarter {
  private readonly client: SFNClient;

  constructor(
    private readonly stateMachineArn: string,
    client?: SFNClient,
  ) {
    this.client = client ?? new SFNClient({});
  }

  executionIdFor(clusterId: string): string {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution name>
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${clusterId}`;
  }

  async startProvision(clusterId: string): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: clusterId,
          input: JSON.stringify({ clusterId }),
        }),
      );
    } catch (error) {
      // Same name and same input: the execution is already running or ran; nothing to do.
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
  }
}
