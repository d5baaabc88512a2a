/**
 * Neutron v2.0: networks, subnets, routers (gateway, interfaces), ports, security groups and
 * rules, floating IPs, and tags on all of them. Lists take attribute filters (a repeated
 * parameter matches any of its values; an attribute a collection cannot be filtered by is
 * refused), `tags` / `tags-any` and `fields`; deletes refuse with 409 while something still uses
 * the resource, naming what, as Neutron does.
 */
import { addRouterInterface, createResource, removeRouterInterface, updateFloatingIp } from './neutron-create.ts';
import { FILTERS, KEYS, notFound, singular, views, visibleTo, type Collection } from './neutron-views.ts';
import { neutronFault, type Reply, type RequestContext, type Route } from './server.ts';
import type { CloudState } from './state.ts';

const stores = (state: CloudState): Record<Collection, Map<string, object>> => ({
  networks: state.networks,
  subnets: state.subnets,
  ports: state.ports,
  routers: state.routers,
  'security-groups': state.securityGroups,
  'security-group-rules': state.rules,
  floatingips: state.floatingIps,
});

const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);
/** The collections that take tags (the tag extension's resources). */
const TAGGED = new Set<Collection>(['networks', 'subnets', 'ports', 'routers', 'security-groups', 'floatingips']);

/** Booleans are matched however they are written (`true`, `True`). */
const same = (value: unknown, candidate: string): boolean => (typeof value === 'boolean' ? String(value) === candidate.toLowerCase() : String(value) === candidate);

const matches = (view: Record<string, any>, query: URLSearchParams): boolean => {
  for (const key of new Set(query.keys())) {
    if (NOT_FILTERS.has(key)) continue;
    const wanted = query.getAll(key);
    if (!wanted.some((candidate) => same(view[key], candidate))) return false;
  }
  const tags: string[] = view.tags ?? [];
  const all = query.getAll('tags').flatMap((value) => value.split(','));
  const any = query.getAll('tags-any').flatMap((value) => value.split(','));
  return all.every((tag) => tags.includes(tag)) && (any.length === 0 || any.some((tag) => tags.includes(tag)));
};

/** `fields=a&fields=b` answers those attributes only. */
const project = (view: Record<string, any>, fields: string[]): Record<string, any> => (fields.length === 0 ? view : Object.fromEntries(fields.filter((field) => field in view).map((field) => [field, view[field]])));

const COLLECTION = '(networks|subnets|ports|routers|security-groups|security-group-rules|floatingips)';

const collectionOf = (context: RequestContext): Collection => context.params[0] as Collection;

const list = (context: RequestContext): Reply => {
  const collection = collectionOf(context);
  const invalid = [...new Set(context.query.keys())].filter((key) => !NOT_FILTERS.has(key) && !FILTERS[collection].includes(key));
  if (invalid.length > 0) return neutronFault(400, 'HTTPBadRequest', `[${invalid.map((key) => `'${key}'`).join(', ')}] is invalid attribute for filtering`);
  const fields = context.query.getAll('fields');
  const found = views(context.state, collection).filter((view) => visibleTo(context.projectId, collection, view) && matches(view, context.query));
  return { status: 200, body: { [KEYS[collection][1]]: found.map((view) => project(view, fields)) } };
};

/** What still uses a resource, as Neutron's 409 says it; undefined when it can go. */
const inUse = (state: CloudState, collection: Collection, id: string): Reply | undefined => {
  const ports = [...state.ports.values()];
  switch (collection) {
    case 'networks': {
      const held = ports.filter((port) => port.network_id === id).map((port) => port.id);
      return held.length > 0
        ? neutronFault(409, 'NetworkInUse', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network, id for these ports is: ${held.join(',')}.`)
        : undefined;
    }
    case 'subnets':
      return ports.some((port) => port.fixed_ips.some((ip) => ip.subnet_id === id))
        ? neutronFault(409, 'SubnetInUse', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`)
        : undefined;
    case 'routers': {
      const attached = ports.filter((port) => port.device_id === id && port.device_owner === 'network:router_interface').map((port) => port.id);
      return attached.length > 0 ? neutronFault(409, 'RouterInUse', `Router ${id} has ports still attached: ${attached.join(', ')}`) : undefined;
    }
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
  if (collection === 'ports') state.removePort(id);
  else stores(state)[collection].delete(id);
  if (collection === 'networks') for (const subnet of [...state.subnets.values()]) if (subnet.network_id === id) state.subnets.delete(subnet.id);
  if (collection === 'security-groups') for (const rule of [...state.rules.values()]) if (rule.security_group_id === id) state.rules.delete(rule.id);
  return { status: 204 };
};

const MAX_TAG_LENGTH = 255;

const replaceTags = (context: RequestContext): Reply => {
  const collection = collectionOf(context);
  const id = context.params[1] ?? '';
  if (!TAGGED.has(collection)) return neutronFault(404, 'HTTPNotFound', 'The resource could not be found.');
  const resource = stores(context.state)[collection].get(id) as { tags: string[] } | undefined;
  if (!resource) return notFound(collection, id);
  const tags: unknown = (context.body as { tags?: unknown } | undefined)?.tags;
  if (!Array.isArray(tags)) return neutronFault(400, 'InvalidInput', `Invalid input for operation: '${JSON.stringify(tags)}' is not a list.`);
  for (const tag of tags) {
    if (typeof tag !== 'string') return neutronFault(400, 'InvalidInput', `Invalid input for operation: '${String(tag)}' is not a valid string.`);
    if (tag.length > MAX_TAG_LENGTH) return neutronFault(400, 'InvalidInput', `Invalid input for operation: '${tag}' exceeds maximum length of ${MAX_TAG_LENGTH}.`);
  }
  resource.tags = [...new Set(tags as string[])];
  // The answer keeps the order asked for; lists show tags sorted.
  return { status: 200, body: { tags: resource.tags } };
};

export const neutronRoutes: Route[] = [
  { method: 'GET', path: new RegExp(`^/v2\\.0/${COLLECTION}$`), handle: list },
  {
    method: 'GET',
    path: new RegExp(`^/v2\\.0/${COLLECTION}/([^/]+)$`),
    handle: (context) => {
      const collection = collectionOf(context);
      const view = views(context.state, collection).find((candidate) => candidate.id === context.params[1] && visibleTo(context.projectId, collection, candidate));
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
