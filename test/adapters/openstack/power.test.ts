import { describe, expect, it } from 'vitest';
import { CLUSTER, contractProvider, workers } from './support.ts';

const actions = (cloud: Awaited<ReturnType<typeof contractProvider>>['cloud']) =>
  cloud.calls('POST', /^\/servers\/[^/]+\/action$/, 'compute').map((call) => Object.keys(call.body as object)[0]);

/** Two ACTIVE servers of the cluster on the contract cloud, whose stops and starts take 5 s. */
const runningCluster = async () => {
  const connected = await contractProvider({ bootMs: 1000, powerMs: 5000 });
  const networkIds = await connected.provider.createNetworks({ clusterId: CLUSTER, count: 1 });
  const made = await connected.provider.createServers({ clusterId: CLUSTER, clientToken: `${CLUSTER}-a1-b0`, networkIds, servers: workers(2) });
  connected.cloud.clock.advance(1000);
  return { ...connected, ids: made.map((server) => server.id) };
};

const states = async (provider: Awaited<ReturnType<typeof contractProvider>>['provider']) =>
  (await provider.describeServers({ clusterId: CLUSTER })).map((server) => server.state).sort();

describe('openstack stop and start', () => {
  it('sends os-stop once per server, shows them STOPPING while Nova powers them off and STOPPED once SHUTOFF, addresses kept', async () => {
    // Prepare
    const { cloud, provider, ids } = await runningCluster();
    const before = await provider.describeServers({ clusterId: CLUSTER });

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: [...ids, ids[0] ?? ''] });
    const stopping = await states(provider);
    cloud.clock.advance(5000);
    const stopped = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(actions(cloud)).toEqual(['os-stop', 'os-stop']);
    expect(stopping).toEqual(['STOPPING', 'STOPPING']);
    expect(stopped.map((server) => server.state)).toEqual(['STOPPED', 'STOPPED']);
    expect(stopped.map((server) => server.privateIp).sort()).toEqual(before.map((server) => server.privateIp).sort());
    expect([...cloud.state.servers.values()].map((server) => server.status)).toEqual(['SHUTOFF', 'SHUTOFF']);
  });

  it('takes Nova’s 409 for a server already stopping or stopped as no failure, and starts them again with os-start', async () => {
    // Prepare
    const { cloud, provider, ids } = await runningCluster();
    await provider.stopServers({ clusterId: CLUSTER, serverIds: ids });

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: ids });
    cloud.clock.advance(5000);
    await provider.startServers({ clusterId: CLUSTER, serverIds: ids });
    const starting = await states(provider);
    cloud.clock.advance(5000);
    const started = await states(provider);

    // Assess
    const replies = cloud.calls('POST', /^\/servers\/[^/]+\/action$/, 'compute').map((call) => call.status);
    expect(replies).toEqual([202, 202, 409, 409, 202, 202]);
    expect(starting).toEqual(['BUILD', 'BUILD']);
    expect(started).toEqual(['ACTIVE', 'ACTIVE']);
  });

  it('fails with Nova’s own words when a server is not there', async () => {
    // Prepare
    const { provider } = await runningCluster();

    // Act
    const stopping = provider.stopServers({ clusterId: CLUSTER, serverIds: ['00000000-0000-4000-8000-00000000dead'] });

    // Assess
    await expect(stopping).rejects.toThrow(/could not be found/);
  });
});
