/**
 * Nova v2.1 with microversions (2.1 to the configured maximum; 406 outside, every answer echoing
 * the version): flavors, availability zones, servers (create, list with `tags` filters and
 * `limit`/`marker` pages, show, delete), quota refusals and the create-time validation the
 * provider can run into.
 */
import { randomBytes } from 'node:crypto';
import { validateCreate } from './nova-create.ts';
import { novaFault, type Reply, type RequestContext, type Route } from './server.ts';
import { newId, PROJECT_ID, ZONES, type CloudState, type Server } from './state.ts';

type Version = [number, number];

const parseVersion = (text: string): Version | undefined => {
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
};
const atLeast = (version: Version, major: number, minor: number): boolean => version[0] > major || (version[0] === major && version[1] >= minor);
const text = (version: Version): string => version.join('.');

/** The microversion a request asks for: `OpenStack-API-Version: compute X.Y`, the legacy header, or 2.1. */
const requested = (context: RequestContext): string => {
  const header = context.headers['openstack-api-version'];
  const common = typeof header === 'string' ? /(?:^|,)\s*compute\s+([^,\s]+)/i.exec(header)?.[1] : undefined;
  const legacy = context.headers['x-openstack-nova-api-version'];
  return common ?? (typeof legacy === 'string' ? legacy : '2.1');
};

type Handler = (context: RequestContext, version: Version) => Reply;

/** Negotiates the microversion, then answers with it in the headers, as Nova does (errors included). */
const versioned =
  (handle: Handler) =>
  (context: RequestContext): Reply => {
    const max = parseVersion(context.state.options.maxMicroversion) ?? [2, 93];
    const asked = requested(context);
    const version = asked === 'latest' ? max : parseVersion(asked);
    // A version that is not one is refused before negotiation, so its answer carries no version.
    if (!version) return novaFault(400, `API Version String ${asked} is of invalid format. Must be of format MajorNum.MinorNum.`);
    const reply = !atLeast(version, 2, 1) || !atLeast(max, version[0], version[1]) ? novaFault(406, `Version ${asked} is not supported by the API. Minimum is 2.1 and maximum is ${text(max)}.`) : handle(context, version);
    return {
      ...reply,
      headers: { ...reply.headers, 'OpenStack-API-Version': `compute ${text(version)}`, 'X-OpenStack-Nova-API-Version': text(version), Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version' },
    };
  };

/** One page after `marker`, with a `next` link when the page is full. */
const page = <T extends { id: string }>(context: RequestContext, items: T[], collection: string): { items: T[]; links?: { rel: string; href: string }[] } | Reply => {
  const max = context.state.options.maxLimit;
  const asked = context.query.get('limit');
  const limit = asked === null || asked === '' ? max : Math.min(Number(asked), max);
  if (asked !== null && !/^[0-9]*$/.test(asked)) return novaFault(400, `Invalid input for query parameters limit. Value: ${asked}. '${asked}' does not match '^[0-9]*$'`);
  const marker = context.query.get('marker');
  let start = 0;
  if (marker !== null) {
    const at = items.findIndex((item) => item.id === marker);
    if (at < 0) return novaFault(400, `marker [${marker}] not found`);
    start = at + 1;
  }
  const slice = items.slice(start, start + limit);
  if (slice.length < limit || slice.length === 0) return { items: slice };
  const next = new URLSearchParams(context.query);
  next.set('limit', String(limit));
  next.set('marker', slice[slice.length - 1]?.id ?? '');
  return { items: slice, links: [{ rel: 'next', href: `${context.cloud.url}/compute/v2.1/${collection}?${next.toString()}` }] };
};

/** A hash of the project and its host, as Nova shows where a server runs without naming the host. */
const HOST_ID = 'a4f5c3d7e2b1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9';

/** `self` and `bookmark` links, on the endpoint the catalog names (it carries no project). */
const links = (state: CloudState, collection: string, id: string) => [
  { rel: 'self', href: `${state.baseUrl}/compute/v2.1/${collection}/${id}` },
  { rel: 'bookmark', href: `${state.baseUrl}/compute/${collection}/${id}` },
];

const isReply = (value: unknown): value is Reply => typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number';

const VM_STATES: Record<Server['status'], string> = { BUILD: 'building', ACTIVE: 'active', ERROR: 'error', SHUTOFF: 'stopped' };

/** `listed`: as `GET /servers/detail` shows it, which looks for faults in the cells of hosts only. */
const serverView = (state: CloudState, server: Server, version: Version, listed = false) => {
  const addresses: Record<string, { addr: string; version: number; 'OS-EXT-IPS:type': string; 'OS-EXT-IPS-MAC:mac_addr': string }[]> = {};
  for (const portId of server.portIds) {
    const port = state.ports.get(portId);
    const network = port ? state.networks.get(port.network_id) : undefined;
    if (!port || !network) continue;
    const list = (addresses[network.name] ??= []);
    const mac = 'fa:16:3e:00:00:01';
    for (const ip of port.fixed_ips) list.push({ addr: ip.ip_address, version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': mac });
    // Nova's cache of the port's floating IPs, some time behind Neutron.
    for (const addr of port.novaFloating) list.push({ addr, version: 4, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': mac });
  }
  const flavor = atLeast(version, 2, 47)
    ? { vcpus: server.flavor.vcpus, ram: server.flavor.ram, disk: server.flavor.disk, ephemeral: 0, swap: 0, original_name: server.flavor.name, extra_specs: {} }
    : { id: server.flavor.id, links: [] };
  const deleting = server.deletedAt !== undefined;
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    tenant_id: PROJECT_ID,
    user_id: 'e3f8a1c2d4b54c5e8f6a7b8c9d0e1f20',
    metadata: server.metadata,
    image: server.imageId ? { id: server.imageId, links: links(state, 'images', server.imageId).slice(1) } : '',
    flavor,
    created: new Date(server.createdAt).toISOString().replace(/\.\d+Z$/, 'Z'),
    updated: new Date(state.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    addresses,
    accessIPv4: '',
    accessIPv6: '',
    hostId: server.status === 'ACTIVE' || server.status === 'SHUTOFF' ? HOST_ID : '',
    links: links(state, 'servers', server.id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': server.inCell0 ? '' : server.zone,
    'OS-EXT-STS:task_state': deleting ? 'deleting' : server.status === 'BUILD' ? 'scheduling' : server.power ? (server.power.action === 'stop' ? 'powering-off' : 'powering-on') : null,
    'OS-EXT-STS:vm_state': VM_STATES[server.status],
    // Nova's power states: 1 RUNNING, 4 SHUTDOWN, 0 NOSTATE.
    'OS-EXT-STS:power_state': server.status === 'ACTIVE' ? 1 : server.status === 'SHUTOFF' ? 4 : 0,
    // Nova's own timestamp form: no zone, microseconds.
    'OS-SRV-USG:launched_at': server.launchedAt === undefined ? null : new Date(server.launchedAt).toISOString().replace(/\.\d+Z$/, '.000000'),
    'OS-SRV-USG:terminated_at': null,
    'os-extended-volumes:volumes_attached': server.volumeIds.map((id) => ({ id, delete_on_termination: true })),
    // Nova reads a server's groups from its ports: one without ports (never built) shows none.
    ...(server.portIds.length > 0 ? { security_groups: server.securityGroupIds.map((id) => ({ name: state.securityGroups.get(id)?.name ?? id })) } : {}),
    key_name: server.keyName,
    config_drive: '',
    ...(server.status === 'ERROR' ? {} : { progress: 0 }),
    ...(server.fault && !(listed && server.inCell0) ? { fault: server.fault } : {}),
    ...(atLeast(version, 2, 9) ? { locked: false } : {}),
    ...(atLeast(version, 2, 19) ? { description: null } : {}),
    ...(atLeast(version, 2, 26) ? { tags: server.tags } : {}),
  };
};

/** Newest first, as Nova sorts by default (created_at, then id, descending). */
const listed = (context: RequestContext, version: Version): Server[] => {
  const all = [...context.state.servers.values()].sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
  const tags = atLeast(version, 2, 26) ? context.query.get('tags') : null;
  const any = atLeast(version, 2, 26) ? context.query.get('tags-any') : null;
  const name = context.query.get('name');
  return all.filter(
    (server) =>
      (!tags || tags.split(',').every((tag) => server.tags.includes(tag))) &&
      (!any || any.split(',').some((tag) => server.tags.includes(tag))) &&
      (!name || new RegExp(name).test(server.name)),
  );
};

const listServers: Handler = (context, version) => {
  const result = page(context, listed(context, version), 'servers/detail');
  if (isReply(result)) return result;
  return { status: 200, body: { servers: result.items.map((server) => serverView(context.state, server, version, true)), ...(result.links ? { servers_links: result.links } : {}) } };
};

const findServer = (context: RequestContext): Server | Reply => {
  const server = context.state.servers.get(context.params[0] ?? '');
  return server ?? novaFault(404, `Instance ${context.params[0]} could not be found.`);
};

const createServer: Handler = (context, version) => {
  const checked = validateCreate(context, version);
  if (isReply(checked)) return checked;
  const { state } = context;
  const usage = state.usage();
  const { instances, cores, ramMb } = state.options.quotas;
  if (usage.instances + 1 > instances) {
    return novaFault(403, `Quota exceeded for instances: Requested 1, but already used ${usage.instances} of ${instances} instances`);
  }
  if (usage.cores + checked.flavor.vcpus > cores) {
    return novaFault(403, `Quota exceeded for cores: Requested ${checked.flavor.vcpus}, but already used ${usage.cores} of ${cores} cores`);
  }
  if (usage.ramMb + checked.flavor.ram > ramMb) {
    return novaFault(403, `Quota exceeded for ram: Requested ${checked.flavor.ram}, but already used ${usage.ramMb} of ${ramMb} ram`);
  }
  const now = state.clock.now();
  const server: Server = {
    ...checked,
    id: newId(),
    createdAt: now,
    bootAt: now + state.options.bootMs,
    fails: checked.flavor.name === 'error.nohost',
    status: 'BUILD',
    portIds: [],
    volumeIds: [],
  };
  state.servers.set(server.id, server);
  const [self] = links(state, 'servers', server.id);
  const asked = (context.body as { server: { security_groups?: { name?: string }[] } }).server.security_groups;
  return {
    status: 202,
    headers: { Location: self?.href ?? '' },
    body: {
      server: {
        id: server.id,
        links: links(state, 'servers', server.id),
        'OS-DCF:diskConfig': 'MANUAL',
        // The groups as asked for (by name or id), or the project's default.
        security_groups: asked?.length ? asked.map((group) => ({ name: group.name })) : [{ name: 'default' }],
        adminPass: randomBytes(9).toString('base64url'),
      },
    },
  };
};

/**
 * `os-stop` (from ACTIVE or ERROR) and `os-start` (from SHUTOFF): 202 with no body, then the
 * server is SHUTOFF (or ACTIVE) `powerMs` later; from any other state, or while one is under way,
 * 409 as Nova's conductor words it. Other actions this contract does not serve.
 */
const serverAction: Handler = (context) => {
  const server = findServer(context);
  if (isReply(server)) return server;
  const body = context.body as Record<string, unknown> | null;
  const action = body && typeof body === 'object' ? Object.keys(body) : [];
  if (action.length !== 1 || !['os-stop', 'os-start'].includes(action[0] ?? '')) {
    return novaFault(400, `There is no such action: ${action.join(', ') || '(none)'}`);
  }
  const stop = action[0] === 'os-stop';
  const allowed = stop ? server.status === 'ACTIVE' || server.status === 'ERROR' : server.status === 'SHUTOFF';
  if (!allowed || server.power || server.deletedAt !== undefined) {
    const taskState = server.deletedAt !== undefined ? 'deleting' : server.power ? (server.power.action === 'stop' ? 'powering-off' : 'powering-on') : null;
    const why = taskState ? `in task_state ${taskState}` : `in vm_state ${VM_STATES[server.status]}`;
    return novaFault(409, `Cannot '${stop ? 'stop' : 'start'}' instance ${server.id} while it is ${why}`);
  }
  server.power = { action: stop ? 'stop' : 'start', at: context.state.clock.now() };
  return { status: 202 };
};

export const novaRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/flavors\/detail$/,
    handle: versioned((context, version) => {
      const result = page(context, context.state.flavors, 'flavors/detail');
      if (isReply(result)) return result;
      const flavors = result.items.map((flavor) => ({
        ...flavor,
        swap: atLeast(version, 2, 75) ? 0 : '',
        'OS-FLV-EXT-DATA:ephemeral': 0,
        'OS-FLV-DISABLED:disabled': false,
        'os-flavor-access:is_public': true,
        rxtx_factor: 1,
        links: links(context.state, 'flavors', flavor.id),
        ...(atLeast(version, 2, 55) ? { description: null } : {}),
        ...(atLeast(version, 2, 61) ? { extra_specs: {} } : {}),
      }));
      return { status: 200, body: { flavors, ...(result.links ? { flavors_links: result.links } : {}) } };
    }),
  },
  {
    method: 'GET',
    path: /^\/os-availability-zone$/,
    handle: versioned(() => ({ status: 200, body: { availabilityZoneInfo: ZONES.map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null })) } })),
  },
  { method: 'GET', path: /^\/servers\/detail$/, handle: versioned(listServers) },
  { method: 'POST', path: /^\/servers$/, handle: versioned(createServer) },
  { method: 'POST', path: /^\/servers\/([^/]+)\/action$/, handle: versioned(serverAction) },
  {
    method: 'GET',
    path: /^\/servers\/([^/]+)$/,
    handle: versioned((context, version) => {
      const server = findServer(context);
      return isReply(server) ? server : { status: 200, body: { server: serverView(context.state, server, version) } };
    }),
  },
  {
    method: 'DELETE',
    path: /^\/servers\/([^/]+)$/,
    handle: versioned((context) => {
      const server = findServer(context);
      if (isReply(server)) return server;
      server.deletedAt ??= context.state.clock.now();
      return { status: 204 };
    }),
  },
];
