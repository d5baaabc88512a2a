import { describe, expect, it } from 'vitest';
import { clusterTag } from '#adapters/openstack/naming';
import type { OpenStackProvider } from '#adapters/openstack/index';
import type { ContractCloud } from '../../contract/openstack/server.ts';
import { CLUSTER, contractProvider, workers } from './support.ts';

/** A cluster with everything the provider makes: networks, router, security group, servers (one on a volume), floating IPs. */
const provision = async (cloud: ContractCloud, provider: OpenStackProvider): Promise<void> => {
  const networkIds = await provider.createNetworks({
    clusterId: CLUSTER,
    count: 2,
    securityRules: [{ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 22, portRangeMax: 22 }],
  });
  const servers = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds, servers: [...workers(2), ...workers(1, 'm1.small', 3, 100)] });
  cloud.clock.advance(1000);
  await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: servers.map((server) => server.id) });
};

/** Rounds of deleteCluster, the contract clock moving on between them, until it answers 0. */
const destroy = async (cloud: ContractCloud, provider: OpenStackProvider, stepMs: number): Promise<number[]> => {
  const answers: number[] = [];
  for (let round = 0; round < 10; round++) {
    const { remaining } = await provider.deleteCluster({ clusterId: CLUSTER });
    answers.push(remaining);
    if (remaining === 0) break;
    cloud.clock.advance(stepMs);
  }
  return answers;
};

describe('openstack destroy', () => {
  it('deletes servers, floating IPs, router, subnets, networks, security group and volumes over rounds, leaving nothing', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ bootMs: 1000, deleteMs: 5000 });
    await provision(cloud, provider);
    expect(cloud.state.volumes.size).toBe(1);

    // Act
    const answers = await destroy(cloud, provider, 5000);

    // Assess
    expect(answers[0]).toBeGreaterThan(0);
    expect(answers.at(-1)).toBe(0);
    expect(cloud.state.tagged(clusterTag(CLUSTER))).toBe(0);
    expect(cloud.state.servers.size).toBe(0);
    expect(cloud.state.floatingIps.size).toBe(0);
    expect(cloud.state.routers.size).toBe(0);
    expect(cloud.state.volumes.size).toBe(0);
    expect(cloud.state.ports.size).toBe(0);
    expect([...cloud.state.networks.values()].map((network) => network.name).sort()).toEqual(['private', 'public']);
    // Only the projects' own `default` groups are left.
    expect([...cloud.state.securityGroups.values()].map((group) => group.name)).toEqual(['default', 'default']);
  });

  it('counts servers still being deleted, and what their ports hold, as remaining', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ bootMs: 0, deleteMs: 60_000 });
    await provision(cloud, provider);

    // Act
    const first = await provider.deleteCluster({ clusterId: CLUSTER });
    const second = await provider.deleteCluster({ clusterId: CLUSTER });

    // Assess
    // Three servers deleting, two subnets, two networks and the group held by their ports, the boot volume attached.
    expect(first.remaining).toBe(3 + 2 + 2 + 1 + 1);
    expect(second.remaining).toBe(first.remaining);
    expect(cloud.calls('DELETE', /^\/servers\/[^/]+$/)).toHaveLength(3);
  });

  it('deletes a boot volume Nova left behind, found by the cluster id written on it before its server was deleted', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ bootMs: 0, deleteMs: 0 });
    await provision(cloud, provider);
    const [volume] = [...cloud.state.volumes.values()];
    if (volume) volume.deleteOnTermination = false;

    // Act
    const answers = await destroy(cloud, provider, 1000);

    // Assess
    expect(answers.at(-1)).toBe(0);
    expect(cloud.state.volumes.size).toBe(0);
    expect(cloud.calls('DELETE', /^\/volumes\/[^/]+$/, 'volume')).toHaveLength(1);
  });

  it('leaves other clusters’ resources alone', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const other = 'c0ffee00-0000-4000-8000-000000000002';
    const networkIds = await provider.createNetworks({ clusterId: other, count: 1 });
    await provider.createServers({ clusterId: other, clientToken: 'o', networkIds, servers: workers(1) });
    await provision(cloud, provider);

    // Act
    await destroy(cloud, provider, 1000);

    // Assess
    // Its security group, network, subnet, router and server.
    expect(cloud.state.tagged(clusterTag(other))).toBe(5);
    expect(cloud.state.servers.size).toBe(1);
  });

  it('answers 0 at once for a cluster that made nothing', async () => {
    // Prepare
    const { provider } = await contractProvider();

    // Act
    const { remaining } = await provider.deleteCluster({ clusterId: CLUSTER });

    // Assess
    expect(remaining).toBe(0);
  });
});
