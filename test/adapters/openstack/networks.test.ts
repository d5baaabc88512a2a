import { describe, expect, it } from 'vitest';
import { clusterTag } from '#adapters/openstack/naming';
import type { SecurityRule } from '#domain/model';
import { CLUSTER, connect, contractCloud, contractProvider, workers } from './support.ts';

const RULES: SecurityRule[] = [
  { direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 22, portRangeMax: 22 },
  { direction: 'ingress', protocol: 'icmp', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' },
  { direction: 'ingress', protocol: 'udp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMax: 1024 },
];

const tagged = <T extends { tags: string[] }>(items: Iterable<T>): T[] => [...items].filter((item) => item.tags.includes(clusterTag(CLUSTER)));

describe('openstack networks', () => {
  it('makes a tagged network and subnet per private network, with non-overlapping CIDRs, and answers their ids in order', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 3 });

    // Assess
    const networks = ids.map((id) => cloud.state.networks.get(id));
    expect(networks.map((network) => network?.name)).toEqual([0, 1, 2].map((i) => `${CLUSTER}-net-${i}`));
    expect(networks.every((network) => network?.tags.includes(clusterTag(CLUSTER)))).toBe(true);
    const subnets = ids.map((id) => [...cloud.state.subnets.values()].find((subnet) => subnet.network_id === id));
    expect(subnets.map((subnet) => subnet?.cidr)).toEqual(['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24']);
    expect(subnets.map((subnet) => subnet?.gateway_ip)).toEqual(['10.42.0.1', null, null]);
    expect(subnets.every((subnet) => subnet?.tags.includes(clusterTag(CLUSTER)))).toBe(true);
    const posted = cloud.calls('POST', /^\/v2\.0\/(networks|subnets)$/).map((call) => JSON.stringify(call.body));
    expect(posted.some((body) => body.includes('"tags"'))).toBe(false);
  });

  it('routes the first subnet to the external network through a tagged router', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();

    // Act
    const [first] = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });

    // Assess
    const [router] = tagged(cloud.state.routers.values());
    expect(router?.external_gateway_info).toMatchObject({ network_id: cloud.state.externalNetworkId });
    const interfaces = [...cloud.state.ports.values()].filter((port) => port.device_id === router?.id);
    expect(interfaces.map((port) => port.network_id)).toEqual([first]);
  });

  it('gives the cluster one security group: every protocol between its nodes and the spec’s rules', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: RULES });

    // Assess
    const [group] = tagged(cloud.state.securityGroups.values());
    const rules = [...cloud.state.rules.values()].filter((rule) => rule.security_group_id === group?.id).map(({ id: _id, security_group_id: _g, description: _d, ...rule }) => rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        { direction: 'ingress', ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: group?.id },
        { direction: 'ingress', ethertype: 'IPv6', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: group?.id },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', remote_group_id: null },
        { direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', port_range_min: null, port_range_max: null, remote_ip_prefix: '2001:db8::/32', remote_group_id: null },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', port_range_min: 1, port_range_max: 1024, remote_ip_prefix: '10.0.0.0/8', remote_group_id: null },
        { direction: 'egress', ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null },
      ]),
    );
    expect(rules).toHaveLength(7);
  });

  it('replaces the allow-all egress with the spec’s egress rules and egress to the cluster’s nodes', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const egress: SecurityRule = { direction: 'egress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '192.0.2.0/24', portRangeMin: 443, portRangeMax: 443 };

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [egress] });

    // Assess
    const [group] = tagged(cloud.state.securityGroups.values());
    const out = [...cloud.state.rules.values()].filter((rule) => rule.security_group_id === group?.id && rule.direction === 'egress');
    expect(out.map((rule) => [rule.protocol, rule.remote_ip_prefix, rule.remote_group_id])).toEqual(
      expect.arrayContaining([
        ['tcp', '192.0.2.0/24', null],
        [null, null, group?.id],
      ]),
    );
    expect(out).toHaveLength(3);
  });

  it('finds everything by tag when retried, making and adding nothing twice', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const first = await provider.createNetworks({ clusterId: CLUSTER, count: 2, securityRules: RULES });
    const counts = () => [cloud.state.networks.size, cloud.state.subnets.size, cloud.state.routers.size, cloud.state.securityGroups.size, cloud.state.rules.size, cloud.state.ports.size];
    const before = counts();

    // Act
    const again = await provider.createNetworks({ clusterId: CLUSTER, count: 2, securityRules: RULES });

    // Assess
    expect(again).toEqual(first);
    expect(counts()).toEqual(before);
    expect(cloud.calls('POST', /^\/v2\.0\//)).toHaveLength(
      // The first call's: security group, rules (one bulk), 2 networks, 2 subnets, router.
      7,
    );
  });

  it('takes a rule over every port for the one Neutron stores without ports, so a retry adds nothing', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const everyPort: SecurityRule[] = [
      { direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 1, portRangeMax: 65_535 },
      { direction: 'ingress', protocol: 'udp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMax: 65_535 },
    ];
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: everyPort });
    const before = cloud.calls('POST', /^\/v2\.0\/security-group-rules$/).length;

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: everyPort });

    // Assess
    const [group] = tagged(cloud.state.securityGroups.values());
    const stored = [...cloud.state.rules.values()].filter((rule) => rule.security_group_id === group?.id && rule.remote_ip_prefix === '10.0.0.0/8');
    expect(stored.map((rule) => [rule.protocol, rule.port_range_min, rule.port_range_max])).toEqual([
      ['tcp', null, null],
      ['udp', null, null],
    ]);
    expect(cloud.calls('POST', /^\/v2\.0\/security-group-rules$/)).toHaveLength(before);
  });

  it('deletes a network whose tags could not be set, so no untagged network is left behind', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    cloud.inject({ method: 'PUT', service: 'network', path: /^\/v2\.0\/networks\/[^/]+\/tags$/, fault: { kind: 'status', status: 503, body: 'Service Unavailable' } });

    // Act
    const failure = provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'TransientProviderError' });
    expect([...cloud.state.networks.values()].filter((network) => network.name.startsWith(CLUSTER))).toEqual([]);
  });
});

describe('openstack public addresses', () => {
  it('gives each server a tagged floating IP on its port in the first network, answered by describe as publicIp once Nova has heard of it', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider({ novaAddressLagMs: 2000 });
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });
    const servers = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds, servers: workers(2) });
    const ids = servers.map((server) => server.id);

    // Act
    const addresses = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids });
    const before = await provider.describeServers({ clusterId: CLUSTER });
    cloud.clock.advance(2000);
    const described = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(Object.keys(addresses).sort()).toEqual([...ids].sort());
    const ips = tagged(cloud.state.floatingIps.values());
    expect(ips).toHaveLength(2);
    for (const ip of ips) expect(cloud.state.ports.get(ip.port_id ?? '')?.network_id).toBe(networkIds[0]);
    // Neutron tells Nova of an association in batches: its addresses lag (the workflow keeps allocatePublicIps' answer).
    expect(before.map((server) => server.publicIp)).toEqual([null, null]);
    expect(Object.fromEntries(described.map((server) => [server.id, server.publicIp]))).toEqual(addresses);
    expect(cloud.calls('GET', /^\/v2\.0\/ports$/).filter((call) => call.query.device_id?.length === 2)).toHaveLength(1);
  });

  it('answers the addresses servers have when retried, allocating none', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    const ids = (await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds, servers: workers(2) })).map((server) => server.id);
    const first = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids });
    const before = cloud.requests.length;

    // Act
    const again = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids });

    // Assess
    expect(again).toEqual(first);
    expect(cloud.state.floatingIps.size).toBe(2);
    expect(cloud.requests.slice(before).filter((call) => call.method !== 'GET')).toEqual([]);
  });

  it('finds a floating IP whose tags were lost by its port, and tags it instead of making another', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    const [server] = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds, servers: workers(1) });
    const first = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [server?.id ?? ''] });
    for (const ip of cloud.state.floatingIps.values()) ip.tags = [];

    // Act
    const again = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [server?.id ?? ''] });

    // Assess
    expect(again).toEqual(first);
    expect(tagged(cloud.state.floatingIps.values())).toHaveLength(1);
    expect(cloud.state.floatingIps.size).toBe(1);
  });

  it('answers NoExternalNetwork when the deployment names no external network, and makes no router', async () => {
    // Prepare
    const { cloud, provider } = await connect(await contractCloud(), {}, { OPENSTACK_EXTERNAL_NETWORK: '' });
    await provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Act
    const failure = provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ['x'] });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'NoExternalNetwork' });
    expect(cloud.state.routers.size).toBe(0);
  });
});
