/**
 * Business metrics as CloudWatch embedded metric format (Powertools): clusters created, failed,
 * active, and the time to ACTIVE. Flushed at the end of each invocation by the middy middleware.
 * Off in local mode and tests (POWERTOOLS_METRICS_DISABLED), where nobody collects them.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'ClusterService';

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cluster-service' });

export const METRIC_NAMES = {
  created: 'ClustersCreated',
  active: 'ClustersActive',
  failed: 'ClustersFailed',
  destroyed: 'ClustersDestroyed',
  timeToActive: 'TimeToActive',
} as const;

export const countMetric = (name: (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES]) => metrics.addMetric(name, MetricUnit.Count, 1);

export const timeMetric = (name: typeof METRIC_NAMES.timeToActive, milliseconds: number) => metrics.addMetric(name, MetricUnit.Milliseconds, milliseconds);
