/**
 * Nova and Neutron asked directly, over plain REST and apart from the adapter, what a real cloud
 * holds of a cluster: the inventory the peer scripts check after a destroy or a rollback. With an
 * admin login it sees every project's servers (`all_tenants`) and Neutron's resources of every
 * project, so nothing the demo project cannot see hides a leftover.
 */
import type { OpenStackSettings } from '#adapters/openstack/index';
import { clusterTag } from '#adapters/openstack/naming';

export interface Catalog {
  token: string;
  compute: string;
  network: string;
  /** Nova lists every project's servers (an admin login). */
  allProjects: boolean;
}

/** A password login to the settings' project, and its compute and network endpoints. */
export const login = async (settings: OpenStackSettings, options: { allProjects?: boolean } = {}): Promise<Catalog> => {
  if (settings.auth.type !== 'password') throw new Error('the inventory check logs in with a password only');
  const { user, password, project } = settings.auth;
  const response = await fetch(`${settings.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { ...user, password } } }, scope: { project } } }),
    signal: AbortSignal.timeout(15_000),
  });
  if (response.status !== 201) throw new Error(`Keystone answered ${response.status}: ${await response.text()}`);
  const token = response.headers.get('x-subject-token') ?? '';
  const body = (await response.json()) as { token: { catalog: { type: string; endpoints: { interface: string; region_id: string; url: string }[] }[] } };
  const url = (type: string) => {
    const entry = body.token.catalog.find((service) => service.type === type);
    const endpoint = entry?.endpoints.find((candidate) => candidate.interface === settings.interface && (!settings.region || candidate.region_id === settings.region));
    if (!endpoint) throw new Error(`no ${type} endpoint in the catalog`);
    return endpoint.url.replace(/\/+$/, '');
  };
  const network = url('network');
  return { token, compute: url('compute'), network: /\/v2\.0$/.test(network) ? network : `${network}/v2.0`, allProjects: options.allProjects ?? false };
};

export const getJson = async <T>(catalog: Catalog, url: string): Promise<T> => {
  // 2.52 shows tags; an admin also sees each server's user data (2.3+).
  const response = await fetch(url, { headers: { 'X-Auth-Token': catalog.token, Accept: 'application/json', 'OpenStack-API-Version': 'compute 2.52' } });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
};

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-SRV-ATTR:user_data'?: string | null;
}

/** The cluster's servers as Nova lists them by its tag (every project's, for an admin). */
export const clusterServers = async (catalog: Catalog, clusterId: string): Promise<NovaServer[]> => {
  const query = `tags=${encodeURIComponent(clusterTag(clusterId))}${catalog.allProjects ? '&all_tenants=1' : ''}`;
  return (await getJson<{ servers: NovaServer[] }>(catalog, `${catalog.compute}/servers/detail?${query}`)).servers;
};

/** Neutron's resources of one kind that carry the cluster's tag. */
export const taggedResources = async (catalog: Catalog, resource: string, clusterId: string): Promise<Record<string, any>[]> =>
  (await getJson<Record<string, Record<string, any>[]>>(catalog, `${catalog.network}/${resource}?tags=${encodeURIComponent(clusterTag(clusterId))}`))[resource.replace(/-/g, '_')] ?? [];

/** What Nova and Neutron still hold of the cluster: by its tag, and by its name for anything whose tags were never set. */
export const leftovers = async (catalog: Catalog, clusterId: string, serverIds: string[], networkIds: string[]): Promise<string[]> => {
  const found: string[] = [];
  found.push(...(await clusterServers(catalog, clusterId)).map((server) => `server ${server.id} (${server.name}, ${server.status})`));
  for (const id of serverIds) {
    const response = await fetch(`${catalog.compute}/servers/${id}`, { headers: { 'X-Auth-Token': catalog.token } });
    if (response.status !== 404) found.push(`server ${id} answers ${response.status}`);
  }
  for (const resource of ['networks', 'subnets', 'routers', 'security-groups', 'floatingips', 'ports']) {
    const key = resource.replace(/-/g, '_');
    const byTag = await taggedResources(catalog, resource, clusterId);
    found.push(...byTag.map((item) => `${resource} ${item.id} (tagged)`));
    const all = (await getJson<Record<string, { id: string; name?: string; device_id?: string; network_id?: string }[]>>(catalog, `${catalog.network}/${resource}`))[key] ?? [];
    for (const item of all) {
      const named = (item.name ?? '').startsWith(clusterId);
      const ours = resource === 'ports' && (serverIds.includes(item.device_id ?? '') || networkIds.includes(item.network_id ?? ''));
      if ((named || ours) && !byTag.some((tagged) => tagged.id === item.id)) found.push(`${resource} ${item.id} (${item.name || item.device_id || 'untagged'})`);
    }
  }
  return found;
};
