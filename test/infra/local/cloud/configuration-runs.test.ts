/** The emulated cloud's configuration runs and agents, over the profiles catalogue. */
import { describe, expect, it } from 'vitest';
import { ProviderError } from '#domain/errors';
import type { LocalCloud } from '../../../../infra/local/cloud/cloud.ts';
import { caught, cloudAt, requests, runningCluster } from '../../../support/local-cloud.ts';

describe('LocalCloud configuration runs', () => {
  it('moves a lambda run through its components evenly and ends SUCCEEDED', async () => {
    // Prepare: the run takes 5000 ms, 1000 ms per component
    const { cloud, advance, nodes } = await runningCluster();
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });
    const seen: string[] = [];

    // Act
    for (let step = 0; step < 6; step += 1) {
      const status = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });
      seen.push(`${status.state}:${status.component}`);
      advance(1000);
    }

    // Assess
    expect(seen).toEqual([
      'RUNNING:common',
      'RUNNING:hdfs',
      'RUNNING:yarn',
      'RUNNING:kafka',
      'RUNNING:flink',
      'SUCCEEDED:flink',
    ]);
  });

  it('fails a run at hdfs naming the node that matches the config fail pattern', async () => {
    // Prepare
    const { cloud, advance, nodes } = await runningCluster({ configFailPattern: /worker-2/ });
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });

    // Act
    advance(1999);
    const during = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });
    advance(1);
    const failed = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });

    // Assess
    expect(during).toMatchObject({ state: 'RUNNING', component: 'hdfs' });
    expect(failed.state).toBe('FAILED');
    expect(failed.component).toBe('hdfs');
    expect(failed.failedNode).toBe('worker-2');
    expect(failed.message).toMatch(/worker-2/);
  });

  it('reports every node of a run by name: RUNNING while it runs, then SUCCEEDED', async () => {
    // Prepare
    const { cloud, advance, nodes } = await runningCluster();
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });

    // Act
    const running = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });
    advance(5000);
    const done = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });

    // Assess
    expect(running.nodes).toEqual({ master: { state: 'RUNNING' }, 'worker-1': { state: 'RUNNING' }, 'worker-2': { state: 'RUNNING' } });
    expect(done.nodes).toEqual({ master: { state: 'SUCCEEDED' }, 'worker-1': { state: 'SUCCEEDED' }, 'worker-2': { state: 'SUCCEEDED' } });
  });

  it('reports the node matching the config fail pattern FAILED with why, the others still RUNNING when it fails', async () => {
    // Prepare
    const { cloud, advance, nodes } = await runningCluster({ configFailPattern: /worker-2/ });
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });

    // Act
    advance(2000);
    const failed = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });

    // Assess
    expect(failed.nodes).toEqual({
      master: { state: 'RUNNING' },
      'worker-1': { state: 'RUNNING' },
      'worker-2': { state: 'FAILED', message: 'hdfs failed (LOCAL_CLOUD_CONFIG_FAIL_PATTERN matched the node name)' },
    });
  });

  it('keeps the other nodes of a failed run RUNNING when it is described after its whole duration, since the run stopped at the failure', async () => {
    // Prepare
    const { cloud, advance, nodes } = await runningCluster({ configFailPattern: /worker-2/ });
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });

    // Act
    advance(60_000);
    const late = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });

    // Assess
    expect(late.state).toBe('FAILED');
    expect(late.nodes).toEqual({
      master: { state: 'RUNNING' },
      'worker-1': { state: 'RUNNING' },
      'worker-2': { state: 'FAILED', message: 'hdfs failed (LOCAL_CLOUD_CONFIG_FAIL_PATTERN matched the node name)' },
    });
  });

  it('fails a script run at its only component under the config fail pattern', async () => {
    // Prepare
    const { cloud, advance, nodes } = await runningCluster({ configFailPattern: /^master$/ });
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'script', servers: nodes });

    // Act
    advance(5000);
    const status = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });

    // Assess
    expect(status).toMatchObject({ state: 'FAILED', component: 'script', failedNode: 'master' });
  });

  it('finishes a run of profile none at once', async () => {
    // Prepare
    const { cloud, nodes } = await runningCluster();

    // Act
    const configurationId = await cloud.startConfiguration({ clusterId: 'c1', profile: 'none', servers: nodes });
    const status = await cloud.describeConfiguration({ clusterId: 'c1', configurationId });

    // Assess
    expect(status).toMatchObject({ state: 'SUCCEEDED', component: 'none' });
  });

  it('answers the same run id when a configuration is started again for the cluster', async () => {
    // Prepare
    const { cloud, nodes } = await runningCluster();
    const first = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });

    // Act
    const again = await cloud.startConfiguration({ clusterId: 'c1', profile: 'lambda', servers: nodes });

    // Assess
    expect(again).toBe(first);
  });

  it('refuses an unknown profile', async () => {
    // Prepare
    const { cloud, nodes } = await runningCluster();

    // Act
    const error = await caught(cloud.startConfiguration({ clusterId: 'c1', profile: 'ansible', servers: nodes }));

    // Assess
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('UnknownProfile');
  });

  it('refuses to configure servers that are still booting', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    const servers = await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 1) });

    // Act
    const error = await caught(
      cloud.startConfiguration({
        clusterId: 'c1',
        profile: 'lambda',
        servers: servers.map(({ id, name }) => ({ id, name, role: 'worker' })),
      }),
    );

    // Assess
    expect((error as ProviderError).code).toBe('ServerNotReady');
  });
});

describe('LocalCloud configuration agents', () => {
  const agentsOf = (cloud: LocalCloud, nodes: { id: string; name: string; role: string }[], profile = 'lambda') =>
    cloud.describeConfigurationAgents({ clusterId: 'c1', profile, servers: nodes });

  it('has every running server’s agent online at once by default', async () => {
    const { cloud, nodes } = await runningCluster();

    expect(await agentsOf(cloud, nodes)).toEqual([]);
  });

  it('brings an agent online LOCAL_CLOUD_AGENT_MS after its server is ACTIVE, not before', async () => {
    // Prepare: servers ACTIVE 2000 ms after creation, agents 4000 ms later; the cluster is at 3000 ms
    const { cloud, advance, nodes } = await runningCluster({ agentMs: { min: 4000, max: 4000 } });

    // Act
    const early = await agentsOf(cloud, nodes);
    advance(2999);
    const almost = await agentsOf(cloud, nodes);
    advance(1);
    const online = await agentsOf(cloud, nodes);

    // Assess
    expect(early).toEqual(nodes.map((node) => node.id));
    expect(almost).toEqual(nodes.map((node) => node.id));
    expect(online).toEqual([]);
  });

  it('has no agent online on a server still booting, nor on one it does not know in the cluster', async () => {
    const { cloud } = await cloudAt();
    const [booting] = await cloud.createServers({ clusterId: 'c1', clientToken: 'b1', networkIds: [], servers: requests('node', 1) });
    const stranger = { id: 'srv-unknown', name: 'stranger', role: 'worker' };

    expect(await agentsOf(cloud, [{ id: booting!.id, name: booting!.name, role: 'worker' }, stranger])).toEqual([booting!.id, stranger.id]);
  });

  it('waits for no agent for profile none, and refuses an unknown profile as a start would', async () => {
    const { cloud, nodes } = await runningCluster({ agentMs: { min: 60_000, max: 60_000 } });

    expect(await agentsOf(cloud, nodes, 'none')).toEqual([]);
    expect(await caught(agentsOf(cloud, nodes, 'nope'))).toMatchObject({ name: 'UnknownProfile' });
  });
});
