/**
 * Neutron's creates and actions: unknown attributes refused, and `tags` too (Zed takes tags on
 * existing resources only), subnets that overlap refused, default egress rules on a new security
 * group, router interfaces and their removal, floating IPs only where a router reaches the
 * external network. Every answer is the resource as a list shows it (neutron-views.ts).
 */
import { createRules, defaultEgressRules } from './neutron-rules.ts';
import { notFound, routerFor, singular, viewOf, type Collection } from './neutron-views.ts';
import { neutronFault, type Reply, type RequestContext } from './server.ts';
import { newId, PROJECT_ID, type CloudState, type FloatingIp } from './state.ts';

const ATTRIBUTES: Record<Collection, string[]> = {
  networks: ['name', 'description', 'admin_state_up', 'shared', 'mtu', 'port_security_enabled'],
  subnets: ['network_id', 'name', 'description', 'ip_version', 'cidr', 'gateway_ip', 'enable_dhcp', 'allocation_pools', 'dns_nameservers'],
  ports: ['network_id', 'name', 'description', 'device_id', 'device_owner', 'security_groups', 'admin_state_up'],
  routers: ['name', 'description', 'external_gateway_info', 'admin_state_up'],
  'security-groups': ['name', 'description', 'stateful'],
  'security-group-rules': ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'description'],
  floatingips: ['floating_network_id', 'port_id', 'description', 'fixed_ip_address'],
};

/** Attributes every resource has that a create may not set; `tags` among them until tags at create came (after Zed). */
const READ_ONLY = ['id', 'tags', 'status', 'created_at', 'updated_at', 'revision_number'];

const isRecord = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A request Neutron's API layer refuses (`HTTPBadRequest`); a plugin's own refusals are `BadRequest`. */
const invalidRequest = (message: string): Reply => neutronFault(400, 'HTTPBadRequest', message);
const badRequest = (message: string): Reply => neutronFault(400, 'BadRequest', message);

/** Whether `port_id` can take the floating IP `ip`; Neutron's refusal otherwise. */
const associable = (state: CloudState, portId: string, ip: Pick<FloatingIp, 'id' | 'floating_ip_address' | 'floating_network_id'>): Reply | undefined => {
  const port = state.ports.get(portId);
  if (!port) return notFound('ports', portId);
  const fixed = port.fixed_ips[0]?.ip_address;
  if ([...state.floatingIps.values()].some((other) => other.port_id === portId && other.id !== ip.id)) {
    return neutronFault(
      409,
      'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${ip.floating_ip_address} (${ip.id}) with port ${portId} using fixed IP ${fixed}, as that fixed IP already has a floating IP on external network ${ip.floating_network_id}.`,
    );
  }
  if (!routerFor(state, portId, ip.floating_network_id)) {
    const subnet = port.fixed_ips[0]?.subnet_id;
    return neutronFault(404, 'ExternalGatewayForFloatingIPNotFound', `External network ${ip.floating_network_id} is not reachable from subnet ${subnet}.  Therefore, cannot associate Port ${portId} with a Floating IP.`);
  }
  return undefined;
};

const ipInCidr = (cidr: string): [number, number] => {
  const [address = '', bits = '0'] = cidr.split('/');
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return [value - (value % size), size];
};

const created = (context: RequestContext, collection: Collection, id: string): Reply => ({ status: 201, body: { [singular(collection)]: viewOf(context.state, collection, id) } });

export const createResource = (context: RequestContext, collection: Collection): Reply => {
  const { state } = context;
  const body = isRecord(context.body) ? context.body : {};
  if (collection === 'security-group-rules' && Array.isArray(body.security_group_rules)) return createRules(context, body.security_group_rules, true);
  const attributes = body[singular(collection)];
  if (!isRecord(attributes)) return invalidRequest(`Resource body required: ${singular(collection)}`);
  const unknown = Object.keys(attributes).filter((key) => !ATTRIBUTES[collection].includes(key) && !READ_ONLY.includes(key));
  if (unknown.length > 0) return invalidRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const readOnly = Object.keys(attributes).find((key) => READ_ONLY.includes(key));
  if (readOnly) return invalidRequest(`Attribute '${readOnly}' not allowed in POST`);
  const base = { name: attributes.name ?? '', description: attributes.description ?? '', tags: [] as string[] };
  switch (collection) {
    case 'networks': {
      const network = { ...base, id: newId(), projectId: context.projectId, external: false };
      state.networks.set(network.id, network);
      return created(context, collection, network.id);
    }
    case 'subnets': {
      if (!state.networks.has(attributes.network_id)) return notFound('networks', String(attributes.network_id));
      if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(attributes.cidr ?? '')) return neutronFault(400, 'InvalidInput', `Invalid input for operation: ${attributes.cidr} is not in a CIDR format.`);
      const [start, size] = ipInCidr(attributes.cidr);
      const overlap = [...state.subnets.values()].find((subnet) => {
        const [otherStart, otherSize] = ipInCidr(subnet.cidr);
        return subnet.network_id === attributes.network_id && start < otherStart + otherSize && otherStart < start + size;
      });
      if (overlap) return neutronFault(400, 'InvalidInput', `Invalid input for operation: Requested subnet with cidr: ${attributes.cidr} for network: ${attributes.network_id} overlaps with another subnet.`);
      const gateway = attributes.gateway_ip === null ? null : (attributes.gateway_ip ?? attributes.cidr.replace(/0\/\d+$/, '1'));
      const subnet = { ...base, id: newId(), network_id: attributes.network_id, cidr: attributes.cidr, gateway_ip: gateway, next: 10 };
      state.subnets.set(subnet.id, subnet);
      return created(context, collection, subnet.id);
    }
    case 'ports': {
      if (!state.networks.has(attributes.network_id)) return notFound('networks', String(attributes.network_id));
      const groups: unknown[] = Array.isArray(attributes.security_groups) ? attributes.security_groups : [];
      const missing = groups.find((group) => !state.securityGroups.has(String(group)));
      if (missing !== undefined) return notFound('security-groups', String(missing));
      const port = state.addPort(attributes.network_id, attributes.device_id ?? '', attributes.device_owner ?? '', groups as string[]);
      return created(context, collection, port.id);
    }
    case 'routers': {
      const gateway = attributes.external_gateway_info;
      if (gateway !== undefined && gateway !== null && !state.networks.get(gateway.network_id)?.external) {
        return badRequest(`Bad router request: Network ${gateway?.network_id} is not a valid external network.`);
      }
      // The gateway takes an address of the external network, as every router's gateway port does.
      const externalSubnet = gateway ? [...state.subnets.values()].find((subnet) => subnet.network_id === gateway.network_id) : undefined;
      const router = {
        ...base,
        id: newId(),
        external_gateway_info: gateway ? { network_id: gateway.network_id, external_fixed_ips: externalSubnet ? [{ subnet_id: externalSubnet.id, ip_address: state.nextFloatingAddress() }] : [] } : null,
      };
      state.routers.set(router.id, router);
      return created(context, collection, router.id);
    }
    case 'security-groups': {
      const group = { ...base, id: newId(), projectId: context.projectId };
      state.securityGroups.set(group.id, group);
      for (const rule of defaultEgressRules(group.id)) state.rules.set(rule.id, rule);
      return created(context, collection, group.id);
    }
    case 'security-group-rules':
      return createRules(context, [attributes], false);
    case 'floatingips': {
      const network = state.networks.get(attributes.floating_network_id);
      if (!network) return notFound('networks', String(attributes.floating_network_id));
      if (!network.external) return badRequest(`Bad floatingip request: Network ${network.id} is not a valid external network.`);
      const ip: FloatingIp = { id: newId(), floating_network_id: network.id, floating_ip_address: state.nextFloatingAddress(), port_id: attributes.port_id ?? null, description: base.description, tags: [] };
      // Neutron allocates the address, then refuses the association: the refusal names both.
      if (ip.port_id) {
        const refused = associable(state, ip.port_id, ip);
        if (refused) return refused;
      }
      state.floatingIps.set(ip.id, ip);
      state.floatingChanged(ip.port_id);
      return created(context, collection, ip.id);
    }
  }
};

export const updateFloatingIp = (context: RequestContext): Reply => {
  const { state } = context;
  const ip = state.floatingIps.get(context.params[1] ?? '');
  if (!ip) return notFound('floatingips', context.params[1] ?? '');
  const attributes = isRecord(context.body) ? context.body.floatingip : undefined;
  if (!isRecord(attributes)) return invalidRequest('Resource body required: floatingip');
  if (attributes.port_id) {
    const refused = associable(state, attributes.port_id, ip);
    if (refused) return refused;
  }
  if ('port_id' in attributes && (attributes.port_id ?? null) !== ip.port_id) {
    state.floatingChanged(ip.port_id);
    ip.port_id = attributes.port_id ?? null;
    state.floatingChanged(ip.port_id);
  }
  if (typeof attributes.description === 'string') ip.description = attributes.description;
  return { status: 200, body: { floatingip: viewOf(state, 'floatingips', ip.id) } };
};

/** The answer of both interface actions. */
const interfaceAnswer = (routerId: string, port: { id: string; network_id: string }, subnetId: string | undefined) => ({
  id: routerId,
  tenant_id: PROJECT_ID,
  port_id: port.id,
  network_id: port.network_id,
  subnet_id: subnetId,
  subnet_ids: subnetId ? [subnetId] : [],
});

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
  return { status: 200, body: interfaceAnswer(routerId, port, subnet.id) };
};

/**
 * By `port_id` (what the provider sends) or `subnet_id`: each has its own 404. A floating IP
 * reached through the interface keeps it (409).
 */
export const removeRouterInterface = (context: RequestContext): Reply => {
  const { state } = context;
  const routerId = context.params[0] ?? '';
  if (!state.routers.has(routerId)) return notFound('routers', routerId);
  const body = isRecord(context.body) ? context.body : {};
  const interfaces = [...state.ports.values()].filter((candidate) => candidate.device_id === routerId && candidate.device_owner === 'network:router_interface');
  const port = body.port_id !== undefined ? interfaces.find((candidate) => candidate.id === body.port_id) : interfaces.find((candidate) => candidate.fixed_ips.some((ip) => ip.subnet_id === body.subnet_id));
  if (!port) {
    return body.port_id !== undefined
      ? neutronFault(404, 'RouterInterfaceNotFound', `Router ${routerId} does not have an interface with id ${body.port_id}`)
      : neutronFault(404, 'RouterInterfaceNotFoundForSubnet', `Router ${routerId} has no interface on subnet ${body.subnet_id}`);
  }
  const subnetId = port.fixed_ips[0]?.subnet_id;
  const needed = [...state.floatingIps.values()].some(
    (ip) => ip.port_id && routerFor(state, ip.port_id, ip.floating_network_id) === routerId && state.ports.get(ip.port_id)?.fixed_ips.some((fixed) => fixed.subnet_id === subnetId),
  );
  if (needed) {
    return neutronFault(409, 'RouterInterfaceInUseByFloatingIP', `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`);
  }
  const answer = interfaceAnswer(routerId, port, subnetId);
  state.removePort(port.id);
  return { status: 200, body: answer };
};
