/**
 * Neutron's creates and actions: unknown attributes refused (`tags` included: Zed takes tags on
 * existing resources only), subnets that overlap refused, default egress rules on a new security
 * group, duplicate rules answered 409, floating IPs only where a router reaches the external network.
 */
import { neutronFault, type Reply, type RequestContext } from './server.ts';
import { createRules, defaultEgressRules, ruleView } from './neutron-rules.ts';
import { newId, type CloudState, type FloatingIp } from './state.ts';

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

const TYPE_NAMES: Record<Collection, string> = {
  networks: 'Network',
  subnets: 'Subnet',
  ports: 'Port',
  routers: 'Router',
  'security-groups': 'SecurityGroup',
  'security-group-rules': 'SecurityGroupRule',
  floatingips: 'FloatingIP',
};

export const singular = (collection: Collection): string => KEYS[collection][0];

export const notFound = (collection: Collection, id: string): Reply =>
  neutronFault(404, `${TYPE_NAMES[collection]}NotFound`, `${TYPE_NAMES[collection].replace(/([a-z])([A-Z])/g, '$1 $2')} ${id} could not be found.`);

const ATTRIBUTES: Record<Collection, string[]> = {
  networks: ['name', 'description', 'admin_state_up', 'shared', 'mtu', 'port_security_enabled'],
  subnets: ['network_id', 'name', 'description', 'ip_version', 'cidr', 'gateway_ip', 'enable_dhcp', 'allocation_pools', 'dns_nameservers'],
  ports: [],
  routers: ['name', 'description', 'external_gateway_info', 'admin_state_up'],
  'security-groups': ['name', 'description', 'stateful'],
  'security-group-rules': ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'description'],
  floatingips: ['floating_network_id', 'port_id', 'description', 'fixed_ip_address'],
};

const isRecord = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

const badRequest = (message: string): Reply => neutronFault(400, 'BadRequest', message);


/** The router a floating IP is reached through: one whose gateway is the IP's network, with an interface on the port's subnet. */
const routerFor = (state: CloudState, portId: string, floatingNetworkId: string): string | undefined => {
  const subnets = state.ports.get(portId)?.fixed_ips.map((ip) => ip.subnet_id) ?? [];
  const router = [...state.routers.values()].find(
    (candidate) =>
      candidate.external_gateway_info?.network_id === floatingNetworkId &&
      [...state.ports.values()].some((port) => port.device_id === candidate.id && port.fixed_ips.some((ip) => subnets.includes(ip.subnet_id))),
  );
  return router?.id;
};

export const floatingIpView = (state: CloudState, ip: FloatingIp) => {
  const port = ip.port_id ? state.ports.get(ip.port_id) : undefined;
  return {
    ...ip,
    fixed_ip_address: port?.fixed_ips[0]?.ip_address ?? null,
    router_id: ip.port_id ? (routerFor(state, ip.port_id, ip.floating_network_id) ?? null) : null,
    // No agents bind floating IPs on the peer cloud either.
    status: 'DOWN',
  };
};

/** Whether `port_id` can take a floating IP of `networkId`; Neutron's refusal otherwise. */
const associable = (state: CloudState, portId: string, networkId: string, except?: string): Reply | undefined => {
  const port = state.ports.get(portId);
  if (!port) return notFound('ports', portId);
  const taken = [...state.floatingIps.values()].find((ip) => ip.port_id === portId && ip.id !== except);
  if (taken) {
    return neutronFault(409, 'FloatingIPPortAlreadyAssociated', `Cannot associate floating IP with port ${portId} using fixed IP ${port.fixed_ips[0]?.ip_address}, as that fixed IP already has a floating IP ${taken.floating_ip_address} on external network ${networkId}.`);
  }
  if (!routerFor(state, portId, networkId)) {
    const subnet = port.fixed_ips[0]?.subnet_id;
    return neutronFault(404, 'ExternalGatewayForFloatingIPNotFound', `External network ${networkId} is not reachable from subnet ${subnet}.  Therefore, cannot associate Port ${portId} with a Floating IP.`);
  }
  return undefined;
};

const ipInCidr = (cidr: string): [number, number] => {
  const [address = '', bits = '0'] = cidr.split('/');
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return [value - (value % size), size];
};

export const createResource = (context: RequestContext, collection: Collection): Reply => {
  const { state } = context;
  const body = isRecord(context.body) ? context.body : {};
  if (collection === 'security-group-rules' && Array.isArray(body.security_group_rules)) return createRules(context, body.security_group_rules, true);
  const attributes = body[singular(collection)];
  if (!isRecord(attributes)) return badRequest(`Resource body required: ${singular(collection)}`);
  const unknown = Object.keys(attributes).filter((key) => !ATTRIBUTES[collection].includes(key));
  if (unknown.length > 0) return badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const base = { name: attributes.name ?? '', description: attributes.description ?? '', tags: [] as string[] };
  switch (collection) {
    case 'networks': {
      const network = { ...base, id: newId(), external: false };
      state.networks.set(network.id, network);
      return { status: 201, body: { network: { ...network, 'router:external': false, subnets: [] } } };
    }
    case 'subnets': {
      if (!state.networks.has(attributes.network_id)) return notFound('networks', String(attributes.network_id));
      if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(attributes.cidr ?? '')) return badRequest(`Invalid input for cidr. Reason: '${attributes.cidr}' is not a valid IP subnet.`);
      const [start, size] = ipInCidr(attributes.cidr);
      const overlap = [...state.subnets.values()].find((subnet) => {
        const [otherStart, otherSize] = ipInCidr(subnet.cidr);
        return subnet.network_id === attributes.network_id && start < otherStart + otherSize && otherStart < start + size;
      });
      if (overlap) return badRequest(`Invalid input for operation: Requested subnet with cidr: ${attributes.cidr} for network: ${attributes.network_id} overlaps with another subnet.`);
      const gateway = attributes.gateway_ip === null ? null : (attributes.gateway_ip ?? attributes.cidr.replace(/0\/\d+$/, '1'));
      const subnet = { ...base, id: newId(), network_id: attributes.network_id, cidr: attributes.cidr, gateway_ip: gateway, next: 10 };
      state.subnets.set(subnet.id, subnet);
      return { status: 201, body: { subnet: { ...subnet, ip_version: 4 } } };
    }
    case 'routers': {
      const gateway = attributes.external_gateway_info;
      if (gateway !== undefined && gateway !== null && !state.networks.get(gateway.network_id)?.external) {
        return badRequest(`Bad router request: Network ${gateway?.network_id} is not a valid external network.`);
      }
      const router = { ...base, id: newId(), external_gateway_info: gateway ? { network_id: gateway.network_id } : null };
      state.routers.set(router.id, router);
      return { status: 201, body: { router } };
    }
    case 'security-groups': {
      const group = { ...base, id: newId() };
      state.securityGroups.set(group.id, group);
      for (const rule of defaultEgressRules(group.id)) state.rules.set(rule.id, rule);
      return { status: 201, body: { security_group: { ...group, security_group_rules: [...state.rules.values()].filter((rule) => rule.security_group_id === group.id).map(ruleView) } } };
    }
    case 'security-group-rules':
      return createRules(context, [attributes], false);
    case 'floatingips': {
      const network = state.networks.get(attributes.floating_network_id);
      if (!network) return notFound('networks', String(attributes.floating_network_id));
      if (!network.external) return badRequest(`Bad floatingip request: Network ${network.id} is not a valid external network.`);
      if (attributes.port_id) {
        const refused = associable(state, attributes.port_id, network.id);
        if (refused) return refused;
      }
      const ip: FloatingIp = { id: newId(), floating_network_id: network.id, floating_ip_address: state.nextFloatingAddress(), port_id: attributes.port_id ?? null, description: base.description, tags: [] };
      state.floatingIps.set(ip.id, ip);
      state.floatingChanged(ip.port_id);
      return { status: 201, body: { floatingip: floatingIpView(state, ip) } };
    }
    case 'ports':
      return badRequest('Ports are made by Nova here.');
  }
};

export const updateFloatingIp = (context: RequestContext): Reply => {
  const { state } = context;
  const ip = state.floatingIps.get(context.params[1] ?? '');
  if (!ip) return notFound('floatingips', context.params[1] ?? '');
  const attributes = isRecord(context.body) ? context.body.floatingip : undefined;
  if (!isRecord(attributes)) return badRequest('Resource body required: floatingip');
  if (attributes.port_id) {
    const refused = associable(state, attributes.port_id, ip.floating_network_id, ip.id);
    if (refused) return refused;
  }
  if ('port_id' in attributes && (attributes.port_id ?? null) !== ip.port_id) {
    state.floatingChanged(ip.port_id);
    ip.port_id = attributes.port_id ?? null;
    state.floatingChanged(ip.port_id);
  }
  if (typeof attributes.description === 'string') ip.description = attributes.description;
  return { status: 200, body: { floatingip: floatingIpView(state, ip) } };
};

export const addRouterInterface = (context: RequestContext): Reply => {
  const { state } = context;
  const routerId = context.params[0] ?? '';
  if (!state.routers.has(routerId)) return notFound('routers', routerId);
  const subnetId = isRecord(context.body) ? context.body.subnet_id : undefined;
  const subnet = state.subnets.get(subnetId);
  if (!subnet) return notFound('subnets', String(subnetId));
  if (!subnet.gateway_ip) return badRequest('Bad router request: Subnet for router interface must have a gateway IP.');
  const ports = [...state.ports.values()];
  if (ports.some((port) => port.device_id === routerId && port.fixed_ips.some((ip) => ip.subnet_id === subnet.id))) {
    return badRequest(`Bad router request: Router already has a port on subnet ${subnet.id}.`);
  }
  if (ports.some((port) => port.fixed_ips.some((ip) => ip.ip_address === subnet.gateway_ip && ip.subnet_id === subnet.id))) {
    return neutronFault(409, 'IpAddressAlreadyAllocated', `IP address ${subnet.gateway_ip} already allocated in subnet ${subnet.id}`);
  }
  const port = state.addPort(subnet.network_id, routerId, 'network:router_interface', [], { subnet_id: subnet.id, ip_address: subnet.gateway_ip });
  return { status: 200, body: { id: routerId, subnet_id: subnet.id, subnet_ids: [subnet.id], port_id: port.id, network_id: subnet.network_id, tenant_id: 'owner' } };
};

export const removeRouterInterface = (context: RequestContext): Reply => {
  const { state } = context;
  const routerId = context.params[0] ?? '';
  if (!state.routers.has(routerId)) return notFound('routers', routerId);
  const body = isRecord(context.body) ? context.body : {};
  const port = [...state.ports.values()].find(
    (candidate) =>
      candidate.device_id === routerId && candidate.device_owner === 'network:router_interface' && (candidate.id === body.port_id || candidate.fixed_ips.some((ip) => ip.subnet_id === body.subnet_id)),
  );
  if (!port) return neutronFault(404, 'RouterInterfaceNotFound', `Router ${routerId} does not have an interface with id ${body.port_id ?? body.subnet_id}`);
  const subnetId = port.fixed_ips[0]?.subnet_id;
  const needed = [...state.floatingIps.values()].some((ip) => ip.port_id && routerFor(state, ip.port_id, ip.floating_network_id) === routerId && state.ports.get(ip.port_id)?.fixed_ips.some((fixed) => fixed.subnet_id === subnetId));
  if (needed) {
    return neutronFault(409, 'RouterInterfaceInUseByFloatingIP', `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`);
  }
  state.removePort(port.id);
  return { status: 200, body: { id: routerId, subnet_id: subnetId, port_id: port.id, tenant_id: 'owner' } };
};
