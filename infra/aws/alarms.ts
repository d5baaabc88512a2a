/**
 * The service's one kind of alarm: a metric at or above a threshold within one period, quiet
 * without data (an idle service is not a failing one). Each needs a person; none scales anything.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

export interface ServiceAlarmProps {
  /** The metric, with the period and statistic it is judged by. */
  readonly metric: cloudwatch.IMetric;
  /** What happened, for the person the alarm reaches. */
  readonly description: string;
  /**
   * The value at or above which the alarm goes off.
   *
   * @default 1
   */
  readonly threshold?: number;
}

export const serviceAlarm = (scope: Construct, id: string, { metric, description, threshold = 1 }: ServiceAlarmProps): cloudwatch.Alarm =>
  new cloudwatch.Alarm(scope, id, {
    metric,
    threshold,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
