import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '#domain/errors';
import type { CloudProvider } from '#domain/provider';
import { destroyCluster } from '#use-cases/change-cluster';
import { seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const destroyNameOf = (executionId: string | null) => executionId?.split(':').at(-1) ?? '';

/** The local provider, except that its first `failures` delete calls are refused for good. */
const refusingDeletes = (failures: number) => (provider: CloudProvider): CloudProvider => {
  let refused = 0;
  return Object.assign(Object.create(provider) as CloudProvider, {
    deleteCluster: async (input: { clusterId: string }) => {
      if (refused++ < failures) throw new ProviderError('DeleteRefused', 'the cloud refused to delete the servers');
      return provider.deleteCluster(input);
    },
  });
};

describe('the destroy workflow (statemachine/destroy.asl.json, executed locally)', () => {
  it('takes an ACTIVE cluster to DESTROYED, deleting every server and giving the quota back', async () => {
    harness = await startWorkflowHarness();
    const { cluster } = await harness.run({ ...seedRequest(), slaves: 2 });
    expect(cluster.status).toBe('ACTIVE');

    const destroying = await destroyCluster({ clusters: harness.table.clusters, quotas: harness.table.quotas, workflows: harness.workflows, quotaDefaults: harness.quota }, cluster);
    const execution = await harness.workflows.waitFor('destroy', destroyNameOf(destroying.destroyExecutionId));
    const destroyed = await harness.table.clusters.getCluster(cluster.id);

    expect(destroying.status).toBe('DESTROYING');
    expect(execution?.status).toBe('SUCCEEDED');
    expect(destroyed?.status).toBe('DESTROYED');
    expect(harness.cloud.listServers().filter((s) => s.clusterId === cluster.id)).toEqual([]);
    expect((await harness.table.quotas.get('alpha')).usage).toEqual({ vcpus: 0, servers: 0, clusters: 0 });
    const phases = (await harness.table.clusters.listEvents(cluster.id)).map((e) => `${e.status}/${e.phase}`);
    expect(phases.slice(-3)).toEqual(['DESTROYING/destroy-requested', 'DESTROYING/destroy', 'DESTROYED/destroyed']);
  });

  it('records FAILED at step destroy when the provider refuses, and a second DELETE finishes the job', async () => {
    harness = await startWorkflowHarness({ provider: refusingDeletes(1) });
    const { cluster } = await harness.run(seedRequest());
    const deps = { clusters: harness.table.clusters, quotas: harness.table.quotas, workflows: harness.workflows, quotaDefaults: harness.quota };

    const first = await destroyCluster(deps, cluster);
    const firstRun = await harness.workflows.waitFor('destroy', destroyNameOf(first.destroyExecutionId));
    const failed = await harness.table.clusters.getCluster(cluster.id);
    const second = await destroyCluster(deps, failed ?? cluster);
    const secondRun = await harness.workflows.waitFor('destroy', destroyNameOf(second.destroyExecutionId));
    const destroyed = await harness.table.clusters.getCluster(cluster.id);

    expect(firstRun?.status).toBe('FAILED');
    expect(failed?.status).toBe('FAILED');
    expect(failed?.error).toMatchObject({ code: 'DeleteRefused', step: 'destroy' });
    expect(second.destroyExecutionId).not.toBe(first.destroyExecutionId);
    expect(secondRun?.status).toBe('SUCCEEDED');
    expect(destroyed?.status).toBe('DESTROYED');
    expect(harness.cloud.listServers().filter((s) => s.clusterId === cluster.id)).toEqual([]);
  });
});
