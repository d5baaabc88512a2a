/**
 * The emulated cloud behind provider `local` (docs/providers.md, docs/local-mode.md): an
 * in-process stand-in for an IaaS API with the properties a workflow has to cope with on a real one — API latency,
 * throttling, boot time, boot failures, quotas, slow deletes — and an inventory that survives a
 * restart of the process.
 *
 * Every state is derived from timestamps (created at + drawn boot time, deleted at + drawn
 * delete time, started at + drawn duration), never driven by timers, so a process that crashes
 * and starts again on the same data directory carries on where it was. No network traffic is
 * ever made: addresses come from 10.0.0.0/8 (private) and 100.64.0.0/10 (public, shared address
 * space that the internet never routes).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError, TransientProviderError, type ErrorDetail } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import { componentsOf, EMPTY_PROFILE, PROFILE_NAMES } from '#domain/profiles';
import type { ConfigurationStatus, ProviderServer, ServerOptions, ServerRequest } from '#domain/provider';

// ---------------------------------------------------------------------------------------------
// Options

/** Inclusive bounds in milliseconds; each use draws uniformly between them. */
export interface MsRange {
  min: number;
  max: number;
}

/** The behaviour knobs, one per `LOCAL_CLOUD_*` variable. */
export interface LocalCloudSettings {
  /** `LOCAL_CLOUD_BOOT_MS`: BUILD → ACTIVE time, drawn per server. */
  bootMs: MsRange;
  /** `LOCAL_CLOUD_CONFIG_MS`: duration of a configuration run, drawn per run. */
  configMs: MsRange;
  /**
   * `LOCAL_CLOUD_AGENT_MS`: how long after a server is ACTIVE its configuration agent comes
   * online (as SSM's registers on ec2), drawn per server; what `describeConfigurationAgents`
   * reports, and so what the workflow waits for.
   */
  agentMs: MsRange;
  /** `LOCAL_CLOUD_DELETE_MS`: time a deleted server stays DELETING, drawn per server. */
  deleteMs: MsRange;
  /** `LOCAL_CLOUD_API_LATENCY_MS`: added to every API call, drawn per call. */
  apiLatencyMs: MsRange;
  /** `LOCAL_CLOUD_MAX_VCPUS`: vCPUs over all live servers. */
  maxVcpus: number;
  /** `LOCAL_CLOUD_MAX_SERVERS`: live servers. */
  maxServers: number;
  /** `LOCAL_CLOUD_FAIL_PATTERN`: servers whose name matches boot into ERROR. */
  failPattern: RegExp | null;
  /** `LOCAL_CLOUD_CONFIG_FAIL_PATTERN`: a configuration run with a matching node name fails. */
  configFailPattern: RegExp | null;
  /** `LOCAL_CLOUD_API_ERROR_RATE`: probability (0..1) that a call is throttled before it does anything. */
  apiErrorRate: number;
}

export interface LocalCloudOptions extends Partial<LocalCloudSettings> {
  /** Where `local-cloud.json` lives; undefined keeps the inventory in memory only. */
  dataDir?: string;
  /** Milliseconds since the epoch; injectable so tests can move time instead of sleeping. */
  now?: () => number;
  /** Uniform in [0, 1); injectable for deterministic draws. */
  random?: () => number;
}

export const DEFAULT_LOCAL_CLOUD_SETTINGS: Readonly<LocalCloudSettings> = {
  bootMs: { min: 1500, max: 4000 },
  configMs: { min: 1000, max: 3000 },
  agentMs: { min: 0, max: 0 },
  deleteMs: { min: 100, max: 400 },
  apiLatencyMs: { min: 2, max: 10 },
  maxVcpus: 4096,
  maxServers: 2000,
  failPattern: null,
  configFailPattern: null,
  apiErrorRate: 0,
};

/** Reads and validates the `LOCAL_CLOUD_*` variables; a bad value throws an error naming the variable. */
export function localCloudOptionsFromEnv(env: NodeJS.ProcessEnv): LocalCloudSettings {
  const defaults = DEFAULT_LOCAL_CLOUD_SETTINGS;
  return {
    bootMs: readRange(env, 'LOCAL_CLOUD_BOOT_MS', defaults.bootMs),
    configMs: readRange(env, 'LOCAL_CLOUD_CONFIG_MS', defaults.configMs),
    agentMs: readRange(env, 'LOCAL_CLOUD_AGENT_MS', defaults.agentMs),
    deleteMs: readRange(env, 'LOCAL_CLOUD_DELETE_MS', defaults.deleteMs),
    apiLatencyMs: readRange(env, 'LOCAL_CLOUD_API_LATENCY_MS', defaults.apiLatencyMs),
    maxVcpus: readCount(env, 'LOCAL_CLOUD_MAX_VCPUS', defaults.maxVcpus),
    maxServers: readCount(env, 'LOCAL_CLOUD_MAX_SERVERS', defaults.maxServers),
    failPattern: readPattern(env, 'LOCAL_CLOUD_FAIL_PATTERN'),
    configFailPattern: readPattern(env, 'LOCAL_CLOUD_CONFIG_FAIL_PATTERN'),
    apiErrorRate: readRate(env, 'LOCAL_CLOUD_API_ERROR_RATE', defaults.apiErrorRate),
  };
}

/** An empty variable counts as unset, as shells and `.env` files make those easily. */
const readEnv = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

function readRange(env: NodeJS.ProcessEnv, name: string, fallback: MsRange): MsRange {
  const raw = readEnv(env, name);
  if (raw === undefined) return { ...fallback };
  const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(raw);
  if (!match) {
    throw new Error(`${name} must be milliseconds, "min-max" or a single number (e.g. 1500-4000); got "${raw}"`);
  }
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min > max) throw new Error(`${name}: the minimum ${min} is above the maximum ${max}`);
  return { min, max };
}

function readCount(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = readEnv(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number ≥ 0; got "${raw}"`);
  return Number(raw);
}

function readRate(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = readEnv(env, name);
  if (raw === undefined) return fallback;
  const rate = /^\d*\.?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`${name} must be a probability between 0 and 1; got "${raw}"`);
  return rate;
}

function readPattern(env: NodeJS.ProcessEnv, name: string): RegExp | null {
  const raw = readEnv(env, name);
  if (raw === undefined) return null;
  try {
    return new RegExp(raw);
  } catch (error) {
    throw new Error(`${name} is not a valid regular expression: ${(error as Error).message}`);
  }
}

/** A caller may hand in a /g or /y pattern, whose `test` would otherwise depend on the previous call. */
const matches = (pattern: RegExp | null, text: string): boolean => {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  return pattern.test(text);
};

// ---------------------------------------------------------------------------------------------
// Flavors: the emulated cloud has every size, named after it, within these bounds.

export interface ServerSize {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export const LOCAL_FLAVOR_LIMITS: Readonly<Record<keyof ServerSize, { min: number; max: number; unit: string }>> = {
  vcpus: { min: 1, max: 128, unit: 'vCPUs' },
  ramMb: { min: 256, max: 1_048_576, unit: 'MiB' },
  diskGb: { min: 1, max: 16_384, unit: 'GB' },
};

/** Largest number of servers one create call may ask for. */
export const LOCAL_CLOUD_MAX_BATCH_SIZE = 50;

export const localFlavorName = (size: ServerSize): string => `c${size.vcpus}r${size.ramMb}d${size.diskGb}`;

/** Why no flavor of this size exists, one detail per offending field; empty when it does. */
export function localFlavorProblems(size: ServerSize): ErrorDetail[] {
  return (Object.keys(LOCAL_FLAVOR_LIMITS) as (keyof ServerSize)[]).flatMap((field) => {
    const { min, max, unit } = LOCAL_FLAVOR_LIMITS[field];
    const value = size[field];
    return Number.isInteger(value) && value >= min && value <= max
      ? []
      : [{ path: field, message: `${field} must be a whole number from ${min} to ${max} ${unit}; got ${value}` }];
  });
}

export function parseLocalFlavor(flavor: string): ServerSize | null {
  const match = /^c(\d+)r(\d+)d(\d+)$/.exec(flavor);
  if (!match) return null;
  const size = { vcpus: Number(match[1]), ramMb: Number(match[2]), diskGb: Number(match[3]) };
  return localFlavorProblems(size).length === 0 ? size : null;
}

// ---------------------------------------------------------------------------------------------
// Where and from what: one region, three zones, a few images by name. A server asked for with
// none of them lands in the first zone from the first image.

export const LOCAL_REGION = 'local';
export const LOCAL_ZONES: readonly string[] = ['local-a', 'local-b', 'local-c'];
export const LOCAL_IMAGES: readonly string[] = ['debian-12', 'ubuntu-24.04', 'rocky-9'];
const DEFAULT_ZONE = LOCAL_ZONES[0] ?? '';
const DEFAULT_IMAGE = LOCAL_IMAGES[0] ?? '';

/** What a create call takes beyond sizes; the region is the endpoint's, not a parameter. */
export type LocalServerOptions = Omit<ServerOptions, 'region'>;

/**
 * Why the cloud refuses these options: each with the code its create call answers and the field
 * of the native body it comes from. Key names are recorded, not checked: this cloud keeps no key pairs.
 */
export function localOptionProblems(options: LocalServerOptions): (ErrorDetail & { code: string })[] {
  const problems: (ErrorDetail & { code: string })[] = [];
  if (options.zone !== undefined && !LOCAL_ZONES.includes(options.zone)) {
    problems.push({ code: 'InvalidZone', path: 'zone', message: `Zone "${options.zone}" does not exist; the local cloud has ${LOCAL_ZONES.join(', ')}` });
  }
  if (options.image !== undefined && !LOCAL_IMAGES.includes(options.image)) {
    problems.push({ code: 'ImageNotFound', path: 'image', message: `Image "${options.image}" does not exist; the local cloud has ${LOCAL_IMAGES.join(', ')}` });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Configuration profiles

interface Profile {
  components: readonly string[];
  /** Whether the run does anything on the nodes (and so takes time and needs their agents). */
  takesTime: boolean;
}

/** The component at which a run with a matching node fails; profiles without it fail at their last. */
const FAILING_COMPONENT = 'hdfs';

const profileNamed = (name: string): Profile => {
  const components = componentsOf(name);
  if (!components) throw new ProviderError('UnknownProfile', `Unknown configuration profile "${name}"; this cloud knows ${PROFILE_NAMES.join(', ')}`);
  return { components, takesTime: name !== EMPTY_PROFILE };
};

// ---------------------------------------------------------------------------------------------
// Addresses

interface Subnet {
  networkId: string;
  /** First address, as a 32-bit number. */
  base: number;
  size: number;
}

/** Servers created without a network land on this one, as on clouds with a default network. */
export const DEFAULT_NETWORK_ID = 'net-default';
const DEFAULT_SUBNET: Subnet = { networkId: DEFAULT_NETWORK_ID, base: ipv4(10, 0, 0, 0), size: 65_536 };
/** Cluster networks are /20s from 10.1.0.0 up: 4080 networks of 4093 hosts each. */
const CLUSTER_SUBNETS = { base: ipv4(10, 1, 0, 0), size: 4096, count: 4080 };
const PUBLIC_POOL = { base: ipv4(100, 64, 0, 0), size: 1 << 22 };

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

const ipToString = (ip: number): string => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');

const ipToNumber = (ip: string): number => {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ipv4(a, b, c, d);
};

/** The `count` lowest numbers in [from, to] not in `used`, or null when there are not enough. */
function lowestFree(used: ReadonlySet<number>, from: number, to: number, count: number): number[] | null {
  const found: number[] = [];
  for (let candidate = from; candidate <= to && found.length < count; candidate += 1) {
    if (!used.has(candidate)) found.push(candidate);
  }
  return found.length === count ? found : null;
}

// ---------------------------------------------------------------------------------------------
// Inventory (what `local-cloud.json` holds)

interface Port {
  networkId: string;
  ip: string;
}

interface StoredServer {
  id: string;
  name: string;
  clusterId: string;
  role: string;
  flavor: string;
  vcpus: number;
  ports: Port[];
  createdAtMs: number;
  bootMs: number;
  /** From ACTIVE to its configuration agent online; absent on servers made before agents: at once. */
  agentMs?: number;
  /** Decided at create, so a restart with other settings does not change a server's fate. */
  fault: string | null;
  deletedAtMs: number | null;
  deleteMs: number | null;
  // What the create call asked for beyond the size. Absent on servers made before the cloud
  // took options: those read as made in the first zone from the first image, with nothing else.
  zone?: string;
  image?: string;
  keyName?: string;
  /** Key into the inventory's `userData`, which holds each distinct user data once. */
  userDataSha256?: string;
  tags?: Record<string, string>;
}

interface StoredNetwork {
  id: string;
  clusterId: string;
  index: number;
  subnet: number;
  cidr: string;
  createdAtMs: number;
  /** Absent on networks made before the cloud took rules: none. */
  securityRules?: SecurityRule[];
}

interface StoredAddress {
  ip: string;
  clusterId: string;
  serverId: string;
  allocatedAtMs: number;
}

interface StoredClientToken {
  token: string;
  clusterId: string;
  servers: { id: string; name: string }[];
  createdAtMs: number;
}

interface ConfigurationNode {
  id: string;
  name: string;
  role: string;
}

interface StoredConfiguration {
  id: string;
  clusterId: string;
  profile: string;
  components: string[];
  nodes: ConfigurationNode[];
  startedAtMs: number;
  durationMs: number;
  /** Decided at start, like a server's fault. */
  failure: { componentIndex: number; node: string } | null;
}

interface InventoryFile {
  version: 1;
  servers: StoredServer[];
  networks: StoredNetwork[];
  addresses: StoredAddress[];
  clientTokens: StoredClientToken[];
  configurations: StoredConfiguration[];
  /**
   * User data by SHA-256, once however many servers were made with it: the file is rewritten on
   * every change, and 1000 servers × 64 KiB would be 64 MB a write. Absent in older files.
   */
  userData?: Record<string, string>;
}

export const INVENTORY_FILE = 'local-cloud.json';

async function readInventory(file: string): Promise<InventoryFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); move it away to start with an empty cloud`);
  }
  const inventory = parsed as Partial<InventoryFile> | null;
  const lists = ['servers', 'networks', 'addresses', 'clientTokens', 'configurations'] as const;
  if (inventory?.version !== 1 || !lists.every((key) => Array.isArray(inventory[key]))) {
    throw new Error(`${file} is not a version 1 local cloud inventory; move it away to start with an empty cloud`);
  }
  return inventory as InventoryFile;
}

// ---------------------------------------------------------------------------------------------
// The cloud

export type LocalServerState = 'BUILD' | 'ACTIVE' | 'ERROR' | 'DELETING';

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

/** A network and its rules, as `listNetworks` shows it. */
export interface LocalCloudNetwork {
  id: string;
  clusterId: string;
  cidr: string;
  securityRules: SecurityRule[];
}

export class LocalCloud {
  readonly settings: Readonly<LocalCloudSettings>;
  private readonly file: string | null;
  private readonly now: () => number;
  private readonly random: () => number;

  private readonly servers = new Map<string, StoredServer>();
  private readonly networks = new Map<string, StoredNetwork>();
  private readonly addresses = new Map<string, StoredAddress>();
  private readonly clientTokens = new Map<string, StoredClientToken>();
  private readonly configurations = new Map<string, StoredConfiguration>();
  private readonly userData = new Map<string, string>();

  /** Every write chains on this, so two mutations never interleave their files. */
  private writes: Promise<void> = Promise.resolve();
  /** A write queued but not started yet; later mutations ride on it instead of queueing more. */
  private queuedWrite: Promise<void> | null = null;

  private constructor(options: LocalCloudOptions) {
    const { dataDir, now, random, ...settings } = options;
    this.settings = { ...DEFAULT_LOCAL_CLOUD_SETTINGS, ...withoutUndefined(settings) };
    this.file = dataDir === undefined ? null : path.join(dataDir, INVENTORY_FILE);
    this.now = now ?? Date.now;
    this.random = random ?? Math.random;
  }

  /** Opens the cloud, loading `<dataDir>/local-cloud.json` when there is one. */
  static async open(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    if (cloud.file) {
      await mkdir(path.dirname(cloud.file), { recursive: true });
      const inventory = await readInventory(cloud.file);
      if (inventory) cloud.load(inventory);
    }
    return cloud;
  }

  /** Waits for pending writes, so the file holds every mutation answered so far. */
  async close(): Promise<void> {
    await this.writes;
  }

  /** Every server still in the inventory (DELETING included); not an API call, so no latency or throttling. */
  listServers(): LocalCloudInventoryItem[] {
    const now = this.now();
    return this.presentServers(now).map((server) => ({
      id: server.id,
      name: server.name,
      clusterId: server.clusterId,
      state: this.serverState(server, now),
      zone: server.zone ?? DEFAULT_ZONE,
      image: server.image ?? DEFAULT_IMAGE,
      keyName: server.keyName ?? null,
      userData: (server.userDataSha256 && this.userData.get(server.userDataSha256)) ?? null,
      tags: { ...server.tags },
      securityRules: this.rulesOf(server),
    }));
  }

  /** Every network still in the inventory with its rules; not an API call either. */
  listNetworks(): LocalCloudNetwork[] {
    return [...this.networks.values()].map((network) => ({
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
      const existing = new Map(this.clusterNetworks(input.clusterId).map((network) => [network.index, network]));
      const missing = range(input.count).filter((index) => !existing.has(index));
      const subnets = lowestFree(
        new Set([...this.networks.values()].map((network) => network.subnet)),
        0,
        CLUSTER_SUBNETS.count - 1,
        missing.length,
      );
      if (!subnets) throw new ProviderError('NetworkQuotaExceeded', 'No private address space left for another network');
      missing.forEach((index, i) => {
        const subnet = subnets[i] ?? 0;
        const network: StoredNetwork = {
          id: `net-${randomUUID()}`,
          clusterId: input.clusterId,
          index,
          subnet,
          cidr: `${ipToString(CLUSTER_SUBNETS.base + subnet * CLUSTER_SUBNETS.size)}/20`,
          createdAtMs: now,
        };
        this.networks.set(network.id, network);
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
      const sizes = input.servers.map((request) => this.flavorSize(request.flavor));
      const subnets = this.subnetsFor(input.clusterId, input.networkIds);
      this.checkQuotas(sizes, now);
      const ports = this.allocatePorts(subnets, input.servers.length, now);
      const userDataSha256 = options.userData ? this.keepUserData(options.userData) : undefined;
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
      for (const server of created) this.servers.set(server.id, server);
      this.clientTokens.set(input.clientToken, {
        token: input.clientToken,
        clusterId: input.clusterId,
        servers: created.map(({ id, name }) => ({ id, name })),
        createdAtMs: now,
      });
      const publicIps = this.publicIpsByServer();
      return created.map((server) => this.describe(server, now, publicIps));
    });
  }

  /** Every server of the cluster that is not gone, in one call. */
  describeServers(input: { clusterId: string }): Promise<LocalCloudServer[]> {
    return this.request('DescribeServers', (now) => {
      const publicIps = this.publicIpsByServer();
      return this.presentServers(now)
        .filter((server) => server.clusterId === input.clusterId)
        .map((server) => this.describe(server, now, publicIps));
    });
  }

  /** Gives each server a public address, or answers the one it already has. */
  allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    return this.mutate('AllocatePublicIps', (now) => {
      const serverIds = [...new Set(input.serverIds)];
      const unknown = serverIds.filter((id) => {
        const server = this.servers.get(id);
        return !server || server.clusterId !== input.clusterId || server.deletedAtMs !== null;
      });
      if (unknown.length > 0) {
        throw new ProviderError('ServerNotFound', `No live server ${unknown.join(', ')} in cluster ${input.clusterId}`);
      }
      const publicIps = this.publicIpsByServer();
      const needing = serverIds.filter((id) => !publicIps.has(id));
      const used = new Set([...this.addresses.keys()].map((ip) => ipToNumber(ip) - PUBLIC_POOL.base));
      const offsets = lowestFree(used, 1, PUBLIC_POOL.size - 2, needing.length);
      if (!offsets) throw new ProviderError('AddressQuotaExceeded', 'The public address pool is exhausted');
      needing.forEach((serverId, i) => {
        const ip = ipToString(PUBLIC_POOL.base + (offsets[i] ?? 0));
        this.addresses.set(ip, { ip, clusterId: input.clusterId, serverId, allocatedAtMs: now });
        publicIps.set(serverId, ip);
      });
      return Object.fromEntries(serverIds.map((id) => [id, publicIps.get(id) ?? '']));
    });
  }

  /**
   * Starts a configuration run. While the cluster has a run that has not failed, answers that
   * run's id instead, so a retried call never starts a second one; after a failure it starts anew.
   */
  startConfiguration(input: { clusterId: string; profile: string; servers: ConfigurationNode[] }): Promise<string> {
    return this.mutate('StartConfiguration', (now) => {
      const runs = [...this.configurations.values()].filter((run) => run.clusterId === input.clusterId);
      const current = runs.find((run) => configurationStatus(run, now).state !== 'FAILED');
      if (current) return current.id;
      const profile = profileNamed(input.profile);
      this.checkNodesReady(input.clusterId, input.servers, now);
      for (const run of runs) this.configurations.delete(run.id);
      const run: StoredConfiguration = {
        id: `cfg-${randomUUID()}`,
        clusterId: input.clusterId,
        profile: input.profile,
        components: [...profile.components],
        nodes: input.servers.map(({ id, name, role }) => ({ id, name, role })),
        startedAtMs: now,
        durationMs: profile.takesTime ? this.draw(this.settings.configMs) : 0,
        failure: this.plannedFailure(profile, input.servers),
      };
      this.configurations.set(run.id, run);
      return run.id;
    });
  }

  /**
   * The nodes whose configuration agent is not online yet, by id: a node's comes online its drawn
   * `agentMs` after the server is ACTIVE. A profile that does nothing on the nodes needs none.
   * The emulated configuration does not refuse to start without them: the container stand-in
   * configures through the same calls, and a container needs no agent.
   */
  describeConfigurationAgents(input: { clusterId: string; profile: string; servers: ConfigurationNode[] }): Promise<string[]> {
    return this.request('DescribeConfigurationAgents', (now) => {
      if (!profileNamed(input.profile).takesTime) return [];
      return input.servers
        .filter((node) => {
          const server = this.servers.get(node.id);
          return !server || server.clusterId !== input.clusterId || !this.agentOnline(server, now);
        })
        .map((node) => node.id);
    });
  }

  describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    return this.request('DescribeConfiguration', (now) => {
      const run = this.configurations.get(input.configurationId);
      if (!run || run.clusterId !== input.clusterId) {
        throw new ProviderError(
          'ConfigurationNotFound',
          `No configuration run ${input.configurationId} for cluster ${input.clusterId}`,
        );
      }
      return configurationStatus(run, now);
    });
  }

  /**
   * Deletes everything of the cluster: servers go DELETING (and vanish after their delete time),
   * public addresses are released at once, networks go once no server is attached. Answers how
   * many resources remain; callers repeat until 0.
   */
  deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    return this.mutate('DeleteCluster', (now) => {
      for (const server of this.servers.values()) {
        if (server.clusterId === input.clusterId && server.deletedAtMs === null) {
          server.deletedAtMs = now;
          server.deleteMs = this.draw(this.settings.deleteMs);
        }
      }
      this.sweep(now);
      for (const address of [...this.addresses.values()]) {
        if (address.clusterId === input.clusterId) this.addresses.delete(address.ip);
      }
      const attached = new Set(this.presentServers(now).flatMap((server) => server.ports.map((port) => port.networkId)));
      for (const network of this.clusterNetworks(input.clusterId)) {
        if (!attached.has(network.id)) this.networks.delete(network.id);
      }
      const remaining =
        this.presentServers(now).filter((server) => server.clusterId === input.clusterId).length +
        this.clusterNetworks(input.clusterId).length;
      if (remaining === 0) {
        for (const run of [...this.configurations.values()]) {
          if (run.clusterId === input.clusterId) this.configurations.delete(run.id);
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
      this.sweep(now);
      return act(now);
    });
    await this.persist();
    return result;
  }

  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    if (this.queuedWrite) return this.queuedWrite;
    const write = this.writes.then(() => {
      this.queuedWrite = null;
      return writeAtomically(file, JSON.stringify(this.snapshot(), null, 2));
    });
    this.queuedWrite = write;
    this.writes = write.catch(() => undefined);
    return write;
  }

  private draw(bounds: MsRange): number {
    if (bounds.max <= bounds.min) return bounds.min;
    return Math.round(bounds.min + this.random() * (bounds.max - bounds.min));
  }

  // -- servers --------------------------------------------------------------------------------

  private isGone(server: StoredServer, now: number): boolean {
    return server.deletedAtMs !== null && now >= server.deletedAtMs + (server.deleteMs ?? 0);
  }

  private serverState(server: StoredServer, now: number): LocalServerState {
    if (server.deletedAtMs !== null) return 'DELETING';
    if (now < server.createdAtMs + server.bootMs) return 'BUILD';
    return server.fault === null ? 'ACTIVE' : 'ERROR';
  }

  private agentOnline(server: StoredServer, now: number): boolean {
    return this.serverState(server, now) === 'ACTIVE' && now >= server.createdAtMs + server.bootMs + (server.agentMs ?? 0);
  }

  private presentServers(now: number): StoredServer[] {
    return [...this.servers.values()].filter((server) => !this.isGone(server, now));
  }

  /** Forgets servers whose delete time has passed; their private addresses and user data go with them. */
  private sweep(now: number): void {
    let forgot = false;
    for (const server of [...this.servers.values()]) {
      if (this.isGone(server, now)) {
        this.servers.delete(server.id);
        forgot = true;
      }
    }
    if (forgot && this.userData.size > 0) {
      const used = new Set([...this.servers.values()].map((server) => server.userDataSha256));
      for (const sha of [...this.userData.keys()]) if (!used.has(sha)) this.userData.delete(sha);
    }
  }

  private keepUserData(userData: string): string {
    const sha = createHash('sha256').update(userData).digest('hex');
    this.userData.set(sha, userData);
    return sha;
  }

  /** The rules of every network the server has a port on, each once. */
  private rulesOf(server: StoredServer): SecurityRule[] {
    return withoutRepeats(server.ports.flatMap((port) => this.networks.get(port.networkId)?.securityRules ?? []));
  }

  private describe(server: StoredServer, now: number, publicIps: ReadonlyMap<string, string>): LocalCloudServer {
    const state = this.serverState(server, now);
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

  private publicIpsByServer(): Map<string, string> {
    return new Map([...this.addresses.values()].map((address) => [address.serverId, address.ip]));
  }

  private replayClientToken(
    input: { clusterId: string; clientToken: string; servers: { name: string }[] },
    now: number,
  ): LocalCloudServer[] | null {
    const seen = this.clientTokens.get(input.clientToken);
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
    const publicIps = this.publicIpsByServer();
    return seen.servers.map(({ id, name }) => {
      const server = this.servers.get(id);
      if (server && !this.isGone(server, now)) return this.describe(server, now, publicIps);
      // The cluster was deleted since; say so rather than pretend the servers exist.
      const gone: LocalCloudServer = {
        id,
        name,
        clusterId: seen.clusterId,
        role: '',
        flavor: '',
        state: 'DELETED',
        privateIp: null,
        publicIp: null,
      };
      return gone;
    });
  }

  private flavorSize(flavor: string): ServerSize {
    const size = parseLocalFlavor(flavor);
    if (!size) {
      throw new ProviderError('FlavorNotFound', `Flavor "${flavor}" does not exist; local flavors are named like c4r8192d40`);
    }
    return size;
  }

  private checkQuotas(sizes: ServerSize[], now: number): void {
    const live = this.presentServers(now);
    const servers = { used: live.length, requested: sizes.length, limit: this.settings.maxServers };
    const vcpus = {
      used: live.reduce((sum, server) => sum + server.vcpus, 0),
      requested: sizes.reduce((sum, size) => sum + size.vcpus, 0),
      limit: this.settings.maxVcpus,
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

  // -- networks and addresses -----------------------------------------------------------------

  private clusterNetworks(clusterId: string): StoredNetwork[] {
    return [...this.networks.values()]
      .filter((network) => network.clusterId === clusterId)
      .sort((a, b) => a.index - b.index);
  }

  private subnetsFor(clusterId: string, networkIds: string[]): Subnet[] {
    if (networkIds.length === 0) return [DEFAULT_SUBNET];
    return networkIds.map((networkId) => {
      const network = this.networks.get(networkId);
      if (!network || network.clusterId !== clusterId) {
        throw new ProviderError('NetworkNotFound', `No network ${networkId} in cluster ${clusterId}`);
      }
      return { networkId, base: CLUSTER_SUBNETS.base + network.subnet * CLUSTER_SUBNETS.size, size: CLUSTER_SUBNETS.size };
    });
  }

  /**
   * One port per subnet for each of `count` servers. Host .0 (network), .1 (gateway) and the
   * last (broadcast) stay free, as on a real subnet.
   */
  private allocatePorts(subnets: Subnet[], count: number, now: number): Port[][] {
    const ports: Port[][] = range(count).map(() => []);
    const present = this.presentServers(now);
    for (const subnet of subnets) {
      const used = new Set(
        present
          .flatMap((server) => server.ports)
          .filter((port) => port.networkId === subnet.networkId)
          .map((port) => ipToNumber(port.ip) - subnet.base),
      );
      const hosts = lowestFree(used, 2, subnet.size - 2, count);
      if (!hosts) throw new ProviderError('AddressSpaceExhausted', `Network ${subnet.networkId} has no free address left`);
      hosts.forEach((host, i) => ports[i]?.push({ networkId: subnet.networkId, ip: ipToString(subnet.base + host) }));
    }
    return ports;
  }

  // -- configuration --------------------------------------------------------------------------

  private checkNodesReady(clusterId: string, nodes: ConfigurationNode[], now: number): void {
    const notReady = nodes.filter((node) => {
      const server = this.servers.get(node.id);
      return !server || server.clusterId !== clusterId || this.serverState(server, now) !== 'ACTIVE';
    });
    if (notReady.length > 0) {
      throw new ProviderError(
        'ServerNotReady',
        `Configuration needs running servers; not ACTIVE in cluster ${clusterId}: ` +
          notReady.map((node) => node.name).join(', '),
      );
    }
  }

  private plannedFailure(profile: Profile, nodes: ConfigurationNode[]): StoredConfiguration['failure'] {
    const node = nodes.find((candidate) => matches(this.settings.configFailPattern, candidate.name));
    if (!node) return null;
    const index = profile.components.indexOf(FAILING_COMPONENT);
    return { componentIndex: index >= 0 ? index : profile.components.length - 1, node: node.name };
  }

  // -- persistence ----------------------------------------------------------------------------

  private load(inventory: InventoryFile): void {
    for (const server of inventory.servers) this.servers.set(server.id, server);
    for (const network of inventory.networks) this.networks.set(network.id, network);
    for (const address of inventory.addresses) this.addresses.set(address.ip, address);
    for (const token of inventory.clientTokens) this.clientTokens.set(token.token, token);
    for (const run of inventory.configurations) this.configurations.set(run.id, run);
    for (const [sha, userData] of Object.entries(inventory.userData ?? {})) this.userData.set(sha, userData);
  }

  private snapshot(): InventoryFile {
    return {
      version: 1,
      servers: [...this.servers.values()],
      networks: [...this.networks.values()],
      addresses: [...this.addresses.values()],
      clientTokens: [...this.clientTokens.values()],
      configurations: [...this.configurations.values()],
      userData: Object.fromEntries(this.userData),
    };
  }
}

/** The rules in order, each first one only (rules are normal, so equal ones serialize alike). */
function withoutRepeats(rules: SecurityRule[]): SecurityRule[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = JSON.stringify(rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A rule with its fields in one order and no empty ones, so equal rules compare equal. */
function normalRule(rule: SecurityRule): SecurityRule {
  return {
    direction: rule.direction,
    protocol: rule.protocol,
    ethertype: rule.ethertype,
    remoteIpPrefix: rule.remoteIpPrefix,
    ...(rule.portRangeMin === undefined ? {} : { portRangeMin: rule.portRangeMin }),
    ...(rule.portRangeMax === undefined ? {} : { portRangeMax: rule.portRangeMax }),
  };
}

/**
 * Progress moves through the components evenly over the run's duration, on every node at once.
 * A run with a failing node stops at the failed component, as `run-profile.sh` does: the other
 * nodes never reach the end, so they stay RUNNING however late the run is described.
 */
function configurationStatus(run: StoredConfiguration, now: number): ConfigurationStatus {
  const components = run.components;
  const last = components.length - 1;
  const slotMs = run.durationMs / components.length;
  const elapsed = now - run.startedAtMs;
  const othersState = !run.failure && elapsed >= run.durationMs ? 'SUCCEEDED' : 'RUNNING';
  const nodes = (failed?: { node: string; message: string }): ConfigurationStatus['nodes'] =>
    Object.fromEntries(
      run.nodes.map((node) => [node.name, node.name === failed?.node ? { state: 'FAILED' as const, message: failed.message } : { state: othersState }]),
    );
  if (run.failure && elapsed >= slotMs * (run.failure.componentIndex + 1)) {
    const component = components[run.failure.componentIndex] ?? '';
    const why = `${component} failed (LOCAL_CLOUD_CONFIG_FAIL_PATTERN matched the node name)`;
    return {
      state: 'FAILED',
      component,
      failedNode: run.failure.node,
      message: `${component} failed on ${run.failure.node} (LOCAL_CLOUD_CONFIG_FAIL_PATTERN matched the node name)`,
      nodes: nodes({ node: run.failure.node, message: why }),
    };
  }
  if (elapsed >= run.durationMs) {
    return {
      state: 'SUCCEEDED',
      component: components[last] ?? '',
      message: `Profile ${run.profile} applied to ${run.nodes.length} node(s)`,
      nodes: nodes(),
    };
  }
  const index = Math.min(Math.max(Math.floor(elapsed / slotMs), 0), last);
  return { state: 'RUNNING', component: components[index] ?? '', nodes: nodes() };
}

const bootFault = (name: string): string =>
  `No valid host was found for ${name}: the server failed to boot (LOCAL_CLOUD_FAIL_PATTERN matched its name)`;

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

/** Temp file + rename, so a crash mid-write leaves the previous inventory intact. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
