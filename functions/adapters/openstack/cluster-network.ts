/**
 * A cluster's Neutron resources (docs/openstack-provider.md, "Networks" and "Public addresses"):
 * its security group, a network and subnet per private network, a router to the external network,
 * floating IPs. Everything is found by the cluster's tag before anything is made, so a retried
 * call makes nothing twice.
 */
import { ProviderError, TransientProviderError } from '#domain/errors';
import type { CreateNetworksInput } from '#domain/provider';
import { clusterTag, managedByTag, networkName, routerName, securityGroupName, subnetName } from './naming.ts';
import type { Network, NeutronFloatingIp, NeutronNetwork, NeutronPort, NeutronRouter, NeutronSecurityGroup, NeutronSubnet } from './network.ts';
import { isDefaultEgress, missingRules, wantedRules } from './security-rules.ts';
import { chunk } from '#lib/batching';

export interface ClusterNetworkSettings {
  serviceTag: string;
  /** Name or id; unset, no router and no floating IPs. */
  externalNetwork: string | undefined;
  /** The first two octets of the /16 the cluster's /24 subnets are cut from (`10.42`). */
  addressPrefix: string;
}

/** Ports listed per call when looking servers' ports up by device: keeps the query string short. */
const PORTS_PER_CALL = 50;

export class ClusterNetwork {
  constructor(
    private readonly network: Network,
    private readonly settings: ClusterNetworkSettings,
  ) {}

  private tags(clusterId: string): string[] {
    return [clusterTag(clusterId), managedByTag(this.settings.serviceTag)];
  }

  /** The cluster's security group, or undefined before `ensure` made it. */
  async securityGroup(clusterId: string): Promise<NeutronSecurityGroup | undefined> {
    const groups = await this.network.list<NeutronSecurityGroup>('security-groups', { tags: clusterTag(clusterId) });
    return groups.find((group) => group.name === securityGroupName(clusterId));
  }

  /**
   * The security group with its rules, `count` networks with a subnet each (non-overlapping /24s),
   * and, with an external network, a router that is the first subnet's gateway: floating IPs are
   * reached through it, and every node's way out goes through its first network.
   */
  async ensure(input: CreateNetworksInput): Promise<string[]> {
    const { clusterId } = input;
    const tags = this.tags(clusterId);
    const group =
      (await this.securityGroup(clusterId)) ??
      (await this.network.create<NeutronSecurityGroup>(
        'security-groups',
        { name: securityGroupName(clusterId), description: `Nodes of cluster ${clusterId}` },
        tags,
      ));
    await this.ensureRules(group, input);

    const networks = await this.network.list<NeutronNetwork>('networks', { tags: clusterTag(clusterId) });
    const subnets = await this.network.list<NeutronSubnet>('subnets', { tags: clusterTag(clusterId) });
    const ids: string[] = [];
    let firstSubnet: NeutronSubnet | undefined;
    for (let i = 0; i < input.count; i++) {
      const name = networkName(clusterId, i);
      const network =
        networks.find((candidate) => candidate.name === name) ??
        (await this.network.create<NeutronNetwork>('networks', { name, description: `Private network ${i} of cluster ${clusterId}`, admin_state_up: true }, tags));
      const subnet =
        subnets.find((candidate) => candidate.network_id === network.id) ??
        (await this.network.create<NeutronSubnet>(
          'subnets',
          {
            network_id: network.id,
            name: subnetName(clusterId, i),
            ip_version: 4,
            cidr: `${this.settings.addressPrefix}.${i}.0/24`,
            // Only the first network is routed: a gateway on the others would give nodes a default route that leads nowhere.
            ...(i === 0 ? {} : { gateway_ip: null }),
            description: `Subnet of private network ${i} of cluster ${clusterId}`,
          },
          tags,
        ));
      if (i === 0) firstSubnet = subnet;
      ids.push(network.id);
    }
    if (firstSubnet && this.settings.externalNetwork) await this.ensureRouter(clusterId, firstSubnet);
    return ids;
  }

  /**
   * A floating IP per server on its port in the cluster's first network (any port without private
   * networks): the one it has, else a tagged one left unassociated by an earlier call, else a new one.
   */
  async allocatePublicIps(clusterId: string, serverIds: string[]): Promise<Record<string, string>> {
    if (!this.settings.externalNetwork) {
      throw new ProviderError('NoExternalNetwork', 'Public addresses need an external network: this deployment sets no OPENSTACK_EXTERNAL_NETWORK');
    }
    const external = await this.network.externalNetwork(this.settings.externalNetwork);
    const ids = [...new Set(serverIds)];
    const primary = (await this.network.list<NeutronNetwork>('networks', { tags: clusterTag(clusterId), name: networkName(clusterId, 0) }))[0];
    const ports: NeutronPort[] = [];
    for (const some of chunk(ids, PORTS_PER_CALL)) {
      ports.push(...(await this.network.list<NeutronPort>('ports', { device_id: some, ...(primary ? { network_id: primary.id } : {}) })));
    }
    const tagged = await this.network.list<NeutronFloatingIp>('floatingips', { tags: clusterTag(clusterId) });
    // A floating IP whose tags were lost is still on its port: found by the port, and tagged.
    const portIds = ports.map((port) => port.id);
    const onPorts: NeutronFloatingIp[] = [];
    for (const some of chunk(portIds, PORTS_PER_CALL)) onPorts.push(...(await this.network.list<NeutronFloatingIp>('floatingips', { port_id: some })));
    const byPort = new Map([...tagged, ...onPorts].filter((ip) => ip.port_id).map((ip) => [ip.port_id ?? '', ip]));
    const free = tagged.filter((ip) => !ip.port_id);
    const tags = this.tags(clusterId);
    const result: Record<string, string> = {};
    for (const serverId of ids) {
      const port = ports.find((candidate) => candidate.device_id === serverId);
      if (!port) throw new TransientProviderError(`Neutron shows no port of server ${serverId} yet`);
      const held = byPort.get(port.id);
      if (held) {
        if (!tagged.some((ip) => ip.id === held.id)) await this.network.setTags('floatingips', held.id, tags);
        result[serverId] = held.floating_ip_address;
        continue;
      }
      const spare = free.shift();
      const ip = spare
        ? await this.network.update<NeutronFloatingIp>('floatingips', spare.id, { port_id: port.id })
        : await this.network.create<NeutronFloatingIp>(
            'floatingips',
            { floating_network_id: external.id, port_id: port.id, description: `Public address of a node of cluster ${clusterId}` },
            tags,
          );
      result[serverId] = ip.floating_ip_address;
    }
    return result;
  }

  /**
   * Adds the rules the group lacks. A spec with egress rules first loses Neutron's allow-all
   * egress, unless the spec asks for exactly that.
   */
  private async ensureRules(group: NeutronSecurityGroup, input: CreateNetworksInput): Promise<void> {
    const existing = group.security_group_rules ?? [];
    const { add, removeDefaultEgress } = wantedRules(group.id, input.securityRules ?? []);
    if (removeDefaultEgress) {
      for (const rule of existing.filter((candidate) => isDefaultEgress(candidate) && missingRules([candidate], add).length === 1)) {
        await this.network.delete('security-group-rules', rule.id);
      }
    }
    await this.network.addRules(missingRules(add, existing).map((rule) => ({ ...rule, security_group_id: group.id })));
  }

  private async ensureRouter(clusterId: string, subnet: NeutronSubnet): Promise<void> {
    const external = await this.network.externalNetwork(this.settings.externalNetwork ?? '');
    const name = routerName(clusterId);
    const router =
      (await this.network.list<NeutronRouter>('routers', { tags: clusterTag(clusterId) })).find((candidate) => candidate.name === name) ??
      (await this.network.create<NeutronRouter>(
        'routers',
        { name, description: `Router of cluster ${clusterId}`, external_gateway_info: { network_id: external.id } },
        this.tags(clusterId),
      ));
    const interfaces = await this.network.list<NeutronPort>('ports', { device_id: router.id, device_owner: 'network:router_interface' });
    if (!interfaces.some((port) => (port.fixed_ips ?? []).some((ip) => ip.subnet_id === subnet.id))) {
      await this.network.addRouterInterface(router.id, subnet.id);
    }
  }
}
