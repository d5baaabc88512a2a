/** The emulated cloud's stopped servers: stop and start, derived from timestamps like every other state. */
import { describe, expect, it } from 'vitest';
import { ProviderError } from '#domain/errors';
import { caught, runningCluster } from '../../../support/local-cloud.ts';

const states = async (cloud: Awaited<ReturnType<typeof runningCluster>>['cloud']) => (await cloud.describeServers({ clusterId: 'c1' })).map((server) => server.state);

describe('LocalCloud stop and start', () => {
  it('keeps a stopped server STOPPING for its drawn power time, then STOPPED, with its address; a start goes BUILD, then ACTIVE', async () => {
    // Prepare: random 0.5 over 1000-3000 draws 2000 ms
    const { cloud, advance, nodes } = await runningCluster({ powerMs: { min: 1000, max: 3000 } });
    const ids = nodes.map((node) => node.id);
    await cloud.allocatePublicIps({ clusterId: 'c1', serverIds: ids.slice(0, 1) });
    const before = await cloud.describeServers({ clusterId: 'c1' });

    // Act
    await cloud.changePower({ clusterId: 'c1', serverIds: ids, action: 'stop' });
    advance(1999);
    const stopping = await states(cloud);
    advance(1);
    const stopped = await cloud.describeServers({ clusterId: 'c1' });
    await cloud.changePower({ clusterId: 'c1', serverIds: ids, action: 'start' });
    const starting = await states(cloud);
    advance(2000);
    const started = await states(cloud);

    // Assess
    expect(stopping).toEqual(['STOPPING', 'STOPPING', 'STOPPING']);
    expect(stopped.map((server) => server.state)).toEqual(['STOPPED', 'STOPPED', 'STOPPED']);
    expect(stopped.map((server) => [server.privateIp, server.publicIp])).toEqual(before.map((server) => [server.privateIp, server.publicIp]));
    expect(starting).toEqual(['BUILD', 'BUILD', 'BUILD']);
    expect(started).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
  });

  it('leaves a server already stopping or stopped as it is, so a repeated stop changes nothing', async () => {
    // Prepare
    const { cloud, advance, nodes } = await runningCluster({ powerMs: { min: 1000, max: 1000 } });
    const ids = nodes.map((node) => node.id);
    await cloud.changePower({ clusterId: 'c1', serverIds: ids, action: 'stop' });
    advance(600);

    // Act
    await cloud.changePower({ clusterId: 'c1', serverIds: ids, action: 'stop' });
    advance(400);
    const stopped = await states(cloud);
    await cloud.changePower({ clusterId: 'c1', serverIds: ids, action: 'stop' });

    // Assess
    expect(stopped).toEqual(['STOPPED', 'STOPPED', 'STOPPED']);
    expect(await states(cloud)).toEqual(['STOPPED', 'STOPPED', 'STOPPED']);
  });

  it('refuses, all or none, a stop that takes in a booting server, and one of servers of another cluster', async () => {
    // Prepare
    const { cloud, nodes } = await runningCluster();
    const [booting] = await cloud.createServers({ clusterId: 'c1', clientToken: 'batch-2', networkIds: [], servers: [{ name: 'late', role: 'worker', flavor: 'c1r512d10' }] });
    const ids = nodes.map((node) => node.id);

    // Act
    const stopBooting = await caught(cloud.changePower({ clusterId: 'c1', serverIds: [...ids, booting?.id ?? ''], action: 'stop' }));
    const otherCluster = await caught(cloud.changePower({ clusterId: 'c2', serverIds: ids, action: 'stop' }));

    // Assess
    expect(stopBooting).toBeInstanceOf(ProviderError);
    expect(stopBooting).toMatchObject({ name: 'InvalidServerState', message: expect.stringContaining('late is BUILD') });
    expect(otherCluster).toMatchObject({ name: 'ServerNotFound' });
    expect(await states(cloud)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'BUILD']);
  });
});
