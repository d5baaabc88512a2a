import { describe, expect, it } from 'vitest';
import { MAX_NODE_MESSAGES, runStep, type StepDeps } from '#use-cases/workflow/index';
import { retryOwnCluster } from '#use-cases/change-cluster';
import type { Workflows } from '#domain/workflow';
import type { Cluster } from '#domain/model';
import { providerRegistry } from '#domain/providers';
import type { CloudProvider, ConfigurationStatus } from '#domain/provider';
import { clusterRecord } from '../../support/clusters.ts';
import { storeCluster } from '../../support/dynamodb.ts';
import { stepTablePerTest } from '../../support/step-deps.ts';

const CLUSTER_ID = '35380a49-aae4-4935-9844-dfd6737b8c51';

const server = (id: string, name: string, role = 'worker') => ({
  id,
  name,
  role,
  group: role,
  flavor: 'm',
  state: 'ACTIVE' as const,
  privateIp: null,
  publicIp: null,
});
const servers = [server('i-1', 'analytics-master', 'master'), server('i-2', 'analytics-slave-1'), server('i-3', 'analytics-slave-2')];

/** A provider answering the describes in turn (the last one again when they run out), remembering what it was asked. */
const scriptedProvider = (answers: ConfigurationStatus[]) => {
  const asked: { servers?: { id: string; name: string }[] }[] = [];
  const provider = {
    name: 'local',
    maxBatchSize: 10,
    timings: { expectedBootSeconds: 1, expectedConfigurationSeconds: 1 },
    startConfiguration: async () => 'run-1',
    describeConfiguration: async (input: { servers?: { id: string; name: string }[] }) => {
      asked.push(input);
      return answers[Math.min(asked.length - 1, answers.length - 1)]!;
    },
  } as unknown as CloudProvider;
  return { provider, asked };
};

const steps = stepTablePerTest();
const depsFor = steps.depsFor;

const configuring = () =>
  clusterRecord({ id: CLUSTER_ID, status: 'CONFIGURING', phase: 'configure:common', servers, configurationId: 'run-1' });

const configurationOf = (cluster: Cluster) => Object.fromEntries(cluster.servers.map((s) => [s.name, s.configuration]));

describe('per-node configuration results on the cluster record', () => {
  it('records each node’s result on its server, and passes the provider the recorded servers to name them by', async () => {
    // Prepare
    const { provider, asked } = scriptedProvider([
      {
        state: 'RUNNING',
        component: 'common',
        nodes: { 'analytics-master': { state: 'RUNNING' }, 'analytics-slave-1': { state: 'SUCCEEDED' }, 'analytics-slave-2': { state: 'PENDING' } },
      },
    ]);
    const { record } = await storeCluster(steps.table, configuring());

    // Act
    await runStep(depsFor(provider), { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    expect(configurationOf(await record())).toEqual({
      'analytics-master': { state: 'RUNNING' },
      'analytics-slave-1': { state: 'SUCCEEDED' },
      'analytics-slave-2': { state: 'PENDING' },
    });
    expect(asked[0]?.servers).toEqual(servers.map(({ id, name, role }) => ({ id, name, role })));
  });

  it('keeps the message of the first nodes only when many fail, so a large cluster’s record stays one item', async () => {
    // Prepare: every node of a big cluster fails with a long message.
    const many = Array.from({ length: MAX_NODE_MESSAGES + 30 }, (_, i) => server(`i-${i}`, `node-${i}`));
    const failed = Object.fromEntries(many.map((s) => [s.name, { state: 'FAILED' as const, message: 'x'.repeat(200) }]));
    const { provider } = scriptedProvider([{ state: 'RUNNING', component: 'common', nodes: failed }]);
    const { record } = await storeCluster(steps.table, clusterRecord({ id: CLUSTER_ID, status: 'CONFIGURING', phase: 'configure:common', servers: many, configurationId: 'run-1' }));

    // Act
    await runStep(depsFor(provider), { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    const results = (await record()).servers.map((s) => s.configuration);
    expect(results.every((result) => result?.state === 'FAILED')).toBe(true);
    expect(results.filter((result) => result?.message !== undefined)).toHaveLength(MAX_NODE_MESSAGES);
    expect(results[0]?.message).toBe('x'.repeat(200));
  });

  it('writes nothing on a poll that learnt nothing new, and writes again when a node moved', async () => {
    // Prepare
    const running: ConfigurationStatus = { state: 'RUNNING', component: 'common', nodes: { 'analytics-slave-1': { state: 'RUNNING' } } };
    const { provider } = scriptedProvider([running, running, { ...running, nodes: { 'analytics-slave-1': { state: 'SUCCEEDED' } } }]);
    const { record, writes } = await storeCluster(steps.table, configuring());
    const deps = depsFor(provider);

    // Act
    await runStep(deps, { step: 'check-configuration', clusterId: CLUSTER_ID });
    const afterFirst = await writes();
    await runStep(deps, { step: 'check-configuration', clusterId: CLUSTER_ID });
    const afterSecond = await writes();
    await runStep(deps, { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    expect(afterFirst).toBe(1);
    expect(afterSecond).toBe(1);
    expect(await writes()).toBe(2);
    expect((await record()).servers[1]?.configuration).toEqual({ state: 'SUCCEEDED' });
    // Nodes the run did not report keep what they had (nothing yet).
    expect((await record()).servers[0]?.configuration).toBeUndefined();
  });

  it('records the failed node with its message before failing the step', async () => {
    // Prepare
    const { provider } = scriptedProvider([
      {
        state: 'FAILED',
        component: 'hdfs',
        failedNode: 'analytics-slave-2',
        message: 'hdfs failed on analytics-slave-2',
        nodes: { 'analytics-slave-1': { state: 'RUNNING' }, 'analytics-slave-2': { state: 'FAILED', message: 'Failed, exit code 2: disk full' } },
      },
    ]);
    const { record } = await storeCluster(steps.table, configuring());

    // Act
    const checked = runStep(depsFor(provider), { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    await expect(checked).rejects.toThrow(/configuration failed at hdfs on analytics-slave-2/);
    expect((await record()).phase).toBe('configure:hdfs');
    expect((await record()).servers[2]?.configuration).toEqual({ state: 'FAILED', message: 'Failed, exit code 2: disk full' });
    expect((await record()).servers[1]?.configuration).toEqual({ state: 'RUNNING' });
  });

  it('records what the first describe of the configure step reports', async () => {
    // Prepare
    const { provider } = scriptedProvider([{ state: 'RUNNING', component: 'common', nodes: { 'analytics-master': { state: 'PENDING' } } }]);
    const { record } = await storeCluster(steps.table, clusterRecord({ id: CLUSTER_ID, status: 'PROVISIONING', phase: 'allocate-ips', servers }));

    // Act
    await runStep(depsFor(provider), { step: 'configure', clusterId: CLUSTER_ID });

    // Assess
    expect((await record()).servers[0]?.configuration).toEqual({ state: 'PENDING' });
    expect((await record()).configurationId).toBe('run-1');
  });

  it('leaves the servers alone for a provider that reports no nodes', async () => {
    // Prepare
    const { provider } = scriptedProvider([{ state: 'RUNNING', component: 'common' }]);
    const { record, writes } = await storeCluster(steps.table, configuring());

    // Act
    await runStep(depsFor(provider), { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    expect((await record()).servers).toEqual(servers);
    expect(await writes()).toBe(0);
  });

  it('keeps the results through a rollback that deletes the servers', async () => {
    // Prepare
    const { provider } = scriptedProvider([]);
    const deleting = Object.assign(provider, { deleteCluster: async () => ({ remaining: 0 }) });
    const failedServers = servers.map((s, i) => ({ ...s, configuration: i === 2 ? { state: 'FAILED' as const, message: 'disk full' } : { state: 'RUNNING' as const } }));
    const { record } = await storeCluster(steps.table, clusterRecord({ id: CLUSTER_ID, status: 'CONFIGURING', phase: 'configure:hdfs', servers: failedServers, configurationId: 'run-1' }));

    // Act
    await runStep(depsFor(deleting), { step: 'rollback', clusterId: CLUSTER_ID, failed: { 'check-configuration': { code: 'ConfigurationFailed', message: 'disk full' } } });

    // Assess
    expect((await record()).servers.map((s) => s.state)).toEqual(['DELETED', 'DELETED', 'DELETED']);
    expect((await record()).servers.map((s) => s.configuration)).toEqual(failedServers.map((s) => s.configuration));
  });

  it('starts them afresh on a retry: the new attempt configures every node again', async () => {
    // Prepare: a kept cluster that failed configuring; its servers are still there
    const failedServers = servers.map((s, i) => ({ ...s, configuration: i === 2 ? { state: 'FAILED' as const, message: 'disk full' } : { state: 'SUCCEEDED' as const } }));
    const { record } = await storeCluster(
      steps.table,
      clusterRecord({ id: CLUSTER_ID, status: 'FAILED', phase: 'failed', servers: failedServers, quotaReserved: true, error: { code: 'ConfigurationFailed', message: 'disk full', step: 'configure:hdfs' } }),
    );
    const workflows = { executionIdFor: (_kind: string, name: string) => name, start: async () => undefined } as unknown as Workflows;

    // Act
    await retryOwnCluster({ clusters: steps.table.clusters, quotas: steps.table.quotas, workflows, quotaDefaults: { vcpus: 100, servers: 100, clusters: 10 } }, 'alpha', CLUSTER_ID);

    // Assess
    expect((await record()).attempt).toBe(2);
    expect((await record()).servers.map((s) => s.id)).toEqual(['i-1', 'i-2', 'i-3']);
    expect((await record()).servers.every((s) => !('configuration' in s))).toBe(true);
  });
});
