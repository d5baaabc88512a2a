/**
 * Alarms on what needs a person, and one dashboard of the service's health (docs/operations.md).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { WORKFLOW_KINDS, type WorkflowKind } from '../../../functions/domain/workflow.ts';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../../functions/lib/metrics.ts';
import { serviceAlarm } from '../alarms.ts';
import { pascalCase, ResourceGroup } from '../logical-ids.ts';

export interface ServiceMonitoringProps {
  readonly authorizer: lambda.IFunction;
  readonly api: apigateway.RestApi;
  readonly stateMachines: Readonly<Record<WorkflowKind, sfn.StateMachine>>;
  readonly deadLetterQueues: { readonly createRequests: sqs.IQueue; readonly statusChanges: sqs.IQueue };
  /**
   * The period every alarm and graph adds up.
   *
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

export class ServiceMonitoring extends ResourceGroup {
  public readonly dashboard: cloudwatch.Dashboard;

  public constructor(scope: Construct, id: string, { authorizer, api, stateMachines, deadLetterQueues, ...props }: ServiceMonitoringProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);

    // A broken authorizer answers every caller 500: it is the whole API going down.
    serviceAlarm(this, 'AuthorizerErrorsAlarm', { metric: authorizer.metricErrors({ period }), description: 'The authorizer failed (callers get 500)' });
    serviceAlarm(this, 'Api5xxAlarm', { metric: api.metricServerError({ period, statistic: 'Sum' }), description: 'The API answered 5xx', threshold: 5 });
    serviceAlarm(this, 'StatusChangesDlqAlarm', {
      metric: deadLetterQueues.statusChanges.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      description: 'Status changes could not be published (events, webhooks)',
    });
    serviceAlarm(this, 'CreateRequestsDlqAlarm', {
      metric: deadLetterQueues.createRequests.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      description: 'A create request failed three times and waits in the dead-letter queue',
    });
    for (const kind of WORKFLOW_KINDS) {
      const description = (what: string) => `A ${kind} execution ${what}; its cluster is FAILED or stuck`;
      serviceAlarm(this, `${pascalCase(kind)}FailedAlarm`, { metric: stateMachines[kind].metricFailed({ period, statistic: 'Sum' }), description: description('failed') });
      serviceAlarm(this, `${pascalCase(kind)}TimedOutAlarm`, { metric: stateMachines[kind].metricTimedOut({ period, statistic: 'Sum' }), description: description('timed out') });
    }

    const business = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: 'cluster-service' }, statistic, period });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${Stack.of(this).stackName}-health` });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Clusters',
        left: [METRIC_NAMES.created, METRIC_NAMES.active, METRIC_NAMES.failed, METRIC_NAMES.destroyed].map((name) => business(name, 'Sum')),
      }),
      new cloudwatch.GraphWidget({
        title: 'Time to ACTIVE (ms)',
        left: [business(METRIC_NAMES.timeToActive, 'p50'), business(METRIC_NAMES.timeToActive, 'p90'), business(METRIC_NAMES.timeToActive, 'Maximum')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Executions',
        left: WORKFLOW_KINDS.flatMap((kind) => [
          stateMachines[kind].metricStarted({ period, label: `${kind} started` }),
          stateMachines[kind].metricFailed({ period, label: `${kind} failed` }),
          stateMachines[kind].metricTimedOut({ period, label: `${kind} timed out` }),
        ]),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API',
        left: [api.metricCount({ period }), api.metricClientError({ period }), api.metricServerError({ period })],
        right: [api.metricLatency({ period, statistic: 'p99' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: [deadLetterQueues.createRequests, deadLetterQueues.statusChanges].map((queue) => queue.metricApproximateNumberOfMessagesVisible({ period })),
      }),
      new cloudwatch.GraphWidget({ title: 'Authorizer errors', left: [authorizer.metricErrors({ period })] }),
    );
  }
}
