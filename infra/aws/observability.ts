/**
 * Alarms on what needs a person, and one dashboard of the service's health. Built in the stack's
 * scope, like the API, so the alarms and the dashboard keep their logical ids.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { WORKFLOW_KINDS, type WorkflowKind } from '../../functions/domain/workflow.ts';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../functions/lib/metrics.ts';

export interface ServiceObservabilityProps {
  readonly authorizer: lambda.Function;
  readonly api: apigateway.RestApi;
  readonly stateMachines: Readonly<Record<WorkflowKind, sfn.StateMachine>>;
  readonly deadLetterQueues: { readonly createRequests: sqs.IQueue; readonly statusChanges: sqs.IQueue };
}

export const serviceObservability = (scope: Construct, { authorizer, api, stateMachines, deadLetterQueues }: ServiceObservabilityProps): void => {
  const fiveMinutes = Duration.minutes(5);
  const alarmOn = (id: string, metric: cloudwatch.IMetric, description: string, threshold = 1) =>
    new cloudwatch.Alarm(scope, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
  // A broken authorizer answers every caller 500: it is the whole API going down.
  alarmOn('AuthorizerErrorsAlarm', authorizer.metricErrors({ period: fiveMinutes }), 'The authorizer failed (callers get 500)');
  alarmOn('Api5xxAlarm', api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }), 'The API answered 5xx', 5);
  alarmOn('StatusChangesDlqAlarm', deadLetterQueues.statusChanges.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }), 'Status changes could not be published (events, webhooks)');

  const business = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: 'cluster-service' }, statistic, period: fiveMinutes });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: `${Stack.of(scope).stackName}-health` });
  dashboard.addWidgets(
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
        stateMachines[kind].metricStarted({ period: fiveMinutes, label: `${kind} started` }),
        stateMachines[kind].metricFailed({ period: fiveMinutes, label: `${kind} failed` }),
        stateMachines[kind].metricTimedOut({ period: fiveMinutes, label: `${kind} timed out` }),
      ]),
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'API',
      left: [api.metricCount({ period: fiveMinutes }), api.metricClientError({ period: fiveMinutes }), api.metricServerError({ period: fiveMinutes })],
      right: [api.metricLatency({ period: fiveMinutes, statistic: 'p99' })],
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queues',
      left: [deadLetterQueues.createRequests, deadLetterQueues.statusChanges].map((queue) => queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes })),
    }),
    new cloudwatch.GraphWidget({ title: 'Authorizer errors', left: [authorizer.metricErrors({ period: fiveMinutes })] }),
  );
};
