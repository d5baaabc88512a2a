/**
 * Business metrics as CloudWatch embedded metric format (Powertools): clusters created, failed,
 * active, and the time to ACTIVE. Flushed at the end of each invocation by the middy middleware.
 * Off in local mode and tests (POWERTOOLS_METRICS_DISABLED), where nobody collects them.
 */
import type middy from '@middy/core';
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

/**
 * Flushes what the invocation added, after it or its error. Powertools' own middleware flushes
 * every time, and warns on stderr at each empty flush, disabled or not; most invocations (a read,
 * a workflow step that changes no status) add nothing.
 */
export const flushMetrics = (): middy.MiddlewareObj => {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
};
