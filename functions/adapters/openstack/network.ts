/**
 * Neutron calls (docs/openstack-provider.md, "Networks"). Neutron takes tags on an existing
 * resource only (tags at create came after Zed), so a create is followed at once by its tags; a
 * resource whose tags could not be set is deleted again rather than left where no look-up by tag
 * would find it.
 */
import { ProviderError } from '#domain/errors';
import type { Query, Session } from './http.ts';

export type NeutronResource = 'networks' | 'subnets' | 'routers' | 'security-groups' | 'security-group-rules' | 'floatingips' | 'ports';

/** The body key of one resource of each collection. */
const SINGULAR: Record<NeutronResource, string> = {
  networks: 'network',
  subnets: 'subnet',
  routers: 'router',
  'security-groups': 'security_group',
  'security-group-rules': 'security_group_rule',
  floatingips: 'floatingip',
  ports: 'port',
};

/** The body key of a list of each collection. */
const PLURAL = (resource: NeutronResource): string => resource.replace(/-/g, '_');

export interface NeutronNetwork {
  id: string;
  name: string;
  tags?: string[];
  'router:external'?: boolean;
}

export interface NeutronSubnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
}

export interface NeutronRouter {
  id: string;
  name: string;
}

export interface NeutronRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

export interface NeutronSecurityGroup {
  id: string;
  name: string;
  security_group_rules?: NeutronRule[];
}

export interface NeutronPort {
  id: string;
  device_id: string;
  device_owner?: string;
  network_id: string;
  fixed_ips?: { subnet_id: string; ip_address: string }[];
}

export interface NeutronFloatingIp {
  id: string;
  floating_ip_address: string;
  port_id: string | null;
  tags?: string[];
}

/** What a delete came to: done, already gone, or refused while something still uses the resource. */
export type DeleteOutcome = 'deleted' | 'gone' | 'in-use';

export class Network {
  private readonly externalNetworks = new Map<string, Promise<NeutronNetwork>>();

  constructor(private readonly session: Session) {}

  async list<T>(resource: NeutronResource, query: Query): Promise<T[]> {
    const reply = await this.session.call<Record<string, T[]>>('network', 'GET', `/${resource}`, { query });
    return reply.body[PLURAL(resource)] ?? [];
  }

  /** Makes a resource and tags it; the tags are what every later look-up goes by. */
  async create<T extends { id: string }>(resource: NeutronResource, attributes: Record<string, unknown>, tags: string[]): Promise<T> {
    const reply = await this.session.call<Record<string, T>>('network', 'POST', `/${resource}`, { body: { [SINGULAR[resource]]: attributes } });
    const made = reply.body[SINGULAR[resource]];
    if (!made) throw new ProviderError('UnexpectedAnswer', `Neutron POST /${resource} answered without the ${SINGULAR[resource]}`);
    try {
      await this.setTags(resource, made.id, tags);
    } catch (error) {
      await this.delete(resource, made.id).catch(() => undefined);
      throw error;
    }
    return made;
  }

  /** Replaces the resource's tags with `tags`. */
  async setTags(resource: NeutronResource, id: string, tags: string[]): Promise<void> {
    await this.session.call('network', 'PUT', `/${resource}/${id}/tags`, { body: { tags } });
  }

  async update<T>(resource: NeutronResource, id: string, attributes: Record<string, unknown>): Promise<T> {
    const reply = await this.session.call<Record<string, T>>('network', 'PUT', `/${resource}/${id}`, { body: { [SINGULAR[resource]]: attributes } });
    return reply.body[SINGULAR[resource]] as T;
  }

  async delete(resource: NeutronResource, id: string): Promise<DeleteOutcome> {
    const reply = await this.session.call('network', 'DELETE', `/${resource}/${id}`, { expect: [404, 409] });
    return reply.status === 404 ? 'gone' : reply.status === 409 ? 'in-use' : 'deleted';
  }

  /**
   * Adds rules in one bulk call. A duplicate (a retried call, or a rule Neutron wrote another
   * way) fails the whole bulk with 409, so then one call per rule, each duplicate counting as done.
   */
  async addRules(rules: Record<string, unknown>[]): Promise<void> {
    if (rules.length === 0) return;
    const bulk = await this.session.call('network', 'POST', '/security-group-rules', { body: { security_group_rules: rules }, expect: [409] });
    if (bulk.status !== 409) return;
    for (const rule of rules) {
      await this.session.call('network', 'POST', '/security-group-rules', { body: { security_group_rule: rule }, expect: [409] });
    }
  }

  async addRouterInterface(routerId: string, subnetId: string): Promise<void> {
    await this.session.call('network', 'PUT', `/routers/${routerId}/add_router_interface`, { body: { subnet_id: subnetId } });
  }

  /** Removes one interface; a floating IP still routed through it makes it wait for another round. */
  async removeRouterInterface(routerId: string, portId: string): Promise<DeleteOutcome> {
    const reply = await this.session.call('network', 'PUT', `/routers/${routerId}/remove_router_interface`, { body: { port_id: portId }, expect: [404, 409] });
    return reply.status === 404 ? 'gone' : reply.status === 409 ? 'in-use' : 'deleted';
  }

  /** The external network of the settings, by id or by name; looked up once. */
  externalNetwork(nameOrId: string): Promise<NeutronNetwork> {
    const known = this.externalNetworks.get(nameOrId);
    if (known) return known;
    const found = (async () => {
      const [byId] = await this.list<NeutronNetwork>('networks', { id: nameOrId, 'router:external': 'true' });
      const candidates = byId ? [byId] : await this.list<NeutronNetwork>('networks', { name: nameOrId, 'router:external': 'true' });
      if (candidates.length === 0) {
        throw new ProviderError('ExternalNetworkNotFound', `Neutron has no external network named or with the id ${nameOrId} (OPENSTACK_EXTERNAL_NETWORK)`);
      }
      if (candidates.length > 1) {
        throw new ProviderError('AmbiguousExternalNetwork', `Neutron has ${candidates.length} external networks named ${nameOrId}; name it by id (OPENSTACK_EXTERNAL_NETWORK)`);
      }
      return candidates[0] as NeutronNetwork;
    })();
    this.externalNetworks.set(nameOrId, found);
    found.catch(() => this.externalNetworks.delete(nameOrId));
    return found;
  }
}
