import { describe, expect, it } from 'vitest';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { LocalCloud, localCloudOptionsFromEnv, type LocalCloudOptions } from '#adapters/local-cloud';

const T0 = Date.UTC(2025, 0, 1);

/** A cloud on a hand-moved clock, with no API latency so tests need not sleep. */
async function cloudAt(options: LocalCloudOptions = {}) {
  const clock = { now: T0 };
  const cloud = await LocalCloud.open({
    apiLatencyMs: { min: 0, max: 0 },
    bootMs: { min: 1000, max: 3000 },
    configMs: { min: 5000, max: 5000 },
    deleteMs: { min: 200, max: 200 },
    now: () => clock.now,
    random: () => 0.5,
    ...options,
  });
  return { cloud, clock, advance: (ms: number) => (clock.now += ms) };
}

const requests = (prefix: string, count: number, flavor = 'c2r4096d20') =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i + 1}`, role: 'worker', flavor }));

/** Servers of a cluster, already booted, ready for configuration. */
async function runningCluster(options: LocalCloudOptions = {}, names = ['master', 'worker-1', 'worker-2']) {
  const env = await cloudAt(options);
  const servers = await env.cloud.createServers({
    clusterId: 'c1',
    clientToken: 'batch-1',
    networkIds: [],
    servers: names.map((name) => ({ name, role: name === 'master' ? 'master' : 'worker', flavor: 'c2r4096d20' })),
  });
  env.advance(3000);
  return { ...env, nodes: servers.map(({ id, name }) => ({ id, name, role: 'worker' })) };
}

const caught = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

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

describe('localCloudOptionsFromEnv', () => {
  it('uses the documented defaults when no variable is set', () => {
    // Act
    const settings = localCloudOptionsFromEnv({});

    // Assess
    expect(settings).toEqual({
      bootMs: { min: 1500, max: 4000 },
      configMs: { min: 1000, max: 3000 },
      agentMs: { min: 0, max: 0 },
      deleteMs: { min: 100, max: 400 },
      apiLatencyMs: { min: 2, max: 10 },
      maxVcpus: 4096,
      maxServers: 2000,
      failPattern: null,
      configFailPattern: null,
      apiErrorRate: 0,
    });
  });

  it('reads ranges, single numbers, quotas, patterns and the error rate', () => {
    // Act
    const settings = localCloudOptionsFromEnv({
      LOCAL_CLOUD_BOOT_MS: '100-200',
      LOCAL_CLOUD_CONFIG_MS: '50',
      LOCAL_CLOUD_AGENT_MS: '0-90000',
      LOCAL_CLOUD_MAX_VCPUS: '64',
      LOCAL_CLOUD_MAX_SERVERS: '8',
      LOCAL_CLOUD_FAIL_PATTERN: 'fail-me',
      LOCAL_CLOUD_CONFIG_FAIL_PATTERN: '^worker-3$',
      LOCAL_CLOUD_API_ERROR_RATE: '0.25',
    });

    // Assess
    expect(settings).toMatchObject({
      bootMs: { min: 100, max: 200 },
      configMs: { min: 50, max: 50 },
      agentMs: { min: 0, max: 90_000 },
      maxVcpus: 64,
      maxServers: 8,
      apiErrorRate: 0.25,
    });
    expect(settings.failPattern?.test('node-fail-me')).toBe(true);
    expect(settings.configFailPattern?.test('worker-3')).toBe(true);
  });

  it.each([
    ['LOCAL_CLOUD_BOOT_MS', 'abc'],
    ['LOCAL_CLOUD_CONFIG_MS', '3000-1000'],
    ['LOCAL_CLOUD_AGENT_MS', 'soon'],
    ['LOCAL_CLOUD_DELETE_MS', '-5'],
    ['LOCAL_CLOUD_API_LATENCY_MS', '1-2-3'],
    ['LOCAL_CLOUD_MAX_VCPUS', '-1'],
    ['LOCAL_CLOUD_MAX_SERVERS', '2.5'],
    ['LOCAL_CLOUD_API_ERROR_RATE', '1.5'],
    ['LOCAL_CLOUD_API_ERROR_RATE', 'often'],
    ['LOCAL_CLOUD_FAIL_PATTERN', '(unclosed'],
    ['LOCAL_CLOUD_CONFIG_FAIL_PATTERN', '[a-'],
  ])('rejects %s=%s with an error naming the variable', (name, value) => {
    // Act
    const act = () => localCloudOptionsFromEnv({ [name]: value });

    // Assess
    expect(act).toThrow(name);
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
