import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushMetrics, metrics } from '#lib/metrics';
import { seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await harness?.stop();
  harness = undefined;
});

const emitted = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map((call) => call[0]);

describe('business metrics', () => {
  it('counts a created cluster, its becoming ACTIVE, and the time it took', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    harness = await startWorkflowHarness();

    const { cluster } = await harness.run(seedRequest());

    expect(cluster.status).toBe('ACTIVE');
    expect(emitted(addMetric)).toEqual(expect.arrayContaining(['ClustersCreated', 'ClustersActive', 'TimeToActive']));
    const time = addMetric.mock.calls.find((call) => call[0] === 'TimeToActive');
    expect(time?.[1]).toBe('Milliseconds');
    expect(time?.[2]).toBeGreaterThan(0);
    expect(emitted(addMetric)).not.toContain('ClustersFailed');
  });

  it('counts a failed cluster', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    harness = await startWorkflowHarness({ cloud: { failPattern: /lambda-master/ } });

    const { cluster } = await harness.run(seedRequest());

    expect(cluster.status).toBe('FAILED');
    expect(emitted(addMetric)).toContain('ClustersFailed');
    expect(emitted(addMetric)).not.toContain('ClustersActive');
  });

  it('flushes an invocation’s metrics only when it added some, so an empty one writes nothing', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const warn = vi.spyOn(process.stderr, 'write');
    const { after, onError } = flushMetrics();
    const request = {} as never;

    await after?.(request);
    await onError?.(request);
    expect(publish).not.toHaveBeenCalled();

    metrics.addMetric('ClustersCreated', 'Count', 1);
    await after?.(request);
    expect(publish).toHaveBeenCalledTimes(1);
    expect(metrics.hasStoredMetrics()).toBe(false);
    expect(warn.mock.calls.map((call) => String(call[0]))).not.toContainEqual(expect.stringContaining('No application metrics'));
  });
});
