/**
 * The emulated cloud behind provider `local` (docs/providers.md, docs/local-mode.md): an
 * in-process stand-in for an IaaS API with the properties a workflow has to cope with on a real
 * one — API latency, throttling, boot time, boot failures, quotas, slow deletes — and an
 * inventory that survives a restart of the process.
 *
 * Every state is derived from timestamps (created at + drawn boot time, deleted at + drawn
 * delete time, started at + drawn duration), never driven by timers, so a process that crashes
 * and starts again on the same data directory carries on where it was.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError, TransientProviderError } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import type { ConfigurationStatus, ServerRequest } from '#domain/provider';
import { DEFAULT_IMAGE, DEFAULT_ZONE, LOCAL_CLOUD_MAX_BATCH_SIZE, localOptionProblems, parseLocalFlavor, type LocalServerOptions, type ServerSize } from './catalogue.ts';
import { offlineAgents, runStatus, startRun, type RunInput } from './configuration-runs.ts';
import { INVENTORY_FILE, InventoryWriter, readInventory, type StoredNetwork, type StoredServer } from './inventory-file.ts';
import { Inventory } from './inventory.ts';
import { assignPorts, clusterSubnetCidr, freeClusterSubnets, freePublicIps } from './ip-pool.ts';
import { normalRule, withoutRepeats } from './security-rules.ts';
import { bootFault, checkQuotas, deletedServer, describeServer, inventoryItem, isGone, serverState, type LocalCloudInventoryItem, type LocalCloudServer } from './servers.ts';
import { DEFAULT_LOCAL_CLOUD_SETTINGS, matches, type LocalCloudSettings, type MsRange } from './settings.ts';

export interface LocalCloudOptions extends Partial<LocalCloudSettings> {
  /** Where `local-cloud.json` lives; undefined keeps the inventory in memory only. */
  dataDir?: string;
  /** Milliseconds since the epoch; injectable so tests can move time instead of sleeping. */
  now?: () => number;
  /** Uniform in [0, 1); injectable for deterministic draws. */
  random?: () => number;
}

/** A network and its rules, as `listNetworks` shows it. */
export interface LocalCloudNetwork {
  id: string;
  clusterId: string;
  cidr: string;
  securityRules: SecurityRule[];
}

export class LocalCloud {
  readonly settings: Readonly<LocalCloudSettings>;
  private readonly writer: InventoryWriter | null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly inventory = new Inventory();

  private constructor(options: LocalCloudOptions) {
    const { dataDir, now, random, ...settings } = options;
    this.settings = { ...DEFAULT_LOCAL_CLOUD_SETTINGS, ...withoutUndefined(settings) };
    this.writer = dataDir === undefined ? null : new InventoryWriter(path.join(dataDir, INVENTORY_FILE), () => this.inventory.snapshot());
    this.now = now ?? Date.now;
    this.random = random ?? Math.random;
  }

  /** Opens the cloud, loading `<dataDir>/local-cloud.json` when there is one. */
  static async open(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    if (options.dataDir !== undefined) {
      const file = path.join(options.dataDir, INVENTORY_FILE);
      await mkdir(path.dirname(file), { recursive: true });
      const inventory = await readInventory(file);
      if (inventory) cloud.inventory.load(inventory);
    }
    return cloud;
  }

  /** Waits for pending writes, so the file holds every mutation answered so far. */
  async close(): Promise<void> {
    await this.writer?.idle();
  }

  /** Every server still in the inventory (DELETING included); not an API call, so no latency or throttling. */
  listServers(): LocalCloudInventoryItem[] {
    const now = this.now();
    const inventory = this.inventory;
    return inventory.presentServers(now).map((server) =>
      inventoryItem(server, now, { userData: inventory.userDataOf(server), securityRules: inventory.rulesOf(server) }),
    );
  }

  /** Every network still in the inventory with its rules; not an API call either. */
  listNetworks(): LocalCloudNetwork[] {
    return [...this.inventory.networks.values()].map((network) => ({
      id: network.id,
      clusterId: network.clusterId,
      cidr: network.cidr,
      securityRules: [...(network.securityRules ?? [])],
    }));
  }

  /**
   * Makes (or finds, by cluster id + index) `count` private networks, each with `securityRules`
   * (a rule a network already has is not added again); returns their ids in index order.
   */
  createNetworks(input: { clusterId: string; count: number; securityRules?: SecurityRule[] }): Promise<string[]> {
    return this.mutate('CreateNetworks', (now) => {
      if (!Number.isInteger(input.count) || input.count < 0) {
        throw new ProviderError('InvalidRequest', `count must be a whole number ≥ 0; got ${input.count}`);
      }
      const existing = new Map(this.inventory.clusterNetworks(input.clusterId).map((network) => [network.index, network]));
      const missing = range(input.count).filter((index) => !existing.has(index));
      const subnets = freeClusterSubnets(new Set([...this.inventory.networks.values()].map((network) => network.subnet)), missing.length);
      missing.forEach((index, i) => {
        const subnet = subnets[i] ?? 0;
        const network: StoredNetwork = {
          id: `net-${randomUUID()}`,
          clusterId: input.clusterId,
          index,
          subnet,
          cidr: clusterSubnetCidr(subnet),
          createdAtMs: now,
        };
        this.inventory.networks.set(network.id, network);
        existing.set(index, network);
      });
      const rules = (input.securityRules ?? []).map(normalRule);
      for (const network of existing.values()) {
        if (network.index >= input.count) continue;
        const merged = withoutRepeats([...(network.securityRules ?? []), ...rules]);
        if (merged.length > (network.securityRules?.length ?? 0)) network.securityRules = merged;
      }
      return range(input.count).map((index) => existing.get(index)?.id ?? '');
    });
  }

  /**
   * Creates one batch of servers, all or none, from the options' image in their zone, with their
   * key name, user data and tags. A `clientToken` seen before answers the servers of the first
   * call and creates nothing, whatever the quotas say now.
   */
  createServers(input: {
    clusterId: string;
    clientToken: string;
    networkIds: string[];
    servers: Pick<ServerRequest, 'name' | 'role' | 'flavor'>[];
    options?: LocalServerOptions;
  }): Promise<LocalCloudServer[]> {
    return this.mutate('CreateServers', (now) => {
      const replay = this.replayClientToken(input, now);
      if (replay) return replay;
      if (input.servers.length > LOCAL_CLOUD_MAX_BATCH_SIZE) {
        throw new ProviderError(
          'BatchTooLarge',
          `A create call takes at most ${LOCAL_CLOUD_MAX_BATCH_SIZE} servers; this one asked for ${input.servers.length}`,
        );
      }
      const options = input.options ?? {};
      const problem = localOptionProblems(options)[0];
      if (problem) throw new ProviderError(problem.code, problem.message);
      const sizes = input.servers.map((request) => flavorSize(request.flavor));
      const subnets = this.inventory.subnetsFor(input.clusterId, input.networkIds);
      checkQuotas(this.inventory.presentServers(now), sizes, this.settings);
      const ports = assignPorts(subnets, this.inventory.presentServers(now).flatMap((server) => server.ports), input.servers.length);
      const userDataSha256 = options.userData ? this.inventory.keepUserData(options.userData) : undefined;
      const asked = {
        zone: options.zone ?? DEFAULT_ZONE,
        image: options.image ?? DEFAULT_IMAGE,
        ...(options.keyName ? { keyName: options.keyName } : {}),
        ...(userDataSha256 ? { userDataSha256 } : {}),
        ...(options.tags && Object.keys(options.tags).length > 0 ? { tags: { ...options.tags } } : {}),
      };
      const created = input.servers.map((request, i): StoredServer => ({
        id: randomUUID(),
        name: request.name,
        clusterId: input.clusterId,
        role: request.role,
        flavor: request.flavor,
        vcpus: sizes[i]?.vcpus ?? 0,
        ports: ports[i] ?? [],
        createdAtMs: now,
        bootMs: this.draw(this.settings.bootMs),
        agentMs: this.draw(this.settings.agentMs),
        fault: matches(this.settings.failPattern, request.name) ? bootFault(request.name) : null,
        deletedAtMs: null,
        deleteMs: null,
        ...asked,
      }));
      for (const server of created) this.inventory.servers.set(server.id, server);
      this.inventory.clientTokens.set(input.clientToken, {
        token: input.clientToken,
        clusterId: input.clusterId,
        servers: created.map(({ id, name }) => ({ id, name })),
        createdAtMs: now,
      });
      const publicIps = this.inventory.publicIpsByServer();
      return created.map((server) => describeServer(server, now, publicIps));
    });
  }

  /** Every server of the cluster that is not gone, in one call. */
  describeServers(input: { clusterId: string }): Promise<LocalCloudServer[]> {
    return this.request('DescribeServers', (now) => {
      const publicIps = this.inventory.publicIpsByServer();
      return this.inventory.presentServers(now)
        .filter((server) => server.clusterId === input.clusterId)
        .map((server) => describeServer(server, now, publicIps));
    });
  }

  /** Gives each server a public address, or answers the one it already has. */
  allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    return this.mutate('AllocatePublicIps', (now) => {
      const serverIds = [...new Set(input.serverIds)];
      const unknown = serverIds.filter((id) => {
        const server = this.inventory.servers.get(id);
        return !server || server.clusterId !== input.clusterId || server.deletedAtMs !== null;
      });
      if (unknown.length > 0) {
        throw new ProviderError('ServerNotFound', `No live server ${unknown.join(', ')} in cluster ${input.clusterId}`);
      }
      const publicIps = this.inventory.publicIpsByServer();
      const needing = serverIds.filter((id) => !publicIps.has(id));
      const ips = freePublicIps(this.inventory.addresses.keys(), needing.length);
      needing.forEach((serverId, i) => {
        const ip = ips[i] ?? '';
        this.inventory.addresses.set(ip, { ip, clusterId: input.clusterId, serverId, allocatedAtMs: now });
        publicIps.set(serverId, ip);
      });
      return Object.fromEntries(serverIds.map((id) => [id, publicIps.get(id) ?? '']));
    });
  }

  /**
   * Stops (or starts) the cluster's listed servers, all or none: a running server goes STOPPING,
   * then STOPPED its drawn `LOCAL_CLOUD_POWER_MS` later (a stopped one BUILD, then ACTIVE). One
   * already stopped or stopping (running or starting) is left as it is. Disks, ports and
   * addresses stay; a stopped server still counts against the quotas.
   */
  changePower(input: { clusterId: string; serverIds: string[]; action: 'stop' | 'start' }): Promise<void> {
    return this.mutate(input.action === 'stop' ? 'StopServers' : 'StartServers', (now) => {
      const ids = [...new Set(input.serverIds)];
      const unknown = ids.filter((id) => {
        const server = this.inventory.servers.get(id);
        return !server || server.clusterId !== input.clusterId || server.deletedAtMs !== null;
      });
      if (unknown.length > 0) throw new ProviderError('ServerNotFound', `No live server ${unknown.join(', ')} in cluster ${input.clusterId}`);
      const servers = ids.map((id) => this.inventory.servers.get(id)).filter((server): server is StoredServer => server !== undefined);
      const from = input.action === 'stop' ? 'ACTIVE' : 'STOPPED';
      // Already there, or on its way there (a start's BUILD, not a first boot's).
      const arriving = (server: StoredServer): boolean => {
        const state = serverState(server, now);
        if (input.action === 'stop') return state === 'STOPPING' || state === 'STOPPED';
        return state === 'ACTIVE' || (state === 'BUILD' && server.power?.action === 'start');
      };
      const moving = servers.filter((server) => !arriving(server));
      const refused = moving.filter((server) => serverState(server, now) !== from);
      if (refused.length > 0) {
        const named = refused.map((server) => `${server.name} is ${serverState(server, now)}`).join(', ');
        throw new ProviderError('InvalidServerState', `Only ${from} servers can be ${input.action === 'stop' ? 'stopped' : 'started'}: ${named}`);
      }
      for (const server of moving) server.power = { action: input.action, atMs: now, ms: this.draw(this.settings.powerMs) };
    });
  }

  /**
   * Starts a configuration run. While the cluster has a run that has not failed, answers that
   * run's id instead, so a retried call never starts a second one; after a failure it starts anew.
   */
  startConfiguration(input: RunInput): Promise<string> {
    return this.mutate('StartConfiguration', (now) =>
      startRun(this.inventory, input, now, {
        drawDurationMs: () => this.draw(this.settings.configMs),
        configFailPattern: this.settings.configFailPattern,
      }),
    );
  }

  /**
   * The nodes whose configuration agent is not online yet, by id: a node's comes online its drawn
   * `agentMs` after the server is ACTIVE. A profile that does nothing on the nodes needs none.
   * The emulated configuration does not refuse to start without them: the container stand-in
   * configures through the same calls, and a container needs no agent.
   */
  describeConfigurationAgents(input: RunInput): Promise<string[]> {
    return this.request('DescribeConfigurationAgents', (now) => offlineAgents(this.inventory, input, now));
  }

  describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    return this.request('DescribeConfiguration', (now) => runStatus(this.inventory, input, now));
  }

  /**
   * Deletes everything of the cluster: servers go DELETING (and vanish after their delete time),
   * public addresses are released at once, networks go once no server is attached. Answers how
   * many resources remain; callers repeat until 0.
   */
  deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    return this.mutate('DeleteCluster', (now) => {
      for (const server of this.inventory.servers.values()) {
        if (server.clusterId === input.clusterId && server.deletedAtMs === null) {
          server.deletedAtMs = now;
          server.deleteMs = this.draw(this.settings.deleteMs);
        }
      }
      this.inventory.sweep(now);
      for (const address of [...this.inventory.addresses.values()]) {
        if (address.clusterId === input.clusterId) this.inventory.addresses.delete(address.ip);
      }
      const attached = new Set(this.inventory.presentServers(now).flatMap((server) => server.ports.map((port) => port.networkId)));
      for (const network of this.inventory.clusterNetworks(input.clusterId)) {
        if (!attached.has(network.id)) this.inventory.networks.delete(network.id);
      }
      const remaining =
        this.inventory.presentServers(now).filter((server) => server.clusterId === input.clusterId).length +
        this.inventory.clusterNetworks(input.clusterId).length;
      if (remaining === 0) {
        for (const run of [...this.inventory.configurations.values()]) {
          if (run.clusterId === input.clusterId) this.inventory.configurations.delete(run.id);
        }
      }
      return { remaining };
    });
  }

  // -- API call plumbing ----------------------------------------------------------------------

  /** A read call: latency, then maybe throttled before anything is looked at. */
  private async request<T>(operation: string, act: (now: number) => T): Promise<T> {
    const latency = this.draw(this.settings.apiLatencyMs);
    if (latency > 0) await sleep(latency);
    if (this.settings.apiErrorRate > 0 && this.random() < this.settings.apiErrorRate) {
      throw new TransientProviderError(
        `${operation} was throttled by the local cloud (LOCAL_CLOUD_API_ERROR_RATE); nothing was done`,
      );
    }
    return act(this.now());
  }

  /** A mutating call answers only once the inventory holding its change is on disk. */
  private async mutate<T>(operation: string, act: (now: number) => T): Promise<T> {
    const result = await this.request(operation, (now) => {
      this.inventory.sweep(now);
      return act(now);
    });
    await this.writer?.write();
    return result;
  }

  private draw(bounds: MsRange): number {
    if (bounds.max <= bounds.min) return bounds.min;
    return Math.round(bounds.min + this.random() * (bounds.max - bounds.min));
  }

  private replayClientToken(
    input: { clusterId: string; clientToken: string; servers: { name: string }[] },
    now: number,
  ): LocalCloudServer[] | null {
    const seen = this.inventory.clientTokens.get(input.clientToken);
    if (!seen) return null;
    const sameRequest =
      seen.clusterId === input.clusterId &&
      seen.servers.length === input.servers.length &&
      seen.servers.every((server, i) => server.name === input.servers[i]?.name);
    if (!sameRequest) {
      throw new ProviderError(
        'IdempotentParameterMismatch',
        `Client token ${input.clientToken} was first used for another request ` +
          `(cluster ${seen.clusterId}, ${seen.servers.length} servers)`,
      );
    }
    const publicIps = this.inventory.publicIpsByServer();
    return seen.servers.map(({ id, name }) => {
      const server = this.inventory.servers.get(id);
      return server && !isGone(server, now) ? describeServer(server, now, publicIps) : deletedServer(id, name, seen.clusterId);
    });
  }
}

function flavorSize(flavor: string): ServerSize {
  const size = parseLocalFlavor(flavor);
  if (!size) {
    throw new ProviderError('FlavorNotFound', `Flavor "${flavor}" does not exist; local flavors are named like c4r8192d40`);
  }
  return size;
}

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
