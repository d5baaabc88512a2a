/**
 * Neutron's resources as Zed shows them, the same in a create's answer as in a list: the fields
 * the API reference names (none of the contract's own bookkeeping), tags sorted, the filters each
 * collection takes, and each resource's own not-found fault.
 */
import { ruleView } from './neutron-rules.ts';
import { neutronFault, type Reply } from './server.ts';
import { ADMIN_PROJECT_ID, PROJECT_ID, type CloudState, type FloatingIp } from './state.ts';

export type Collection = 'networks' | 'subnets' | 'ports' | 'routers' | 'security-groups' | 'security-group-rules' | 'floatingips';

export const KEYS: Record<Collection, [string, string]> = {
  networks: ['network', 'networks'],
  subnets: ['subnet', 'subnets'],
  ports: ['port', 'ports'],
  routers: ['router', 'routers'],
  'security-groups': ['security_group', 'security_groups'],
  'security-group-rules': ['security_group_rule', 'security_group_rules'],
  floatingips: ['floatingip', 'floatingips'],
};

export const singular = (collection: Collection): string => KEYS[collection][0];

/** Each resource's fault for an id it does not have, in Neutron's words (some end in a full stop, some do not). */
const NOT_FOUND: Record<Collection, [string, (id: string) => string]> = {
  networks: ['NetworkNotFound', (id) => `Network ${id} could not be found.`],
  subnets: ['SubnetNotFound', (id) => `Subnet ${id} could not be found.`],
  ports: ['PortNotFound', (id) => `Port ${id} could not be found.`],
  routers: ['RouterNotFound', (id) => `Router ${id} could not be found`],
  'security-groups': ['SecurityGroupNotFound', (id) => `Security group ${id} does not exist`],
  'security-group-rules': ['SecurityGroupRuleNotFound', (id) => `Security group rule ${id} does not exist`],
  floatingips: ['FloatingIPNotFound', (id) => `Floating IP ${id} could not be found`],
};

export const notFound = (collection: Collection, id: string): Reply => neutronFault(404, NOT_FOUND[collection][0], NOT_FOUND[collection][1](id));

const owned = { tenant_id: PROJECT_ID, project_id: PROJECT_ID };
const ownedBy = (projectId: string) => ({ tenant_id: projectId, project_id: projectId });

/**
 * What a token of `projectId` sees of a collection: an admin every project's resources; anyone
 * else its own project's, and the external networks (never their subnets, which the admin
 * project owns).
 */
export const visibleTo = (projectId: string, collection: Collection, view: Record<string, any>): boolean =>
  projectId === ADMIN_PROJECT_ID || view.project_id === projectId || (collection === 'networks' && view['router:external'] === true);
const MAC = 'fa:16:3e:00:00:01';

/** The router a floating IP is reached through: one whose gateway is the IP's network, with an interface on the port's subnet. */
export const routerFor = (state: CloudState, portId: string, floatingNetworkId: string): string | undefined => {
  const subnets = state.ports.get(portId)?.fixed_ips.map((ip) => ip.subnet_id) ?? [];
  const router = [...state.routers.values()].find(
    (candidate) =>
      candidate.external_gateway_info?.network_id === floatingNetworkId &&
      [...state.ports.values()].some((port) => port.device_id === candidate.id && port.fixed_ips.some((ip) => subnets.includes(ip.subnet_id))),
  );
  return router?.id;
};

const ipNumber = (address: string): number => address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
const ipText = (value: number): string => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

/** The subnet's addresses but its network, broadcast and gateway addresses (a gateway at the pool's edge only, as Neutron makes pools). */
const allocationPools = (cidr: string, gateway: string | null): { start: string; end: string }[] => {
  const [address = '', bits = '24'] = cidr.split('/');
  const first = ipNumber(address) + 1;
  const last = ipNumber(address) + 2 ** (32 - Number(bits)) - 2;
  const start = gateway !== null && ipNumber(gateway) === first ? first + 1 : first;
  return [{ start: ipText(start), end: ipText(last) }];
};

export const floatingIpView = (state: CloudState, ip: FloatingIp) => {
  const port = ip.port_id ? state.ports.get(ip.port_id) : undefined;
  return {
    id: ip.id,
    ...owned,
    floating_ip_address: ip.floating_ip_address,
    floating_network_id: ip.floating_network_id,
    router_id: ip.port_id ? (routerFor(state, ip.port_id, ip.floating_network_id) ?? null) : null,
    port_id: ip.port_id,
    fixed_ip_address: port?.fixed_ips[0]?.ip_address ?? null,
    // No agent binds floating IPs where there is no L3 agent: they stay DOWN.
    status: 'DOWN',
    description: ip.description,
    port_details: port
      ? { name: '', network_id: port.network_id, mac_address: MAC, admin_state_up: true, status: port.device_owner === 'network:router_interface' ? 'DOWN' : 'ACTIVE', device_id: port.device_id, device_owner: port.device_owner }
      : null,
    tags: [...ip.tags].sort(),
  };
};

/** Every resource of a collection as Neutron shows it. */
export const views = (state: CloudState, collection: Collection): Record<string, any>[] => {
  switch (collection) {
    case 'networks':
      return [...state.networks.values()].map((network) => ({
        id: network.id,
        name: network.name,
        ...ownedBy(network.projectId),
        admin_state_up: true,
        mtu: 1450,
        status: 'ACTIVE',
        subnets: [...state.subnets.values()].filter((subnet) => subnet.network_id === network.id).map((subnet) => subnet.id),
        shared: false,
        availability_zone_hints: [],
        availability_zones: [],
        ipv4_address_scope: null,
        ipv6_address_scope: null,
        'router:external': network.external,
        // The auto-allocated-topology extension's flag: no network here is the project's default external one.
        is_default: false,
        description: network.description,
        port_security_enabled: true,
        tags: [...network.tags].sort(),
      }));
    case 'subnets':
      return [...state.subnets.values()].map((subnet) => ({
        id: subnet.id,
        name: subnet.name,
        ...ownedBy(state.networks.get(subnet.network_id)?.projectId ?? PROJECT_ID),
        network_id: subnet.network_id,
        ip_version: 4,
        subnetpool_id: null,
        enable_dhcp: true,
        ipv6_ra_mode: null,
        ipv6_address_mode: null,
        gateway_ip: subnet.gateway_ip,
        cidr: subnet.cidr,
        allocation_pools: allocationPools(subnet.cidr, subnet.gateway_ip),
        host_routes: [],
        dns_nameservers: [],
        description: subnet.description,
        service_types: [],
        tags: [...subnet.tags].sort(),
      }));
    case 'ports':
      return [...state.ports.values()].map((port) => {
        // Nova's ports are bound (ACTIVE); a router's interface has no L3 agent to bind it (DOWN), nor port security.
        const routerPort = port.device_owner === 'network:router_interface';
        return {
          id: port.id,
          name: '',
          network_id: port.network_id,
          ...owned,
          mac_address: MAC,
          admin_state_up: true,
          status: routerPort ? 'DOWN' : 'ACTIVE',
          device_id: port.device_id,
          device_owner: port.device_owner,
          fixed_ips: port.fixed_ips,
          allowed_address_pairs: [],
          extra_dhcp_opts: [],
          security_groups: port.security_groups,
          description: '',
          'binding:vnic_type': 'normal',
          port_security_enabled: !routerPort,
          tags: [...port.tags].sort(),
        };
      });
    case 'routers':
      return [...state.routers.values()].map((router) => ({
        id: router.id,
        name: router.name,
        ...owned,
        admin_state_up: true,
        status: 'ACTIVE',
        external_gateway_info: router.external_gateway_info ? { ...router.external_gateway_info, enable_snat: true } : null,
        description: router.description,
        availability_zones: [],
        availability_zone_hints: [],
        routes: [],
        flavor_id: null,
        tags: [...router.tags].sort(),
      }));
    case 'security-groups':
      return [...state.securityGroups.values()].map((group) => ({
        id: group.id,
        name: group.name,
        stateful: true,
        ...ownedBy(group.projectId),
        description: group.description,
        shared: false,
        // Rules inside a group carry their (empty) tags; a rule on its own does not.
        security_group_rules: [...state.rules.values()].filter((rule) => rule.security_group_id === group.id).map((rule) => ({ ...ruleView(rule), tags: [] })),
        tags: [...group.tags].sort(),
      }));
    case 'security-group-rules':
      return [...state.rules.values()].map(ruleView);
    case 'floatingips':
      return [...state.floatingIps.values()].map((ip) => floatingIpView(state, ip));
  }
};

/** One resource as Neutron shows it. */
export const viewOf = (state: CloudState, collection: Collection, id: string): Record<string, any> | undefined => views(state, collection).find((view) => view.id === id);

/** What each collection may be filtered by; anything else is refused, as Neutron's filter validation does. */
export const FILTERS: Record<Collection, string[]> = {
  networks: ['id', 'name', 'tenant_id', 'project_id', 'admin_state_up', 'mtu', 'status', 'shared', 'router:external', 'description', 'port_security_enabled', 'is_default', 'revision_number'],
  subnets: ['id', 'name', 'tenant_id', 'project_id', 'network_id', 'ip_version', 'subnetpool_id', 'enable_dhcp', 'gateway_ip', 'cidr', 'description', 'revision_number'],
  ports: ['id', 'name', 'network_id', 'tenant_id', 'project_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner', 'fixed_ips', 'description', 'binding:vnic_type', 'port_security_enabled', 'security_groups', 'revision_number'],
  routers: ['id', 'name', 'tenant_id', 'project_id', 'admin_state_up', 'status', 'description', 'flavor_id', 'revision_number'],
  'security-groups': ['id', 'name', 'tenant_id', 'project_id', 'description', 'shared', 'stateful', 'revision_number'],
  'security-group-rules': ['id', 'tenant_id', 'project_id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'description', 'remote_address_group_id', 'normalized_cidr'],
  floatingips: ['id', 'tenant_id', 'project_id', 'floating_ip_address', 'floating_network_id', 'router_id', 'port_id', 'fixed_ip_address', 'status', 'description', 'revision_number'],
};
