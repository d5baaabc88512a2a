/**
 * A server's life in the emulated cloud, derived from its timestamps (created at + drawn boot
 * time, deleted at + drawn delete time) and never driven by timers, so a process that crashes and
 * starts again on the same inventory finds each server where it would have been; and the shapes
 * the cloud shows a server in.
 */
import { ProviderError } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import type { ProviderServer } from '#domain/provider';
import { DEFAULT_IMAGE, DEFAULT_ZONE, type ServerSize } from './catalogue.ts';
import type { StoredServer } from './inventory-file.ts';
import type { LocalCloudSettings } from './settings.ts';

export type LocalServerState = 'BUILD' | 'ACTIVE' | 'STOPPING' | 'STOPPED' | 'ERROR' | 'DELETING';

/** A server as the cloud's describe call shows it: the port's view plus the cloud's own fields. */
export interface LocalCloudServer extends ProviderServer {
  clusterId: string;
  role: string;
  flavor: string;
}

/** One row of `GET /_local/cloud/servers`. */
export interface LocalCloudInventoryItem {
  id: string;
  name: string;
  clusterId: string;
  state: LocalServerState;
  zone: string;
  image: string;
  keyName: string | null;
  /** Base64, as it was passed. */
  userData: string | null;
  tags: Record<string, string>;
  /** The rules of the networks the server is on, each once. */
  securityRules: SecurityRule[];
}

/** Past its delete time: the cloud forgets it. */
export const isGone = (server: StoredServer, now: number): boolean =>
  server.deletedAtMs !== null && now >= server.deletedAtMs + (server.deleteMs ?? 0);

export function serverState(server: StoredServer, now: number): LocalServerState {
  if (server.deletedAtMs !== null) return 'DELETING';
  if (now < server.createdAtMs + server.bootMs) return 'BUILD';
  if (server.fault !== null) return 'ERROR';
  const power = server.power;
  if (!power) return 'ACTIVE';
  const arrived = now >= power.atMs + power.ms;
  if (power.action === 'stop') return arrived ? 'STOPPED' : 'STOPPING';
  return arrived ? 'ACTIVE' : 'BUILD';
}

/** Its agent comes online its drawn time after the server first runs, and with it after every start. */
export const agentOnline = (server: StoredServer, now: number): boolean =>
  serverState(server, now) === 'ACTIVE' && now >= server.createdAtMs + server.bootMs + (server.agentMs ?? 0);

export function describeServer(server: StoredServer, now: number, publicIps: ReadonlyMap<string, string>): LocalCloudServer {
  const state = serverState(server, now);
  return {
    id: server.id,
    name: server.name,
    clusterId: server.clusterId,
    role: server.role,
    flavor: server.flavor,
    state,
    privateIp: server.ports[0]?.ip ?? null,
    publicIp: publicIps.get(server.id) ?? null,
    ...(state === 'ERROR' && server.fault !== null ? { fault: server.fault } : {}),
  };
}

/** A server a replayed client token made, deleted since: said so rather than pretended to exist. */
export const deletedServer = (id: string, name: string, clusterId: string): LocalCloudServer => ({
  id,
  name,
  clusterId,
  role: '',
  flavor: '',
  state: 'DELETED',
  privateIp: null,
  publicIp: null,
});

export const inventoryItem = (
  server: StoredServer,
  now: number,
  more: { userData: string | null; securityRules: SecurityRule[] },
): LocalCloudInventoryItem => ({
  id: server.id,
  name: server.name,
  clusterId: server.clusterId,
  state: serverState(server, now),
  zone: server.zone ?? DEFAULT_ZONE,
  image: server.image ?? DEFAULT_IMAGE,
  keyName: server.keyName ?? null,
  userData: more.userData,
  tags: { ...server.tags },
  securityRules: more.securityRules,
});

export const bootFault = (name: string): string =>
  `No valid host was found for ${name}: the server failed to boot (LOCAL_CLOUD_FAIL_PATTERN matched its name)`;

/** QuotaExceeded when servers of these sizes on top of the `live` ones would pass a quota. */
export function checkQuotas(live: StoredServer[], sizes: ServerSize[], limits: Pick<LocalCloudSettings, 'maxServers' | 'maxVcpus'>): void {
  const servers = { used: live.length, requested: sizes.length, limit: limits.maxServers };
  const vcpus = {
    used: live.reduce((sum, server) => sum + server.vcpus, 0),
    requested: sizes.reduce((sum, size) => sum + size.vcpus, 0),
    limit: limits.maxVcpus,
  };
  for (const [quota, usage] of [['servers', servers], ['vCPUs', vcpus]] as const) {
    if (usage.used + usage.requested > usage.limit) {
      throw new ProviderError(
        'QuotaExceeded',
        `Quota exceeded for ${quota}: ${usage.used}/${usage.limit} in use, this request needs ${usage.requested} more`,
      );
    }
  }
}
