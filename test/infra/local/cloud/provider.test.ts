import { describe, expect, it } from 'vitest';
import { InvalidSpec, ProviderError } from '#domain/errors';
import { LocalCloud } from '../../../../infra/local/cloud/cloud.ts';
import { LocalCloudProvider } from '../../../../infra/local/cloud/provider.ts';

const T0 = Date.UTC(2025, 0, 1);

async function provider(options: Parameters<typeof LocalCloud.open>[0] = {}) {
  const clock = { now: T0 };
  const cloud = await LocalCloud.open({ apiLatencyMs: { min: 0, max: 0 }, now: () => clock.now, ...options });
  return { provider: new LocalCloudProvider(cloud), cloud, clock };
}

const servers = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    name: `worker-${i + 1}`,
    role: 'worker',
    group: 'workers',
    publicIp: false,
    flavor: 'c2r4096d20',
    vcpus: 2,
    ramMb: 4096,
    diskGb: 20,
  }));

describe('LocalCloudProvider', () => {
  it('is named local and takes batches of up to 50 servers', async () => {
    // Act
    const { provider: local } = await provider();

    // Assess
    expect(local.name).toBe('local');
    expect(local.maxBatchSize).toBe(50);
  });

  it('derives its timings from the top of the boot and configuration ranges, in whole seconds', async () => {
    // Act
    const { provider: local } = await provider({ bootMs: { min: 1500, max: 4001 }, configMs: { min: 1000, max: 3000 } });

    // Assess
    expect(local.timings).toEqual({ expectedBootSeconds: 5, expectedConfigurationSeconds: 3 });
  });

  it('names a flavor after its size', async () => {
    // Prepare
    const { provider: local } = await provider();

    // Act
    const flavor = local.resolveFlavor({ vcpus: 4, ramMb: 8192, diskGb: 40 });

    // Assess
    expect(flavor).toBe('c4r8192d40');
  });

  it.each([
    [{ vcpus: 0, ramMb: 1024, diskGb: 10 }, 'vcpus'],
    [{ vcpus: 129, ramMb: 1024, diskGb: 10 }, 'vcpus'],
    [{ vcpus: 2, ramMb: 128, diskGb: 10 }, 'ramMb'],
    [{ vcpus: 2, ramMb: 1_048_577, diskGb: 10 }, 'ramMb'],
    [{ vcpus: 2, ramMb: 1024, diskGb: 0 }, 'diskGb'],
  ])('rejects the size %o with InvalidSpec naming %s', async (size, field) => {
    // Prepare
    const { provider: local } = await provider();

    // Act
    const act = () => local.resolveFlavor(size);

    // Assess
    expect(act).toThrow(InvalidSpec);
    expect(act).toThrow(field);
    try {
      act();
    } catch (error) {
      expect((error as InvalidSpec).details.map((detail) => detail.path)).toEqual([field]);
    }
  });

  it('refuses a create call of more than 50 servers with BatchTooLarge and creates nothing', async () => {
    // Prepare
    const { provider: local, cloud } = await provider();

    // Act
    const error = await local
      .createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: servers(51) })
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('BatchTooLarge');
    expect(cloud.listServers()).toEqual([]);
  });

  it('answers servers with exactly the port fields', async () => {
    // Prepare
    const { provider: local, clock } = await provider({ bootMs: { min: 10, max: 10 }, failPattern: /-2$/ });
    await local.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: servers(2) });
    clock.now += 10;

    // Act
    const described = await local.describeServers({ clusterId: 'c1' });

    // Assess
    expect(described.map((server) => Object.keys(server).sort())).toEqual([
      ['id', 'name', 'privateIp', 'publicIp', 'state'],
      ['fault', 'id', 'name', 'privateIp', 'publicIp', 'state'],
    ]);
  });

  it('runs a whole cluster lifecycle through the port: networks, servers, addresses, configuration, delete', async () => {
    // Prepare
    const { provider: local, cloud, clock } = await provider({
      bootMs: { min: 100, max: 100 },
      configMs: { min: 500, max: 500 },
      deleteMs: { min: 50, max: 50 },
    });

    // Act
    const networkIds = await local.createNetworks({ clusterId: 'c1', count: 1 });
    const created = await local.createServers({ clusterId: 'c1', clientToken: 't1', networkIds, servers: servers(3) });
    clock.now += 100;
    const running = await local.describeServers({ clusterId: 'c1' });
    const publicIps = await local.allocatePublicIps({ clusterId: 'c1', serverIds: [created[0]?.id ?? ''] });
    const configurationId = await local.startConfiguration({
      clusterId: 'c1',
      profile: 'lambda',
      servers: created.map(({ id, name }) => ({ id, name, role: 'worker' })),
    });
    clock.now += 500;
    const configured = await local.describeConfiguration({ clusterId: 'c1', configurationId });
    const deleting = await local.deleteCluster({ clusterId: 'c1' });
    clock.now += 50;
    const deleted = await local.deleteCluster({ clusterId: 'c1' });

    // Assess
    expect(running.every((server) => server.state === 'ACTIVE')).toBe(true);
    expect(Object.keys(publicIps)).toEqual([created[0]?.id]);
    expect(configured.state).toBe('SUCCEEDED');
    expect(configured.nodes).toEqual(Object.fromEntries(created.map(({ name }) => [name, { state: 'SUCCEEDED' }])));
    expect(deleting.remaining).toBe(4);
    expect(deleted.remaining).toBe(0);
    expect(cloud.listServers()).toEqual([]);
  });
});

describe('LocalCloudProvider options', () => {
  it('finds nothing to refuse in the cloud’s own region, zones and images, or in any key, user data, tags and rules', async () => {
    // Prepare
    const { provider: local } = await provider();
    const rule = { direction: 'egress' as const, protocol: 'udp', ethertype: 'IPv6' as const, remoteIpPrefix: '2001:db8::/32', portRangeMin: 53, portRangeMax: 53 };

    // Act
    const details = local.checkOptions({
      options: { region: 'local', zone: 'local-b', image: 'rocky-9', keyName: 'anything', userData: 'aGk=', tags: { a: 'b' } },
      securityRules: [rule],
      privateNetworks: 1,
    });

    // Assess
    expect(details).toEqual([]);
  });

  it('names region, zone and image the cloud does not have, for the 400 at create', async () => {
    // Prepare
    const { provider: local } = await provider();

    // Act
    const details = local.checkOptions({ options: { region: 'eu-west-1', zone: 'eu-west-1a', image: 'ami-0123' }, securityRules: [], privateNetworks: 1 });

    // Assess
    expect(details.map((detail) => detail.path)).toEqual(['region', 'zone', 'image']);
    expect(details[0]?.message).toMatch(/one region, local/);
  });

  it('refuses a create in another region with UnsupportedRegion, making nothing', async () => {
    // Prepare
    const { provider: local, cloud } = await provider();

    // Act
    const created = local.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: servers(1), options: { region: 'eu-west-1' } });

    // Assess
    await expect(created).rejects.toMatchObject({ name: 'UnsupportedRegion', message: expect.stringMatching(/^region eu-west-1/) });
    expect(cloud.listServers()).toEqual([]);
  });

  it('passes the options and the rules to the cloud', async () => {
    // Prepare
    const { provider: local, cloud } = await provider();
    const rule = { direction: 'ingress' as const, protocol: 'tcp', ethertype: 'IPv4' as const, remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 };

    // Act
    const networkIds = await local.createNetworks({ clusterId: 'c1', count: 1, securityRules: [rule] });
    await local.createServers({ clusterId: 'c1', clientToken: 't1', networkIds, servers: servers(1), options: { region: 'local', zone: 'local-b', tags: { team: 'data' } } });

    // Assess
    expect(cloud.listServers()[0]).toMatchObject({ zone: 'local-b', tags: { team: 'data' }, securityRules: [rule] });
  });
});
