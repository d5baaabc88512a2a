import { LightsailClient } from '@aws-sdk/client-lightsail';
import { afterEach, describe, expect, it } from 'vitest';
import { LightsailProvider, lightsailSettingsFromEnv } from '#adapters/lightsail/index';
import type { ProviderOperation } from '#domain/provider';
import { ACCESS_KEY, LightsailContract, REGION, SECRET_KEY } from '../../contract/lightsail/server.ts';

const CLUSTER = 'c0ffee00-0000-4000-8000-000000000006';
const started: LightsailContract[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((cloud) => cloud.close()));
});

/** Two running instances of the cluster (the master with a static IP) on a contract Lightsail whose stops and starts take `powerMs`. */
const runningCluster = async (powerMs: number) => {
  const cloud = await new LightsailContract({ powerMs }).start();
  started.push(cloud);
  const client = new LightsailClient({ region: REGION, endpoint: cloud.url, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  const provider = new LightsailProvider({ ...lightsailSettingsFromEnv(cloud.env()), client });
  const servers = ['master', 'worker-1'].map((name) => ({ name, role: name === 'master' ? 'master' : 'worker', group: name, flavor: 'small_3_0', vcpus: 2, ramMb: 2048, diskGb: 50, publicIp: name === 'master' }));
  const made = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers });
  const ids = made.map((server) => server.id);
  await provider.describeServers({ clusterId: CLUSTER });
  const addresses = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids.slice(0, 1) });
  return { cloud, provider, ids, addresses };
};

const powerCalls = (cloud: LightsailContract) => cloud.calls.filter((call) => /^(Stop|Start)Instance$/.test(call.operation)).map((call) => `${call.operation} ${call.status}`);
const states = async (provider: LightsailProvider) => (await provider.describeServers({ clusterId: CLUSTER })).map((server) => server.state).sort();

describe('lightsail stop and start', () => {
  it('sends StopInstance once per instance with its operations on the timeline, reads stopping as STOPPING, and a repeat sends nothing more', async () => {
    // Prepare
    const { cloud, provider, ids } = await runningCluster(60_000);
    const operations: ProviderOperation[] = [];
    const onOperations = async (made: ProviderOperation[]) => void operations.push(...made);

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: [...ids, ids[0] ?? ''], onOperations });
    await provider.stopServers({ clusterId: CLUSTER, serverIds: ids, onOperations });

    // Assess
    expect(powerCalls(cloud)).toEqual(['StopInstance 200', 'StopInstance 200']);
    expect(operations.map((operation) => `${operation.type} ${operation.resource} ${operation.status}`).sort()).toEqual(ids.map((id) => `StopInstance ${id} Succeeded`).sort());
    expect(await states(provider)).toEqual(['STOPPING', 'STOPPING']);
  });

  it('reads stopped as STOPPED with the static IP kept, and starts the instances again to ACTIVE', async () => {
    // Prepare
    const { cloud, provider, ids, addresses } = await runningCluster(0);

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: ids });
    const stopped = await provider.describeServers({ clusterId: CLUSTER });
    await provider.startServers({ clusterId: CLUSTER, serverIds: ids });
    const running = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(stopped.map((server) => server.state)).toEqual(['STOPPED', 'STOPPED']);
    expect(running.map((server) => server.state)).toEqual(['ACTIVE', 'ACTIVE']);
    const master = running.find((server) => server.name === 'master');
    expect(master?.publicIp).toBe(addresses[ids[0] ?? '']);
    expect(powerCalls(cloud)).toEqual(['StopInstance 200', 'StopInstance 200', 'StartInstance 200', 'StartInstance 200']);
  });

  it('refuses a name that is not one of the cluster’s instances, sending nothing', async () => {
    // Prepare
    const { cloud, provider } = await runningCluster(0);

    // Act
    const stopping = provider.stopServers({ clusterId: CLUSTER, serverIds: ['someone-elses-instance'] });

    // Assess
    await expect(stopping).rejects.toMatchObject({ name: 'ServerNotFound' });
    expect(powerCalls(cloud)).toEqual([]);
  });
});
