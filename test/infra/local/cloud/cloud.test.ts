/** The emulated cloud's servers, quotas, faults, deletion, addresses, options and rules. */
import { describe, expect, it } from 'vitest';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { caught, cloudAt, requests } from '../../../support/local-cloud.ts';

describe('LocalCloud server lifecycle', () => {
  it('keeps a server in BUILD until its drawn boot time, then ACTIVE', async () => {
    // Prepare: random 0.5 over 1000-3000 draws a 2000 ms boot
    const { cloud, advance } = await cloudAt();
    const [created] = await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 1) });

    // Act
    advance(1999);
    const before = await cloud.describeServers({ clusterId: 'c1' });
    advance(1);
    const after = await cloud.describeServers({ clusterId: 'c1' });

    // Assess
    expect(created?.state).toBe('BUILD');
    expect(before.map((server) => server.state)).toEqual(['BUILD']);
    expect(after.map((server) => server.state)).toEqual(['ACTIVE']);
    expect(after[0]?.fault).toBeUndefined();
  });

  it('boots a server whose name matches the fail pattern into ERROR with a fault', async () => {
    // Prepare
    const { cloud, advance } = await cloudAt({ failPattern: /-bad$/ });
    await cloud.createServers({
      clusterId: 'c1',
      clientToken: 't1',
      networkIds: [],
      servers: [
        { name: 'node-ok', role: 'worker', flavor: 'c1r512d10' },
        { name: 'node-bad', role: 'worker', flavor: 'c1r512d10' },
      ],
    });

    // Act
    const building = await cloud.describeServers({ clusterId: 'c1' });
    advance(3000);
    const booted = await cloud.describeServers({ clusterId: 'c1' });

    // Assess
    expect(building.map((server) => server.state)).toEqual(['BUILD', 'BUILD']);
    expect(booted.find((server) => server.name === 'node-ok')?.state).toBe('ACTIVE');
    const failed = booted.find((server) => server.name === 'node-bad');
    expect(failed?.state).toBe('ERROR');
    expect(failed?.fault).toMatch(/node-bad/);
  });

  it('answers a retried createServers with the same client token with the same servers and creates none', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    const input = { clusterId: 'c1', clientToken: 'batch-1', networkIds: [], servers: requests('n', 3) };
    const first = await cloud.createServers(input);

    // Act
    const retried = await cloud.createServers(input);

    // Assess
    expect(retried.map((server) => server.id)).toEqual(first.map((server) => server.id));
    expect(cloud.listServers()).toHaveLength(3);
  });

  it('answers a client token replayed after its cluster was deleted with DELETED servers and creates none', async () => {
    // Prepare
    const { cloud, advance } = await cloudAt();
    const input = { clusterId: 'c1', clientToken: 'batch-1', networkIds: [], servers: requests('n', 2) };
    const first = await cloud.createServers(input);
    await cloud.deleteCluster({ clusterId: 'c1' });
    advance(200);
    await cloud.deleteCluster({ clusterId: 'c1' });

    // Act
    const replayed = await cloud.createServers(input);

    // Assess
    expect(replayed.map((server) => [server.id, server.state])).toEqual(first.map((server) => [server.id, 'DELETED']));
    expect(cloud.listServers()).toEqual([]);
  });

  it('refuses a client token reused for another request', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    await cloud.createServers({ clusterId: 'c1', clientToken: 'batch-1', networkIds: [], servers: requests('n', 2) });

    // Act
    const error = await caught(
      cloud.createServers({ clusterId: 'c2', clientToken: 'batch-1', networkIds: [], servers: requests('n', 2) }),
    );

    // Assess
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('IdempotentParameterMismatch');
    expect(cloud.listServers()).toHaveLength(2);
  });

  it('refuses a flavor name the cloud does not know', async () => {
    // Prepare
    const { cloud } = await cloudAt();

    // Act
    const error = await caught(
      cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 1, 'm1.large') }),
    );

    // Assess
    expect((error as ProviderError).code).toBe('FlavorNotFound');
    expect(cloud.listServers()).toEqual([]);
  });
});

describe('LocalCloud quotas', () => {
  it('refuses a batch that would exceed the server quota and creates none of it', async () => {
    // Prepare
    const { cloud } = await cloudAt({ maxServers: 3 });
    await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('a', 2) });

    // Act
    const error = await caught(
      cloud.createServers({ clusterId: 'c1', clientToken: 't2', networkIds: [], servers: requests('b', 2) }),
    );

    // Assess
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('QuotaExceeded');
    expect((error as ProviderError).message).toMatch(/servers: 2\/3/);
    expect(cloud.listServers().map((server) => server.name)).toEqual(['a-1', 'a-2']);
  });

  it('refuses a batch that would exceed the vCPU quota and creates none of it', async () => {
    // Prepare
    const { cloud } = await cloudAt({ maxVcpus: 10 });

    // Act
    const error = await caught(
      cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 3, 'c4r8192d40') }),
    );

    // Assess
    expect((error as ProviderError).code).toBe('QuotaExceeded');
    expect((error as ProviderError).message).toMatch(/vCPUs: 0\/10 in use, this request needs 12/);
    expect(cloud.listServers()).toEqual([]);
  });

  it('counts servers freed by a finished delete out of the quota', async () => {
    // Prepare
    const { cloud, advance } = await cloudAt({ maxServers: 2 });
    await cloud.createServers({ clusterId: 'old', clientToken: 't1', networkIds: [], servers: requests('a', 2) });
    await cloud.deleteCluster({ clusterId: 'old' });
    advance(200);

    // Act
    const created = await cloud.createServers({ clusterId: 'new', clientToken: 't2', networkIds: [], servers: requests('b', 2) });

    // Assess
    expect(created).toHaveLength(2);
    expect(cloud.listServers().map((server) => server.clusterId)).toEqual(['new', 'new']);
  });
});

describe('LocalCloud API faults', () => {
  it('throttles every call with TransientProviderError before changing anything when the error rate is 1', async () => {
    // Prepare
    const { cloud } = await cloudAt({ apiErrorRate: 1 });

    // Act
    const createServers = await caught(
      cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 2) }),
    );
    const createNetworks = await caught(cloud.createNetworks({ clusterId: 'c1', count: 1 }));
    const describeServers = await caught(cloud.describeServers({ clusterId: 'c1' }));

    // Assess
    for (const error of [createServers, createNetworks, describeServers]) {
      expect(error).toBeInstanceOf(TransientProviderError);
      expect((error as Error).message).toMatch(/throttled/);
    }
    expect(cloud.listServers()).toEqual([]);
  });

  it('adds the drawn API latency to a call', async () => {
    // Prepare
    const { cloud } = await cloudAt({ apiLatencyMs: { min: 60, max: 60 } });
    const started = performance.now();

    // Act
    await cloud.describeServers({ clusterId: 'c1' });

    // Assess
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('LocalCloud deletion', () => {
  it('deletes a cluster down to zero remaining resources and leaves other clusters alone', async () => {
    // Prepare
    const { cloud, advance } = await cloudAt();
    const networks = await cloud.createNetworks({ clusterId: 'c1', count: 2 });
    const servers = await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: networks, servers: requests('n', 3) });
    await cloud.allocatePublicIps({ clusterId: 'c1', serverIds: servers.map((server) => server.id) });
    await cloud.createServers({ clusterId: 'other', clientToken: 't2', networkIds: [], servers: requests('o', 1) });

    // Act
    const first = await cloud.deleteCluster({ clusterId: 'c1' });
    const whileDeleting = await cloud.describeServers({ clusterId: 'c1' });
    advance(200);
    const second = await cloud.deleteCluster({ clusterId: 'c1' });
    const third = await cloud.deleteCluster({ clusterId: 'c1' });

    // Assess
    expect(first.remaining).toBe(5); // 3 servers still DELETING + 2 networks they hold; addresses went at once
    expect(whileDeleting.map((server) => [server.state, server.publicIp])).toEqual([
      ['DELETING', null],
      ['DELETING', null],
      ['DELETING', null],
    ]);
    expect(second.remaining).toBe(0);
    expect(third.remaining).toBe(0);
    expect(cloud.listServers().map((server) => server.clusterId)).toEqual(['other']);
    expect(await cloud.describeServers({ clusterId: 'c1' })).toEqual([]);
  });
});

describe('LocalCloud addresses', () => {
  it('hands out private and public addresses that are unique across clusters', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    const ips: string[] = [];

    // Act
    for (const clusterId of ['c1', 'c2', 'c3']) {
      const networkIds = await cloud.createNetworks({ clusterId, count: 1 });
      const servers = await cloud.createServers({ clusterId, clientToken: clusterId, networkIds, servers: requests(clusterId, 4) });
      const publicIps = await cloud.allocatePublicIps({ clusterId, serverIds: servers.map((server) => server.id) });
      ips.push(...servers.map((server) => server.privateIp ?? 'none'), ...Object.values(publicIps));
    }
    await cloud.createServers({ clusterId: 'c4', clientToken: 'c4', networkIds: [], servers: requests('c4', 2) });
    ips.push(...(await cloud.describeServers({ clusterId: 'c4' })).map((server) => server.privateIp ?? 'none'));

    // Assess
    expect(ips).toHaveLength(26);
    expect(new Set(ips).size).toBe(26);
    expect(ips.filter((ip) => ip.startsWith('10.'))).toHaveLength(14);
    expect(ips.filter((ip) => /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./.test(ip))).toHaveLength(12);
  });

  it('answers the existing public address for a server that already has one', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    const [server] = await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 1) });
    const id = server?.id ?? '';
    const first = await cloud.allocatePublicIps({ clusterId: 'c1', serverIds: [id] });

    // Act
    const again = await cloud.allocatePublicIps({ clusterId: 'c1', serverIds: [id] });

    // Assess
    expect(again).toEqual(first);
    expect((await cloud.describeServers({ clusterId: 'c1' }))[0]?.publicIp).toBe(first[id]);
  });

  it('answers the existing networks of a cluster instead of making new ones', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    const first = await cloud.createNetworks({ clusterId: 'c1', count: 2 });

    // Act
    const again = await cloud.createNetworks({ clusterId: 'c1', count: 2 });
    const other = await cloud.createNetworks({ clusterId: 'c2', count: 2 });

    // Assess
    expect(again).toEqual(first);
    expect(new Set([...first, ...other]).size).toBe(4);
  });
});

describe('LocalCloud server options and security rules', () => {
  const USER_DATA = Buffer.from('#cloud-config\npackages: [htop]\n').toString('base64');
  const SSH = { direction: 'ingress' as const, protocol: 'tcp', ethertype: 'IPv4' as const, remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 };
  const PING = { direction: 'ingress' as const, protocol: 'icmp', ethertype: 'IPv4' as const, remoteIpPrefix: '0.0.0.0/0' };

  it('records on each server its zone, image, key name, user data and tags, and lists them', async () => {
    // Prepare
    const { cloud } = await cloudAt();

    // Act
    await cloud.createServers({
      clusterId: 'c1',
      clientToken: 't1',
      networkIds: [],
      servers: requests('n', 2),
      options: { zone: 'local-c', image: 'rocky-9', keyName: 'ops', userData: USER_DATA, tags: { team: 'data' } },
    });

    // Assess
    expect(cloud.listServers()).toEqual(
      ['n-1', 'n-2'].map((name) =>
        expect.objectContaining({ name, zone: 'local-c', image: 'rocky-9', keyName: 'ops', userData: USER_DATA, tags: { team: 'data' }, securityRules: [] }),
      ),
    );
  });

  it('puts a server asked for without options in the first zone, from the first image, with no key, user data or tags', async () => {
    // Prepare
    const { cloud } = await cloudAt();

    // Act
    await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 1) });

    // Assess
    expect(cloud.listServers()[0]).toMatchObject({ zone: 'local-a', image: 'debian-12', keyName: null, userData: null, tags: {} });
  });

  it.each([
    [{ zone: 'local-z' }, 'InvalidZone', /Zone "local-z" does not exist; the local cloud has local-a, local-b, local-c/],
    [{ image: 'windows-11' }, 'ImageNotFound', /Image "windows-11" does not exist/],
  ])('refuses %o with a ProviderError %s, making nothing', async (options, code, message) => {
    // Prepare
    const { cloud } = await cloudAt();

    // Act
    const error = await caught(cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 2), options }));

    // Assess
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ name: code, code, message: expect.stringMatching(message) });
    expect(cloud.listServers()).toEqual([]);
  });

  it('keeps the security rules on every network of the cluster and shows them on the servers attached', async () => {
    // Prepare
    const { cloud } = await cloudAt();

    // Act
    const networkIds = await cloud.createNetworks({ clusterId: 'c1', count: 2, securityRules: [SSH, PING] });
    await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds, servers: requests('n', 1) });

    // Assess
    expect(cloud.listNetworks().map((network) => [network.id, network.securityRules])).toEqual(networkIds.map((id) => [id, [SSH, PING]]));
    expect(cloud.listServers()[0]?.securityRules).toEqual([SSH, PING]);
  });

  it('adds no rule twice when createNetworks is retried, and adds a new one to the networks it finds', async () => {
    // Prepare
    const { cloud } = await cloudAt();
    const networkIds = await cloud.createNetworks({ clusterId: 'c1', count: 1, securityRules: [SSH] });

    // Act
    const again = await cloud.createNetworks({ clusterId: 'c1', count: 1, securityRules: [{ ...SSH }, PING, PING] });

    // Assess
    expect(again).toEqual(networkIds);
    expect(cloud.listNetworks()[0]?.securityRules).toEqual([SSH, PING]);
  });
});
