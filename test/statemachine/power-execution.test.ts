import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '#domain/errors';
import type { PowerAction } from '#domain/lifecycle';
import type { CloudProvider } from '#domain/provider';
import { changeOwnClusterPower, destroyCluster, retryOwnCluster, type ChangeClusterDeps } from '#use-cases/change-cluster';
import { seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, transitionsOutsidePolling, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const depsOf = (h: WorkflowHarness): ChangeClusterDeps => ({ clusters: h.table.clusters, quotas: h.table.quotas, workflows: h.workflows, quotaDefaults: h.quota });

const executionName = (executionId: string | null | undefined) => executionId?.split(':').at(-1) ?? '';

/** Asks for a stop or start as the route does, and waits for its execution to end. */
const power = async (h: WorkflowHarness, clusterId: string, action: PowerAction) => {
  const accepted = await changeOwnClusterPower(depsOf(h), 'alpha', clusterId, action);
  const execution = await h.workflows.waitFor('power', executionName(accepted.powerExecutionId));
  const cluster = await h.table.clusters.getCluster(clusterId);
  if (!execution || !cluster) throw new Error('the power execution or the cluster is missing');
  return { accepted, execution, cluster };
};

const cloudStates = (h: WorkflowHarness, clusterId: string) =>
  h.cloud
    .listServers()
    .filter((server) => server.clusterId === clusterId)
    .map((server) => server.state);

/** The emulated cloud's provider, except that its first `failures` stop calls are refused for good. */
const refusingStops = (failures: number) => (provider: CloudProvider): CloudProvider => {
  let refused = 0;
  return Object.assign(Object.create(provider) as CloudProvider, {
    stopServers: async (input: { clusterId: string; serverIds: string[] }) => {
      if (refused++ < failures) throw new ProviderError('StopRefused', 'the cloud refused to stop the servers');
      return provider.stopServers?.(input);
    },
  });
};

describe('the power workflow (statemachine/power.asl.json, executed locally)', () => {
  it('stops every server of an ACTIVE cluster (STOPPING → STOPPED), keeping addresses and quota, and starts them again (STARTING → ACTIVE)', async () => {
    // Prepare
    harness = await startWorkflowHarness({ cloud: { powerMs: { min: 40, max: 40 } } });
    const { cluster } = await harness.run({ ...seedRequest(), slaves: 3, ip_allocation: 'all' });
    const quotaBefore = (await harness.table.quotas.get('alpha')).usage;

    // Act
    const stop = await power(harness, cluster.id, 'stop');
    const whileStopped = cloudStates(harness, cluster.id);
    const quotaStopped = (await harness.table.quotas.get('alpha')).usage;
    const start = await power(harness, cluster.id, 'start');

    // Assess
    expect(stop.accepted.status).toBe('STOPPING');
    expect(stop.execution.status).toBe('SUCCEEDED');
    expect(stop.cluster.status).toBe('STOPPED');
    expect(stop.cluster.servers.map((server) => server.state)).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    expect(stop.cluster.servers.map((server) => server.publicIp)).toEqual(cluster.servers.map((server) => server.publicIp));
    expect(whileStopped).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    expect(quotaStopped).toEqual(quotaBefore);
    expect(start.execution.status).toBe('SUCCEEDED');
    expect(start.cluster.status).toBe('ACTIVE');
    expect(start.cluster.servers.map((server) => server.state)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    expect(cloudStates(harness, cluster.id)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    const phases = (await harness.table.clusters.listEvents(cluster.id)).map((event) => `${event.status}/${event.phase}`);
    expect(phases.slice(phases.indexOf('STOPPING/stop'))).toEqual(
      expect.arrayContaining(['STOPPING/stop', 'STOPPED/stopped', 'STARTING/start', 'ACTIVE/ready']),
    );
    expect(phases.at(-1)).toBe('ACTIVE/ready');
  });

  it('takes as many states outside its polling for 20 workers as for 1', async () => {
    // Prepare
    harness = await startWorkflowHarness();
    const small = (await harness.run({ ...seedRequest(), slaves: 1 })).cluster;
    const large = (await harness.run({ ...seedRequest(), slaves: 20 })).cluster;

    // Act
    const smallStop = await power(harness, small.id, 'stop');
    const largeStop = await power(harness, large.id, 'stop');

    // Assess
    expect(largeStop.cluster.status).toBe('STOPPED');
    expect(transitionsOutsidePolling(largeStop.execution)).toBe(transitionsOutsidePolling(smallStop.execution));
  });

  it('answers 409 ClusterBusy for a stop of a cluster that is not ACTIVE and a start of one that is not STOPPED, changing nothing', async () => {
    // Prepare
    harness = await startWorkflowHarness();
    const { cluster } = await harness.run(seedRequest());
    const deps = depsOf(harness);

    // Act
    const startActive = await changeOwnClusterPower(deps, 'alpha', cluster.id, 'start').catch((error: unknown) => error);
    await power(harness, cluster.id, 'stop');
    const stopStopped = await changeOwnClusterPower(deps, 'alpha', cluster.id, 'stop').catch((error: unknown) => error);
    const otherProject = await changeOwnClusterPower(deps, 'beta', cluster.id, 'start').catch((error: unknown) => error);

    // Assess
    expect(startActive).toMatchObject({ name: 'ClusterBusy', statusCode: 409, details: [{ path: 'status', message: 'ACTIVE' }] });
    expect(stopStopped).toMatchObject({ name: 'ClusterBusy', details: [{ path: 'status', message: 'STOPPED' }] });
    expect(otherProject).toMatchObject({ name: 'NotFound' });
    expect((await harness.table.clusters.getCluster(cluster.id))?.status).toBe('STOPPED');
  });

  it('records FAILED at step stop when the cloud refuses; retry answers 409, and the same stop again finishes the job', async () => {
    // Prepare
    harness = await startWorkflowHarness({ provider: refusingStops(1) });
    const { cluster } = await harness.run(seedRequest());

    // Act
    const first = await power(harness, cluster.id, 'stop');
    const retry = await retryOwnCluster(depsOf(harness), 'alpha', cluster.id).catch((error: unknown) => error);
    const second = await power(harness, cluster.id, 'stop');

    // Assess
    expect(retry).toMatchObject({ name: 'Conflict', details: [{ path: 'error.step', message: 'stop' }] });
    expect(first.execution.status).toBe('FAILED');
    expect(first.cluster.status).toBe('FAILED');
    expect(first.cluster.error).toMatchObject({ code: 'StopRefused', step: 'stop' });
    expect(second.accepted.powerExecutionId).not.toBe(first.accepted.powerExecutionId);
    expect(second.cluster.status).toBe('STOPPED');
    expect(second.cluster.error).toBeNull();
  });

  it('destroys a STOPPED cluster: nothing of it is left and its quota comes back', async () => {
    // Prepare
    harness = await startWorkflowHarness();
    const { cluster } = await harness.run({ ...seedRequest(), slaves: 2 });
    const { cluster: stopped } = await power(harness, cluster.id, 'stop');

    // Act
    const destroying = await destroyCluster(depsOf(harness), stopped);
    await harness.workflows.waitFor('destroy', executionName(destroying.destroyExecutionId));

    // Assess
    expect((await harness.table.clusters.getCluster(cluster.id))?.status).toBe('DESTROYED');
    expect(cloudStates(harness, cluster.id)).toEqual([]);
    expect((await harness.table.quotas.get('alpha')).usage).toEqual({ vcpus: 0, servers: 0, clusters: 0 });
  });

  it('a DELETE while the servers stop stops the power execution and destroys the cluster', async () => {
    // Prepare
    harness = await startWorkflowHarness({ cloud: { powerMs: { min: 60_000, max: 60_000 } } });
    const { cluster } = await harness.run(seedRequest());
    const accepted = await changeOwnClusterPower(depsOf(harness), 'alpha', cluster.id, 'stop');

    // Act
    const destroying = await destroyCluster(depsOf(harness), accepted);
    const powerRun = await harness.workflows.waitFor('power', executionName(accepted.powerExecutionId));
    await harness.workflows.waitFor('destroy', executionName(destroying.destroyExecutionId));

    // Assess
    expect(powerRun?.status).toBe('ABORTED');
    expect((await harness.table.clusters.getCluster(cluster.id))?.status).toBe('DESTROYED');
    expect(cloudStates(harness, cluster.id)).toEqual([]);
  });
});
