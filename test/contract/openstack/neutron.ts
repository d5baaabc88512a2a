/**
 * Neutron v2.0: networks, subnets, routers (gateway, interfaces), ports, security groups and
 * rules, floating IPs, and tags on all of them. Lists take attribute filters (a repeated
 * parameter matches any of its values) and `tags` / `tags-any`; deletes refuse with 409 while
 * something still uses the resource, as Neutron does.
 */
import { addRouterInterface, createResource, floatingIpView, KEYS, notFound, removeRouterInterface, singular, updateFloatingIp, type Collection } from './neutron-create.ts';
import { ruleView } from './neutron-rules.ts';
import { neutronFault, type Reply, type RequestContext, type Route } from './server.ts';
import { PROJECT_ID, type CloudState } from './state.ts';

const owned = { tenant_id: PROJECT_ID, project_id: PROJECT_ID };

/** Every resource of a collection as Neutron shows it. */
const views = (state: CloudState, collection: Collection): Record<string, any>[] => {
  switch (collection) {
    case 'networks':
      return [...state.networks.values()].map((network) => ({
        id: network.id,
        name: network.name,
        description: network.description,
        'router:external': network.external,
        status: 'ACTIVE',
        admin_state_up: true,
        shared: false,
        mtu: 1450,
        subnets: [...state.subnets.values()].filter((subnet) => subnet.network_id === network.id).map((subnet) => subnet.id),
        tags: network.tags,
        ...owned,
      }));
    case 'subnets':
      return [...state.subnets.values()].map(({ next: _next, ...subnet }) => ({ ...subnet, ip_version: 4, enable_dhcp: true, ...owned }));
    case 'ports':
      return [...state.ports.values()].map((port) => ({ ...port, status: 'ACTIVE', admin_state_up: true, mac_address: 'fa:16:3e:00:00:01', ...owned }));
    case 'routers':
      return [...state.routers.values()].map((router) => ({ ...router, status: 'ACTIVE', admin_state_up: true, ...owned }));
    case 'security-groups':
      return [...state.securityGroups.values()].map((group) => ({
        ...group,
        stateful: true,
        security_group_rules: [...state.rules.values()].filter((rule) => rule.security_group_id === group.id).map(ruleView),
        ...owned,
      }));
    case 'security-group-rules':
      return [...state.rules.values()].map(ruleView);
    case 'floatingips':
      return [...state.floatingIps.values()].map((ip) => floatingIpView(state, ip));
  }
};

const stores = (state: CloudState): Record<Collection, Map<string, object>> => ({
  networks: state.networks,
  subnets: state.subnets,
  ports: state.ports,
  routers: state.routers,
  'security-groups': state.securityGroups,
  'security-group-rules': state.rules,
  floatingips: state.floatingIps,
});

const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);

const matches = (view: Record<string, any>, query: URLSearchParams): boolean => {
  for (const key of new Set(query.keys())) {
    if (NOT_FILTERS.has(key)) continue;
    const wanted = query.getAll(key);
    const value = view[key];
    if (!wanted.some((candidate) => String(value) === candidate)) return false;
  }
  const tags: string[] = view.tags ?? [];
  const all = query.getAll('tags').flatMap((value) => value.split(','));
  const any = query.getAll('tags-any').flatMap((value) => value.split(','));
  return all.every((tag) => tags.includes(tag)) && (any.length === 0 || any.some((tag) => tags.includes(tag)));
};

const COLLECTION = '(networks|subnets|ports|routers|security-groups|security-group-rules|floatingips)';

const collectionOf = (context: RequestContext): Collection => context.params[0] as Collection;

/** What still uses a resource, as Neutron's 409 says it; undefined when it can go. */
const inUse = (state: CloudState, collection: Collection, id: string): Reply | undefined => {
  const ports = [...state.ports.values()];
  switch (collection) {
    case 'networks':
      return ports.some((port) => port.network_id === id)
        ? neutronFault(409, 'NetworkInUse', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`)
        : undefined;
    case 'subnets':
      return ports.some((port) => port.fixed_ips.some((ip) => ip.subnet_id === id))
        ? neutronFault(409, 'SubnetInUse', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`)
        : undefined;
    case 'routers':
      return ports.some((port) => port.device_id === id && port.device_owner === 'network:router_interface')
        ? neutronFault(409, 'RouterInUse', `Router ${id} still has ports.`)
        : undefined;
    case 'security-groups':
      return ports.some((port) => port.security_groups.includes(id)) ? neutronFault(409, 'SecurityGroupInUse', `Security Group ${id} in use.`) : undefined;
    default:
      return undefined;
  }
};

const remove = (context: RequestContext): Reply => {
  const { state } = context;
  const collection = collectionOf(context);
  const id = context.params[1] ?? '';
  if (!stores(state)[collection].has(id)) return notFound(collection, id);
  const busy = inUse(state, collection, id);
  if (busy) return busy;
  if (collection === 'floatingips') state.floatingChanged(state.floatingIps.get(id)?.port_id ?? null);
  stores(state)[collection].delete(id);
  if (collection === 'networks') for (const subnet of [...state.subnets.values()]) if (subnet.network_id === id) state.subnets.delete(subnet.id);
  if (collection === 'security-groups') for (const rule of [...state.rules.values()]) if (rule.security_group_id === id) state.rules.delete(rule.id);
  return { status: 204 };
};

const replaceTags = (context: RequestContext): Reply => {
  const collection = collectionOf(context);
  const id = context.params[1] ?? '';
  const resource = stores(context.state)[collection].get(id) as { tags: string[] } | undefined;
  if (!resource || collection === 'security-group-rules') return notFound(collection, id);
  const tags: unknown = (context.body as { tags?: unknown } | undefined)?.tags;
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag.length < 1 || tag.length > 255)) {
    return neutronFault(400, 'InvalidInput', `Invalid input for operation: Invalid tags body.`);
  }
  resource.tags = [...new Set(tags as string[])];
  return { status: 200, body: { tags: resource.tags } };
};

export const neutronRoutes: Route[] = [
  {
    method: 'GET',
    path: new RegExp(`^/v2\\.0/${COLLECTION}$`),
    handle: (context) => {
      const collection = collectionOf(context);
      return { status: 200, body: { [KEYS[collection][1]]: views(context.state, collection).filter((view) => matches(view, context.query)) } };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/v2\\.0/${COLLECTION}/([^/]+)$`),
    handle: (context) => {
      const collection = collectionOf(context);
      const view = views(context.state, collection).find((candidate) => candidate.id === context.params[1]);
      return view ? { status: 200, body: { [singular(collection)]: view } } : notFound(collection, context.params[1] ?? '');
    },
  },
  { method: 'POST', path: new RegExp(`^/v2\\.0/${COLLECTION}$`), handle: (context) => createResource(context, collectionOf(context)) },
  { method: 'DELETE', path: new RegExp(`^/v2\\.0/${COLLECTION}/([^/]+)$`), handle: remove },
  { method: 'PUT', path: new RegExp(`^/v2\\.0/${COLLECTION}/([^/]+)/tags$`), handle: replaceTags },
  { method: 'PUT', path: /^\/v2\.0\/(floatingips)\/([^/]+)$/, handle: updateFloatingIp },
  { method: 'PUT', path: /^\/v2\.0\/routers\/([^/]+)\/add_router_interface$/, handle: addRouterInterface },
  { method: 'PUT', path: /^\/v2\.0\/routers\/([^/]+)\/remove_router_interface$/, handle: removeRouterInterface },
];
