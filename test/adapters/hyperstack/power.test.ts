import { afterEach, describe, expect, it } from 'vitest';
import { HyperstackProvider, hyperstackSettingsFromEnv } from '#adapters/hyperstack/index';
import { HyperstackContract } from '../../contract/hyperstack/server.ts';

const CLUSTER = 'c0ffee00-0000-4000-8000-000000000003';
const started: HyperstackContract[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((cloud) => cloud.close()));
});

/** Two ACTIVE VMs of the cluster on a contract Infrahub whose stops and starts take `powerMs`. */
const runningCluster = async (powerMs: number) => {
  const cloud = await new HyperstackContract({ powerMs }).start();
  started.push(cloud);
  const provider = await HyperstackProvider.connect(hyperstackSettingsFromEnv(cloud.env()), { sleep: async () => {} });
  const servers = ['worker-1', 'worker-2'].map((name) => ({ name, role: 'worker', group: 'workers', flavor: 'n1-cpu-small', vcpus: 2, ramMb: 4096, diskGb: 50, publicIp: false }));
  const made = await provider.createServers({ clusterId: CLUSTER, clientToken: `${CLUSTER}-a1-b0`, networkIds: [], servers });
  return { cloud, provider, ids: made.map((server) => server.id) };
};

const powerCalls = (cloud: HyperstackContract) => cloud.calls.filter((call) => /\/(stop|start)$/.test(call.path)).map((call) => `${call.path.split('/').pop()} ${call.status}`);
const states = async (provider: HyperstackProvider) => (await provider.describeServers({ clusterId: CLUSTER })).map((server) => server.state);

describe('hyperstack stop and start', () => {
  it('sends GET …/stop once per VM, reads STOPPING as STOPPING, and a repeated stop sends nothing more', async () => {
    // Prepare
    const { cloud, provider, ids } = await runningCluster(60_000);

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: [...ids, ids[0] ?? ''] });
    await provider.stopServers({ clusterId: CLUSTER, serverIds: ids });

    // Assess
    expect(powerCalls(cloud)).toEqual(['stop 200', 'stop 200']);
    expect(await states(provider)).toEqual(['STOPPING', 'STOPPING']);
  });

  it('reads SHUTOFF as STOPPED with the addresses kept, and starts the VMs again to ACTIVE', async () => {
    // Prepare
    const { cloud, provider, ids } = await runningCluster(0);
    const before = await provider.describeServers({ clusterId: CLUSTER });

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: ids });
    const stopped = await provider.describeServers({ clusterId: CLUSTER });
    await provider.startServers({ clusterId: CLUSTER, serverIds: ids });
    const running = await states(provider);

    // Assess
    expect(stopped.map((server) => server.state)).toEqual(['STOPPED', 'STOPPED']);
    expect(stopped.map((server) => server.privateIp)).toEqual(before.map((server) => server.privateIp));
    expect(running).toEqual(['ACTIVE', 'ACTIVE']);
    expect(powerCalls(cloud)).toEqual(['stop 200', 'stop 200', 'start 200', 'start 200']);
  });

  it('refuses an id that is not one of the cluster’s VMs, sending nothing', async () => {
    // Prepare
    const { cloud, provider } = await runningCluster(0);

    // Act
    const stopping = provider.stopServers({ clusterId: CLUSTER, serverIds: ['4242'] });

    // Assess
    await expect(stopping).rejects.toMatchObject({ name: 'ServerNotFound' });
    expect(powerCalls(cloud)).toEqual([]);
  });

  it('answers Infrahub’s refusal of a start of a running VM (400 bad_request) with its message, as the contract does', async () => {
    // Prepare
    const { cloud, provider } = await runningCluster(0);
    const [vm] = cloud.live();

    // Act
    const answer = await fetch(`${cloud.url}/core/virtual-machines/${vm?.id}/start`, { headers: { api_key: cloud.env().HYPERSTACK_API_KEY ?? '' } });

    // Assess
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({ status: false, message: 'Cannot start a virtual machine in ACTIVE state', error_reason: 'bad_request' });
    expect(await states(provider)).toEqual(['ACTIVE', 'ACTIVE']);
  });
});
