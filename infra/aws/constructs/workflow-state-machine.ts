/**
 * A workflow's state machine, deployed from its ASL file in statemachine/ (the one source both
 * targets run) with the substitutions infra/routes.ts declares for it, logged and traced.
 */
import * as path from 'node:path';
import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { WorkflowKind } from '../../../functions/domain/workflow.ts';
import { STATE_MACHINES } from '../../routes.ts';
import { pascalCase } from '../logical-ids.ts';
import { acknowledge, acknowledgeWildcards } from '../nag.ts';
import type { ConfigurationContainer } from './configuration-container.ts';
import { REPO_ROOT } from './service-function.ts';

export interface WorkflowStateMachineProps {
  readonly kind: WorkflowKind;
  /** The function every Task state invokes. */
  readonly stepFunction: lambda.IFunction;
  /**
   * The configuration container the provision workflow's container steps run.
   *
   * @default - none: those steps name a cluster and task definition that do not exist, and the
   * step before them refuses first
   */
  readonly configurationContainer?: ConfigurationContainer;
  /**
   * How long the execution log keeps its events.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Its log group is made before it and beside it, as `<Kind>LogGroup` (the state machine's id is
 * `<Kind>StateMachine`), like a ServiceFunction's.
 */
export class WorkflowStateMachine extends sfn.StateMachine {
  public readonly kind: WorkflowKind;
  public readonly logGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: WorkflowStateMachineProps) {
    const { kind, stepFunction, configurationContainer: container } = props;
    const { file, substitutions: declared } = STATE_MACHINES[kind];
    // Without a container these name nothing: the step before the ECS task refuses first.
    const missing = (resource: string) => `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}/no-configuration-container`;
    // Keyed by every placeholder any file declares, so a new one fails to compile until it is given a value.
    const all: Record<(typeof STATE_MACHINES)[WorkflowKind]['substitutions'][number], string> = {
      WorkflowStepFunctionArn: stepFunction.functionArn,
      ConfigurationClusterArn: container?.cluster.attrArn ?? missing('cluster'),
      ConfigurationTaskDefinitionArn: container?.taskDefinition.taskDefinitionArn ?? missing('task-definition'),
    };
    const logGroup = new logs.LogGroup(scope, `${pascalCase(kind)}LogGroup`, {
      // The vendedlogs prefix keeps Step Functions from adding to the account's size-limited logs resource policy.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(scope).stackName}-${kind}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // A named group left behind would block the next deployment of a stack of the same name.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    super(scope, id, {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(path.join(REPO_ROOT, file)),
      definitionSubstitutions: Object.fromEntries(declared.map((name) => [name, all[name]])),
      tracingEnabled: true,
      // Every state entered and left, so a cluster's path through the workflow can be read back;
      // without inputs and outputs, which carry the cluster's settings.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.kind = kind;
    this.logGroup = logGroup;
    acknowledge(this.role, 'IAM5[Resource::*]', 'CloudWatch Logs\' log-delivery actions (logs:CreateLogDelivery and the like) and X-Ray\'s take no resource');
    // A definition read from a file names its functions only as strings, so no grant is inferred.
    const invoke = stepFunction.grantInvoke(this);
    acknowledgeWildcards(this.role, invoke.principalStatements, 'the workflow step function\'s versions and aliases (ARN:*); the function itself is the only one named');
    if (container && (declared as readonly string[]).includes('ConfigurationTaskDefinitionArn')) container.grantRun(this);
  }
}
