import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors';
import type { CloudQuotaInput } from '#domain/provider';
import type { SecurityRule } from '#domain/model';
import { CLUSTER, contractProvider, workers } from './support.ts';

const RULES: SecurityRule[] = [{ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 22, portRangeMax: 22 }];

/** A master with a public address on m1.medium and `count` workers on m1.small, on one private network. */
const plan = (count: number, extra: Partial<CloudQuotaInput> = {}): CloudQuotaInput => ({
  servers: [{ name: 'master', flavor: 'm1.medium', diskGb: 40, publicIp: true }, ...workers(count)],
  privateNetworks: 1,
  securityRules: RULES,
  ...extra,
});

describe('openstack describeQuota', () => {
  it("answers Nova's limits, Neutron's quota details and Cinder's quota set against what the plan would make", async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ quotas: { instances: 10, cores: 20, ramMb: 16_384, floatingIps: 5 } });

    // Act
    const quota = await provider.describeQuota(plan(2));

    // Assess
    expect(quota).toMatchObject({
      instances: { limit: 10, used: 0, requested: 3 },
      cores: { limit: 20, used: 0, requested: 4 },
      ramMb: { limit: 16_384, used: 0, requested: 8192 },
      floatingIps: { limit: 5, used: 0, requested: 1 },
      // The project's own network and subnet are counted as used.
      networks: { limit: 100, used: 1, requested: 1 },
      subnets: { limit: 100, used: 1, requested: 1 },
      routers: { limit: 10, used: 0, requested: 1 },
      ports: { limit: 500, requested: 4 },
      securityGroups: { limit: 10, requested: 1 },
      volumes: { limit: 10, used: 0, requested: 0 },
      gigabytes: { limit: 1000, used: 0, requested: 0 },
    });
    expect(cloud.calls('GET', /^\/limits$/, 'compute')).toHaveLength(1);
    expect(cloud.calls('GET', /^\/v2\.0\/quotas\/[^/]+\/details$/, 'network')).toHaveLength(1);
    expect(cloud.calls('GET', /^\/os-quota-sets\/[^/]+$/, 'volume').map((call) => call.query.usage)).toEqual([['true']]);
    expect(cloud.calls(undefined, /./).filter((call) => call.service !== 'identity' && call.method !== 'GET')).toEqual([]);
  });

  it.each([
    ['ingress only', RULES],
    ['egress restricted', [...RULES, { direction: 'egress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 443, portRangeMax: 443 } as const]],
  ])('asks for as many security group rules as making the networks then leaves (%s)', async (_, rules: SecurityRule[]) => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const before = cloud.state.rules.size;
    const { securityGroupRules } = await provider.describeQuota(plan(1, { securityRules: rules }));

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: rules });

    // Assess
    expect(securityGroupRules?.requested).toBe(cloud.state.rules.size - before);
  });

  it("counts the servers already made as Nova's usage", async () => {
    // Prepare
    const { provider } = await contractProvider();
    await provider.createServers({ clusterId: CLUSTER, clientToken: 'batch-1', networkIds: [], servers: workers(2) });

    // Act
    const quota = await provider.describeQuota(plan(1));

    // Assess
    expect(quota).toMatchObject({ instances: { used: 2 }, cores: { used: 2 }, ramMb: { used: 4096 } });
  });

  it('asks Cinder for a boot volume of the disk where the flavor lacks it', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const quota = await provider.describeQuota(plan(0, { servers: [{ name: 'big', flavor: 'm1.small', diskGb: 100, publicIp: false }] }));

    // Assess
    expect(quota).toMatchObject({ volumes: { requested: 1 }, gigabytes: { requested: 100 } });
  });

  it('leaves out volumes and gigabytes, and asks nothing of Cinder, where the catalog has none', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ withCinder: false });

    // Act
    const quota = await provider.describeQuota(plan(1));

    // Assess
    expect(Object.keys(quota)).not.toContain('volumes');
    expect(Object.keys(quota)).not.toContain('gigabytes');
    expect(quota.instances).toBeDefined();
    expect(cloud.calls(undefined, /os-quota-sets/)).toEqual([]);
  });

  it("leaves out Neutron's resources where Neutron has no quota details (404)", async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    cloud.inject({ service: 'network', path: /^\/v2\.0\/quotas\//, fault: { kind: 'status', status: 404, body: { NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } } } });

    // Act
    const quota = await provider.describeQuota(plan(1));

    // Assess
    expect(Object.keys(quota).sort()).toEqual(['cores', 'gigabytes', 'instances', 'ramMb', 'volumes']);
  });

  it("fails as the adapter's other calls do when Nova refuses", async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    cloud.inject({ service: 'compute', path: /^\/limits$/, fault: { kind: 'status', status: 403, body: { forbidden: { code: 403, message: 'Policy does not allow os_compute_api:limits to be performed.' } } } });

    // Act
    const asked = provider.describeQuota(plan(1));

    // Assess
    await expect(asked).rejects.toBeInstanceOf(DomainError);
    await expect(asked).rejects.toThrow(/limits/);
  });
});

describe('contract GET /limits', () => {
  it('writes the network quotas below microversion 2.36 and personality below 2.57, as Nova does', async () => {
    // Prepare
    const { cloud } = await contractProvider();
    const ask = async (version?: string) => {
      const response = await fetch(`${cloud.url}/compute/v2.1/limits`, {
        headers: { 'X-Auth-Token': [...cloud.state.tokens.keys()][0] ?? '', ...(version ? { 'OpenStack-API-Version': `compute ${version}` } : {}) },
      });
      return Object.keys(((await response.json()) as { limits: { absolute: Record<string, number> } }).limits.absolute);
    };

    // Act
    const [base, at52, at60] = [await ask(), await ask('2.52'), await ask('2.60')];

    // Assess
    expect(base).toEqual(expect.arrayContaining(['maxTotalFloatingIps', 'maxSecurityGroups', 'maxPersonality', 'maxTotalInstances']));
    expect(at52).not.toContain('maxTotalFloatingIps');
    expect(at52).toContain('maxPersonality');
    expect(at60).not.toContain('maxPersonality');
    expect(at60).toContain('totalRAMUsed');
  });
});
