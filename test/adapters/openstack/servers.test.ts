import { describe, expect, it } from 'vitest';
import { COMPUTE_MICROVERSION } from '#adapters/openstack/index';
import { clusterTag, nameTag, tokenTag } from '#adapters/openstack/naming';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { CLUSTER, connect, contractCloud, contractProvider, workers } from './support.ts';

const TOKEN = `${CLUSTER}-a1-b0`;

const posts = (cloud: Awaited<ReturnType<typeof contractCloud>>) => cloud.calls('POST', /^\/servers$/, 'compute');

describe('openstack servers', () => {
  it('makes each server with one POST /servers at microversion 2.52, tagged with its cluster, name and call, on the cluster’s networks', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });

    // Act
    const servers = await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(2), options: { tags: { team: 'data' } } });

    // Assess
    expect(servers.map((server) => [server.name, server.state])).toEqual([
      ['worker-1', 'BUILD'],
      ['worker-2', 'BUILD'],
    ]);
    const [first] = posts(cloud);
    expect(posts(cloud)).toHaveLength(2);
    expect(first?.headers['openstack-api-version']).toBe(`compute ${COMPUTE_MICROVERSION}`);
    const body = (first?.body as { server: Record<string, unknown> }).server;
    expect(body).toMatchObject({
      name: 'worker-1',
      flavorRef: '2',
      imageRef: '70a599e0-31e7-49b7-b260-868f441e862b',
      key_name: 'ops-key',
      networks: networkIds.map((uuid) => ({ uuid })),
      metadata: { team: 'data', 'cluster-service:cluster-id': CLUSTER, 'cluster-service:role': 'worker', 'managed-by': 'cluster-service' },
    });
    expect(body.tags).toEqual(expect.arrayContaining([clusterTag(CLUSTER), nameTag('worker-1'), tokenTag(TOKEN)]));
    expect(body.min_count).toBeUndefined();
  });

  it('adopts the server a lost answer made when the create is retried, instead of making it twice', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    cloud.inject({ method: 'POST', service: 'compute', path: /^\/servers$/, fault: { kind: 'lose-response' } });
    const input = { clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(3) };

    // Act
    const lost = provider.createServers(input);
    await expect(lost).rejects.toBeInstanceOf(TransientProviderError);
    const servers = await provider.createServers(input);

    // Assess
    expect(cloud.state.servers.size).toBe(3);
    expect(posts(cloud)).toHaveLength(3);
    expect(servers.map((server) => server.name)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(new Set(servers.map((server) => server.id))).toEqual(new Set(cloud.state.servers.keys()));
  });

  it('answers the same servers to a retry of a call that completed, making none', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    const input = { clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(2) };
    const first = await provider.createServers(input);

    // Act
    const again = await provider.createServers(input);

    // Assess
    expect(again.map((server) => server.id)).toEqual(first.map((server) => server.id));
    expect(posts(cloud)).toHaveLength(2);
  });

  it('does not adopt servers of another call (a retried cluster’s new attempt makes its own)', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(1) });

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: `${CLUSTER}-a2-b0`, networkIds, servers: workers(1) });

    // Assess
    expect(cloud.state.servers.size).toBe(2);
  });

  it('polls with one paged list per round whatever the node count: 45 servers, pages of 20, no per-server GET', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ maxLimit: 20, bootMs: 60_000, quotas: { instances: 100, cores: 100 } }, { maxBatchSize: 15 });
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    for (let batch = 0; batch < 3; batch++) {
      await provider.createServers({ clusterId: CLUSTER, clientToken: `${CLUSTER}-a1-b${batch}`, networkIds, servers: workers(15, 'm1.tiny', batch * 15 + 1) });
    }
    const before = cloud.requests.length;

    // Act
    const building = await provider.describeServers({ clusterId: CLUSTER });
    const afterRound = cloud.requests.slice(before);
    cloud.clock.advance(60_000);
    const running = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(building).toHaveLength(45);
    expect(building.every((server) => server.state === 'BUILD')).toBe(true);
    expect(afterRound.map((call) => `${call.method} ${call.path}`)).toEqual(Array(3).fill('GET /servers/detail'));
    expect(afterRound.map((call) => call.query.marker?.[0] ?? null)[0]).toBeNull();
    expect(afterRound.every((call) => call.query.tags?.[0] === clusterTag(CLUSTER))).toBe(true);
    expect(cloud.calls('GET', /^\/servers\/[^/]+$/).filter((call) => call.path !== '/servers/detail')).toHaveLength(0);
    expect(new Set(running.map((server) => server.id)).size).toBe(45);
    expect(running.every((server) => server.state === 'ACTIVE' && server.privateIp?.startsWith('10.42.0.'))).toBe(true);
  });

  it('describes a server whose scheduling failed as ERROR with Nova’s fault, which only its own GET shows', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ bootMs: 1000 });
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: [...workers(1, 'error.nohost'), ...workers(2, 'm1.tiny', 2)] });
    cloud.clock.advance(1000);

    // Act
    const servers = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    const failed = servers.find((server) => server.name === 'worker-1');
    expect(failed).toMatchObject({ state: 'ERROR', fault: 'No valid host was found.', privateIp: null });
    expect(servers.filter((server) => server.state === 'ACTIVE')).toHaveLength(2);
    // The list left the fault out (the server is in cell0); the failed server alone was asked for it.
    const listed = cloud.calls('GET', /^\/servers\/detail$/).at(-1);
    expect(listed?.status).toBe(200);
    expect(cloud.calls('GET', /^\/servers\/(?!detail$)[^/]+$/).map((call) => call.path)).toEqual([`/servers/${failed?.id}`]);
  });

  it('refuses a server that needs a boot volume when the cloud has no Cinder, before Nova accepts one that cannot build', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ withCinder: false });
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Act
    const failure = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: [...workers(1, 'm1.small', 1, 20), ...workers(1, 'm1.small', 2, 100)] });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'VolumeServiceUnavailable', message: expect.stringContaining('worker-2 needs a boot volume') });
    expect(posts(cloud)).toHaveLength(0);
  });

  it('answers QuotaExceeded with Nova’s message when the project’s cores run out', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ quotas: { instances: 10, cores: 4 } });
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Act
    const failure = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(3, 'm1.medium') });

    // Assess
    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({ name: 'QuotaExceeded', message: expect.stringContaining('Quota exceeded for cores: Requested 2, but already used 4 of 4 cores') });
    expect(cloud.state.servers.size).toBe(2);
  });

  it('answers QuotaExceeded when the instances run out', async () => {
    // Prepare
    const { provider } = await contractProvider({ quotas: { instances: 1, cores: 20 } });
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Act
    const failure = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(2, 'm1.tiny') });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'QuotaExceeded', message: expect.stringContaining('Quota exceeded for instances') });
  });

  it('boots from a volume of the asked size when the disk exceeds the flavor’s, and from the image otherwise', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: [...workers(1, 'm1.small', 1, 100), ...workers(1, 'm1.small', 2, 20)] });

    // Assess
    const [big, fitting] = posts(cloud).map((call) => (call.body as { server: Record<string, unknown> }).server);
    expect(big?.imageRef).toBeUndefined();
    expect(big?.block_device_mapping_v2).toEqual([
      { boot_index: 0, uuid: '70a599e0-31e7-49b7-b260-868f441e862b', source_type: 'image', destination_type: 'volume', volume_size: 100, delete_on_termination: true },
    ]);
    expect(fitting?.imageRef).toBe('70a599e0-31e7-49b7-b260-868f441e862b');
    expect(fitting?.block_device_mapping_v2).toBeUndefined();
  });

  it('finds a spec’s image by name or id, and names a missing one ImageNotFound', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    const create = (image: string, token: string) => provider.createServers({ clusterId: CLUSTER, clientToken: token, networkIds, servers: workers(1, 'm1.small', 1, 20), options: { image } });

    // Act
    await create('debian-12', 't1');
    await create('155d900f-4e14-4e4c-a73d-069cbf4541e6', 't2');
    const missing = create('windows-11', 't3');

    // Assess
    await expect(missing).rejects.toMatchObject({ name: 'ImageNotFound' });
    expect(posts(cloud).map((call) => (call.body as { server: { imageRef?: string } }).server.imageRef)).toEqual(Array(2).fill('155d900f-4e14-4e4c-a73d-069cbf4541e6'));
    expect(cloud.calls('GET', /^\/v2\/images$/, 'image').map((call) => call.query.name?.[0])).toEqual(['debian-12', 'windows-11']);
  });

  it.each([
    [{ keyName: 'nobody' }, 'KeyPairNotFound', 'Invalid key_name provided.'],
    [{ zone: 'az-9' }, 'NovaBadRequest', 'The requested availability zone is not available'],
  ])('names Nova’s 400 for %o and carries its message', async (options, code, message) => {
    // Prepare
    const { provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Act
    const failure = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds, servers: workers(1), options });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: code, message: expect.stringContaining(`${message} (Nova POST /servers: 400)`) });
  });

  it('refuses a flavor the cloud lacks, and a batch over its size, before calling Nova', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({}, { maxBatchSize: 2 });

    // Act
    const unknown = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: workers(1, 'x9.huge') });
    const tooMany = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: workers(3) });

    // Assess
    await expect(unknown).rejects.toMatchObject({ name: 'FlavorNotFound' });
    await expect(tooMany).rejects.toMatchObject({ name: 'BatchTooLarge' });
    expect(posts(cloud)).toHaveLength(0);
  });

  it('lets Nova pick the network (auto) for a cluster without private networks', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: workers(1) });

    // Assess
    const body = (posts(cloud)[0]?.body as { server: Record<string, unknown> }).server;
    expect(body.networks).toBe('auto');
    expect(body.security_groups).toBeUndefined();
  });

  it('answers ComputeMicroversionUnsupported at connect when Nova is older than 2.52', async () => {
    // Prepare
    const cloud = await contractCloud({ maxMicroversion: '2.42' });

    // Act
    const failure = connect(cloud);

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'ComputeMicroversionUnsupported', message: expect.stringContaining('maximum is 2.42') });
  });
});
