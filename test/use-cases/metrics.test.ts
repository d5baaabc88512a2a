import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#lib/metrics';
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
});
