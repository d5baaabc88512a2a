import { describe, expect, it } from 'vitest';
import { InvalidSpec, ProviderError } from '#domain/errors';
import { CLUSTER, contractProvider } from './support.ts';

describe('openstack provider', () => {
  it('is named openstack, creates 10 servers per call by default, and reads the flavor catalogue once, all pages', async () => {
    // Act
    const { cloud, provider } = await contractProvider({ maxLimit: 3 });
    provider.resolveFlavor({ vcpus: 2, ramMb: 4096, diskGb: 40 });
    provider.describeFlavor('m1.large');

    // Assess
    expect(provider.name).toBe('openstack');
    expect(provider.maxBatchSize).toBe(10);
    expect(provider.timings).toEqual({ expectedBootSeconds: 30, expectedConfigurationSeconds: 300 });
    expect(cloud.calls('GET', /^\/flavors\/detail$/).map((call) => call.query.marker?.[0] ?? null)).toEqual([null, '3', '6']);
  });

  it.each([
    [{ vcpus: 4, ramMb: 4096, diskGb: 40 }, 'm1.large'],
    [{ vcpus: 2, ramMb: 4096, diskGb: 40 }, 'm1.medium'],
    [{ vcpus: 1, ramMb: 512, diskGb: 1 }, 'm1.tiny'],
    [{ vcpus: 1, ramMb: 1024, diskGb: 10 }, 'm1.small'],
    // No flavor has the disk: the smallest with the vCPUs and RAM, booted from a volume.
    [{ vcpus: 2, ramMb: 4096, diskGb: 500 }, 'm1.medium'],
  ])('resolves %o to the smallest flavor that fits, %s', async (size, flavor) => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const resolved = provider.resolveFlavor(size);

    // Assess
    expect(resolved).toBe(flavor);
  });

  it.each([
    [{ vcpus: 16, ramMb: 4096, diskGb: 40 }, 'vcpus', 'no openstack flavor has 16 vCPUs (the most is 8)'],
    [{ vcpus: 8, ramMb: 65_536, diskGb: 40 }, 'ramMb', 'no openstack flavor with 8 or more vCPUs has 65536 MiB (the most is 16384)'],
  ])('refuses %o with InvalidSpec naming %s', async (size, path, message) => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    let refusal: unknown;
    try {
      provider.resolveFlavor(size);
    } catch (error) {
      refusal = error;
    }

    // Assess
    expect(refusal).toBeInstanceOf(InvalidSpec);
    expect((refusal as InvalidSpec).details).toEqual([{ path, message }]);
  });

  it('describes a flavor named by name or id, a disk-less one with the default disk, and an unknown one as null', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const byName = provider.describeFlavor('m1.medium');
    const byId = provider.describeFlavor('4');
    const diskless = provider.describeFlavor('b1.small');
    const unknown = provider.describeFlavor('x1.mega');

    // Assess
    expect(byName).toEqual({ vcpus: 2, ramMb: 4096, diskGb: 40 });
    expect(byId).toEqual({ vcpus: 4, ramMb: 8192, diskGb: 80 });
    expect(diskless).toEqual({ vcpus: 1, ramMb: 2048, diskGb: 20 });
    expect(unknown).toBeNull();
  });

  it('accepts every option it can honour, egress rules included', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const details = provider.checkOptions({
      options: { region: 'RegionOne', zone: 'nova', image: 'debian-12', keyName: 'ops-key', userData: 'IyEvYmluL3NoCg==', tags: { team: 'data', 'cost center': 'rnd:42' } },
      securityRules: [{ direction: 'egress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 443, portRangeMax: 443 }],
      privateNetworks: 1,
    });

    // Assess
    expect(details).toEqual([]);
  });

  it('refuses what Nova would: another region, an unknown zone, oversized user data, tags that are not server metadata', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const details = provider.checkOptions({
      options: { region: 'RegionTwo', zone: 'az-9', userData: 'A'.repeat(49_152), tags: { 'a/b': 'x', long: 'v'.repeat(256) } },
      securityRules: [],
      privateNetworks: 1,
    });

    // Assess
    expect(details.map((detail) => detail.path)).toEqual(['region', 'zone', 'userData', 'tags.a/b', 'tags.long']);
    expect(details[0]?.message).toContain('works in RegionOne');
    expect(details[1]?.message).toContain('nova');
  });

  it('refuses a spec’s other region when servers are made too (specs recorded without the check)', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const failure = provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [{ name: 'a', role: 'worker', group: 'workers', publicIp: false, flavor: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 }], options: { region: 'RegionTwo' } });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'UnsupportedRegion' });
  });

  it('runs profile none at once itself, and leaves any other to the cloud-init runner (ConfigurationRunnerUnavailable)', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const none = await provider.startConfiguration({ clusterId: CLUSTER, profile: 'none' });
    const status = await provider.describeConfiguration({ clusterId: CLUSTER, configurationId: none });
    const lambda = provider.startConfiguration({ clusterId: CLUSTER, profile: 'lambda' });

    // Assess
    expect(status).toMatchObject({ state: 'SUCCEEDED', component: 'none' });
    await expect(lambda).rejects.toBeInstanceOf(ProviderError);
    await expect(lambda).rejects.toMatchObject({ name: 'ConfigurationRunnerUnavailable' });
  });
});
