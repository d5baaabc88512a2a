/**
 * Nova calls (docs/openstack-provider.md, "Compute"), every one at microversion 2.52: the lowest
 * that takes tags at create, which is what makes a create retry-safe without a client token.
 */
import { ProviderError } from '#domain/errors';
import type { Query, Session } from './http.ts';

export const COMPUTE_MICROVERSION = '2.52';

const HEADERS = {
  'OpenStack-API-Version': `compute ${COMPUTE_MICROVERSION}`,
  // The same for Novas older than the common header (before Pike); it changes nothing on newer ones.
  'X-OpenStack-Nova-API-Version': COMPUTE_MICROVERSION,
};

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  /** The root disk; 0 means the flavor boots from a volume only. */
  diskGb: number;
}

export interface NovaAddress {
  addr: string;
  version: number;
  'OS-EXT-IPS:type'?: 'fixed' | 'floating';
}

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  'OS-EXT-STS:task_state'?: string | null;
  addresses?: Record<string, NovaAddress[]>;
  fault?: { code?: number; message?: string };
  tags?: string[];
  metadata?: Record<string, string>;
  'os-extended-volumes:volumes_attached'?: { id: string; delete_on_termination?: boolean }[];
}

interface Link {
  rel: string;
  href: string;
}

interface NovaFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  'OS-FLV-DISABLED:disabled'?: boolean;
}

/** The marker of a `…_links` next link: the next page is asked for with it, on the endpoint the catalog names. */
const nextMarker = (links: Link[] | undefined): string | undefined => {
  const next = links?.find((link) => link.rel === 'next');
  if (!next) return undefined;
  return new URL(next.href, 'http://unused').searchParams.get('marker') ?? undefined;
};

export class Compute {
  constructor(
    private readonly session: Session,
    /** Servers and flavors per page; Nova caps it at its own `max_limit` (1000 by default). */
    private readonly pageSize: number,
  ) {}

  /** Every enabled flavor the project may use, all pages. */
  async flavors(): Promise<Flavor[]> {
    const all: Flavor[] = [];
    let marker: string | undefined;
    do {
      const reply = await this.session.call<{ flavors: NovaFlavor[]; flavors_links?: Link[] }>('compute', 'GET', '/flavors/detail', {
        query: { limit: this.pageSize, marker },
        headers: HEADERS,
      });
      // A Nova that does not echo the microversion did not apply it: tags would be dropped silently.
      const echoed = reply.headers.get('openstack-api-version') ?? reply.headers.get('x-openstack-nova-api-version');
      if (!echoed?.includes(COMPUTE_MICROVERSION)) {
        throw new ProviderError('ComputeMicroversionUnsupported', `Nova did not answer at microversion ${COMPUTE_MICROVERSION} (it answered ${echoed ?? 'none'}); tags at create need it`);
      }
      for (const flavor of reply.body.flavors) {
        if (flavor['OS-FLV-DISABLED:disabled']) continue;
        all.push({ id: String(flavor.id), name: flavor.name, vcpus: flavor.vcpus, ramMb: flavor.ram, diskGb: flavor.disk });
      }
      marker = reply.body.flavors.length > 0 ? nextMarker(reply.body.flavors_links) : undefined;
    } while (marker);
    return all;
  }

  /** The zones servers can be put in; null when policy hides the list from the project. */
  async zones(): Promise<string[] | null> {
    const reply = await this.session.call<{ availabilityZoneInfo?: { zoneName: string; zoneState?: { available?: boolean } }[] }>(
      'compute',
      'GET',
      '/os-availability-zone',
      { headers: HEADERS, expect: [403, 404] },
    );
    if (reply.status !== 200) return null;
    return (reply.body.availabilityZoneInfo ?? []).filter((zone) => zone.zoneState?.available !== false).map((zone) => zone.zoneName);
  }

  /** Servers carrying every one of `tags`, following the pages: the same page size whatever the count. */
  async servers(tags: string[]): Promise<NovaServer[]> {
    const all: NovaServer[] = [];
    let marker: string | undefined;
    do {
      const query: Query = { tags: tags.join(','), limit: this.pageSize, marker };
      const reply = await this.session.call<{ servers: NovaServer[]; servers_links?: Link[] }>('compute', 'GET', '/servers/detail', { query, headers: HEADERS });
      all.push(...reply.body.servers);
      marker = reply.body.servers.length > 0 ? nextMarker(reply.body.servers_links) : undefined;
    } while (marker);
    return all;
  }

  /**
   * The servers in ERROR whose fault the list left out, given it from their own `GET /servers/{id}`:
   * Nova's lists look for faults in the cells of hosts only, so a server that failed scheduling
   * (kept in cell0) is listed without its "No valid host was found.". ERROR is final, so this is
   * one call per failed server, not one per server.
   */
  async withFaults(servers: NovaServer[]): Promise<NovaServer[]> {
    const shown: NovaServer[] = [];
    for (const server of servers) {
      if (server.status !== 'ERROR' || server.fault?.message) {
        shown.push(server);
        continue;
      }
      const reply = await this.session.call<{ server: NovaServer }>('compute', 'GET', `/servers/${encodeURIComponent(server.id)}`, { headers: HEADERS, expect: [404] });
      shown.push(reply.status === 200 && reply.body.server.fault ? { ...server, fault: reply.body.server.fault } : server);
    }
    return shown;
  }

  /** One server; Nova answers 202 with its id before it is scheduled. */
  async create(server: Record<string, unknown>): Promise<{ id: string }> {
    const reply = await this.session.call<{ server: { id: string } }>('compute', 'POST', '/servers', { body: { server }, headers: HEADERS });
    return { id: reply.body.server.id };
  }

  /**
   * `os-stop` or `os-start`: Nova answers 202 and the server is SHUTOFF (ACTIVE) some time later.
   * Its 409, a server already there or on its way (or busy with something else), is no failure:
   * the next listing says where the server is.
   */
  async power(serverId: string, action: 'stop' | 'start'): Promise<'sent' | 'conflict'> {
    const body = { [action === 'stop' ? 'os-stop' : 'os-start']: null };
    const reply = await this.session.call('compute', 'POST', `/servers/${encodeURIComponent(serverId)}/action`, { body, headers: HEADERS, expect: [409] });
    return reply.status === 409 ? 'conflict' : 'sent';
  }

  /** Deleting is asynchronous: the server goes on being listed (task `deleting`) for a while. */
  async delete(serverId: string): Promise<'deleted' | 'gone'> {
    const reply = await this.session.call('compute', 'DELETE', `/servers/${encodeURIComponent(serverId)}`, { headers: HEADERS, expect: [404] });
    return reply.status === 404 ? 'gone' : 'deleted';
  }
}
