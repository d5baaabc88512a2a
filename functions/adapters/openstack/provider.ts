/**
 * Provider `openstack` (docs/openstack-provider.md): the cloud port over Keystone, Nova, Neutron,
 * Glance and Cinder. Made with `OpenStackProvider.connect`, which logs in and reads the flavor
 * catalogue once, since the port's flavor calls answer at once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { ProviderError, type ErrorDetail } from '#domain/errors';
import type { CloudQuotaAmount } from '#domain/cloud-quota';
import type {
  CloudProvider,
  CloudQuotaInput,
  ConfigurationStatus,
  CreateNetworksInput,
  CreateServersInput,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  ServerSize,
} from '#domain/provider';
import { clientTags } from '#domain/tags';
import { forEachConcurrently } from '#lib/batching';
import { ConfigError } from '#lib/config';
import { cloudInitOnlyRuns } from '../cloud-init-only.ts';
import { deleteClusterRound } from './cleanup.ts';
import { ClusterNetwork } from './cluster-network.ts';
import { Compute, type Flavor } from './compute.ts';
import { bootVolumeGb, flavorNamed, smallestFlavor } from './flavors.ts';
import { Session } from './http.ts';
import { Identity } from './identity.ts';
import { Images } from './image.ts';
import { clusterTag, nameTag, tokenTag } from './naming.ts';
import { Network } from './network.ts';
import { describeQuota } from './quota.ts';
import { isDeleting, MAX_CLIENT_METADATA, MAX_CLIENT_USER_DATA_BASE64, MAX_METADATA_VALUE, MAX_USER_DATA_BASE64, METADATA_KEY, serverBody, toProviderServer } from './servers.ts';
import type { OpenStackSettings } from './settings.ts';
import { Volumes } from './volume.ts';

export interface OpenStackProviderOptions {
  /** Value of the `managed-by` tag on everything made. @default 'cluster-service' */
  serviceTag?: string;
  /** Servers per create call; each is one `POST /servers`, one after the other. @default 10 */
  maxBatchSize?: number;
  /** @default { expectedBootSeconds: 30, expectedConfigurationSeconds: 300 } */
  timings?: Partial<ProviderTimings>;
  /** The disk a flavor without one (disk 0) is described with, and boots a volume of. @default 20 */
  defaultDiskGb?: number;
  /** The /16 the clusters' /24 subnets are cut from. @default '10.42.0.0/16' */
  networkCidr?: string;
  /** Servers and flavors per page. @default 1000 (Nova's own largest page by default) */
  pageSize?: number;
  /** @default 30000 */
  requestTimeoutMs?: number;
  /** The most one call waits in all for a service that answered 413/429 with Retry-After. @default 10000 */
  maxRetryWaitMs?: number;
  /** A token is renewed this long before it expires. @default 300000 */
  renewTokenBeforeMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default Date.now */
  now?: () => number;
  /** @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

const optionsSchema = z.object({
  serviceTag: z
    .string()
    .regex(/^[A-Za-z0-9._+=@-]{1,40}$/, 'must be 1-40 letters, digits or ._+=@-')
    .default('cluster-service'),
  maxBatchSize: z.int().min(1).max(50).default(10),
  timings: z.object({ expectedBootSeconds: z.number().positive(), expectedConfigurationSeconds: z.number().positive() }).partial().default({}),
  defaultDiskGb: z.int().min(1).max(16_384).default(20),
  networkCidr: z
    .string()
    .regex(/^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/, 'must be a /16 such as 10.42.0.0/16')
    .default('10.42.0.0/16'),
  pageSize: z.int().min(1).max(1000).default(1000),
  requestTimeoutMs: z.int().positive().default(30_000),
  maxRetryWaitMs: z.int().min(0).default(10_000),
  renewTokenBeforeMs: z.int().min(0).default(300_000),
});

const DEFAULT_TIMINGS: ProviderTimings = { expectedBootSeconds: 30, expectedConfigurationSeconds: 300 };
/** The profile that configures nothing: the only one the provider runs itself. */

interface Connected {
  settings: OpenStackSettings;
  options: z.infer<typeof optionsSchema>;
  session: Session;
  compute: Compute;
  flavors: Flavor[];
  zones: string[] | null;
  region: string | undefined;
}

/** Nova takes one server per os-stop or os-start: this many at a time. */
const POWER_CONCURRENCY = 5;

export class OpenStackProvider implements CloudProvider {
  readonly name = 'openstack';
  /** Its servers are configured by the cloud-init runner: it runs only `none` itself. */
  private readonly ownRuns = cloudInitOnlyRuns(this.name);
  // An ECS task runs in the deployment's VPC: no Neutron network of the cluster is something it
  // can join, so it reaches the master's floating IP and the other nodes through the master.
  readonly configurationNetwork = 'through-master';
  // No run-command service: the nodes configure themselves, or a container reaches them.
  readonly configurationRunners = ['cloud-init', 'container'] as const;
  readonly maxBatchSize: number;
  readonly timings: ProviderTimings;
  readonly inventoryVars: Readonly<Record<string, unknown>>;

  private readonly settings: OpenStackSettings;
  private readonly serviceTag: string;
  private readonly defaultDiskGb: number;
  private readonly flavors: Flavor[];
  private readonly zones: string[] | null;
  /** The region of the endpoints in use: the settings', or the catalog's when they name none. */
  private readonly region: string | undefined;
  private readonly compute: Compute;
  private readonly network: Network;
  private readonly clusterNetwork: ClusterNetwork;
  private readonly images: Images;
  private readonly volumes: Volumes;
  private readonly session: Session;

  /** Logs in, reads the flavors and zones, and answers a provider ready to use. */
  static async connect(settings: OpenStackSettings, options: OpenStackProviderOptions = {}): Promise<OpenStackProvider> {
    const { fetch: fetcher = globalThis.fetch, now = Date.now, sleep = (ms: number) => delay(ms), ...data } = options;
    const parsed = optionsSchema.safeParse(data);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
      throw new ConfigError(`invalid openstack provider options: ${problems.join('; ')}`);
    }
    const identity = new Identity(settings, { fetch: fetcher, now, renewBeforeMs: parsed.data.renewTokenBeforeMs, timeoutMs: parsed.data.requestTimeoutMs });
    const session = new Session(identity, { fetch: fetcher, sleep, now, timeoutMs: parsed.data.requestTimeoutMs, maxRetryWaitMs: parsed.data.maxRetryWaitMs });
    const compute = new Compute(session, parsed.data.pageSize);
    const flavors = await compute.flavors();
    const zones = await compute.zones();
    const region = settings.region ?? (await session.region('compute'));
    return new OpenStackProvider({ settings, options: parsed.data, session, compute, flavors, zones, region });
  }

  private constructor(connected: Connected) {
    const { options, session } = connected;
    this.settings = connected.settings;
    this.inventoryVars = { ansible_user: connected.settings.loginUser };
    this.serviceTag = options.serviceTag;
    this.maxBatchSize = options.maxBatchSize;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.defaultDiskGb = options.defaultDiskGb;
    this.flavors = connected.flavors;
    this.zones = connected.zones;
    this.region = connected.region;
    this.compute = connected.compute;
    this.network = new Network(session);
    const [, a, b] = /^(\d+)\.(\d+)\./.exec(options.networkCidr) ?? [];
    this.clusterNetwork = new ClusterNetwork(this.network, { serviceTag: options.serviceTag, externalNetwork: this.settings.externalNetwork, addressPrefix: `${a}.${b}` });
    this.images = new Images(session);
    this.volumes = new Volumes(session);
    this.session = session;
  }

  resolveFlavor(size: ServerSize): string {
    return smallestFlavor(this.flavors, size).name;
  }

  describeFlavor(flavor: string): ServerSize | null {
    const found = flavorNamed(this.flavors, flavor);
    return found ? { vcpus: found.vcpus, ramMb: found.ramMb, diskGb: found.diskGb || this.defaultDiskGb } : null;
  }

  /**
   * What Nova would refuse: another region, a zone it does not list, user data over its limit,
   * tags that are not valid server metadata. Images and key pairs are looked up only when servers
   * are made (`ImageNotFound`, `KeyPairNotFound`). Every security rule is honoured.
   */
  checkOptions(input: ProviderSpecOptions): ErrorDetail[] {
    const { options } = input;
    const details: ErrorDetail[] = [];
    if (options.region !== undefined && this.region !== undefined && options.region !== this.region) {
      details.push({ path: 'region', message: `region ${options.region} is not served here: this deployment's openstack provider works in ${this.region}` });
    }
    if (options.zone !== undefined && this.zones !== null && !this.zones.includes(options.zone)) {
      details.push({ path: 'zone', message: `must be an availability zone of this cloud: ${this.zones.join(', ') || 'none is listed'}` });
    }
    if (options.userData !== undefined && options.userData.length > MAX_CLIENT_USER_DATA_BASE64) {
      details.push({
        path: 'userData',
        message: `at most ${MAX_CLIENT_USER_DATA_BASE64} characters of base64 on openstack: Nova takes ${MAX_USER_DATA_BASE64}, and the cloud-init runner's agent goes with it`,
      });
    }
    const tags = clientTags(options.tags);
    if (tags.length > MAX_CLIENT_METADATA) details.push({ path: 'tags', message: `at most ${MAX_CLIENT_METADATA} on openstack (server metadata items)` });
    for (const [key, value] of tags) {
      if (!METADATA_KEY.test(key)) details.push({ path: `tags.${key}`, message: 'openstack metadata keys are letters, digits, spaces and - _ : . only' });
      else if (value.length > MAX_METADATA_VALUE) details.push({ path: `tags.${key}`, message: `openstack metadata values are at most ${MAX_METADATA_VALUE} characters` });
    }
    return details;
  }

  /** Nova's limits, Neutron's quota details and Cinder's quota set (where the catalog has it), against the plan. */
  describeQuota(input: CloudQuotaInput): Promise<Record<string, CloudQuotaAmount>> {
    return describeQuota({ session: this.session, flavors: this.flavors, externalNetwork: Boolean(this.settings.externalNetwork) }, input);
  }

  createNetworks(input: CreateNetworksInput): Promise<string[]> {
    return this.clusterNetwork.ensure(input);
  }

  /**
   * Lists the servers this call made before (by the cluster's tag and the call's token tag) and
   * adopts them by name; makes each missing one with its own `POST /servers`. A retry after a
   * lost answer therefore finds the server Nova made instead of making a second one.
   */
  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    if (input.servers.length === 0) return [];
    if (input.servers.length > this.maxBatchSize) {
      throw new ProviderError('BatchTooLarge', `A create call takes at most ${this.maxBatchSize} servers; this one asked for ${input.servers.length}`);
    }
    const options = input.options ?? {};
    if (options.region !== undefined && this.region !== undefined && options.region !== this.region) {
      throw new ProviderError('UnsupportedRegion', `region ${options.region} is not served here: this deployment's openstack provider works in ${this.region}`);
    }
    const flavors = new Map(input.servers.map((server) => [server.flavor, flavorNamed(this.flavors, server.flavor)]));
    const tooLarge = input.servers.filter((server) => (server.userData ?? options.userData ?? '').length > MAX_USER_DATA_BASE64).map((server) => server.name);
    if (tooLarge.length > 0) throw new ProviderError('UserDataTooLarge', `Nova takes at most ${MAX_USER_DATA_BASE64} characters of base64 user data: ${tooLarge.join(', ')}`);
    const unknown = [...flavors].filter(([, flavor]) => !flavor).map(([name]) => name);
    if (unknown.length > 0) throw new ProviderError('FlavorNotFound', `Not a flavor of this cloud: ${unknown.join(', ')}`);
    const image = await this.images.resolve(options.image ?? this.settings.image);
    // Nova accepts a volume-backed server without Cinder and fails its build on the host: refused here instead.
    const onVolume = input.servers.find((server) => bootVolumeGb(flavors.get(server.flavor) as Flavor, server.diskGb, image.minDiskGb) !== undefined);
    if (onVolume && !(await this.volumes.available())) {
      throw new ProviderError(
        'VolumeServiceUnavailable',
        `${onVolume.name} needs a boot volume (${onVolume.diskGb} GB on flavor ${onVolume.flavor}), but the cloud's catalog has no Cinder: choose a flavor with the disk`,
      );
    }
    const group = input.networkIds.length > 0 ? await this.clusterNetwork.securityGroup(input.clusterId) : undefined;
    if (input.networkIds.length > 0 && !group) {
      throw new ProviderError('SecurityGroupNotFound', `The security group of cluster ${input.clusterId} is missing: its networks were made without it`);
    }
    const made = (await this.compute.servers([clusterTag(input.clusterId), tokenTag(input.clientToken)])).filter((server) => !isDeleting(server));
    const context = {
      clusterId: input.clusterId,
      clientToken: input.clientToken,
      serviceTag: this.serviceTag,
      networkIds: input.networkIds,
      securityGroupId: group?.id,
      image,
      keyName: options.keyName ?? this.settings.keyName,
      options,
    };
    const servers: ProviderServer[] = [];
    for (const server of input.servers) {
      const adopted = made.find((candidate) => (candidate.tags ?? []).includes(nameTag(server.name)));
      if (adopted) {
        servers.push(toProviderServer(adopted, input.clusterId));
        continue;
      }
      const { id } = await this.compute.create(serverBody(context, server, flavors.get(server.flavor) as Flavor));
      servers.push({ id, name: server.name, state: 'BUILD', privateIp: null, publicIp: null });
    }
    return servers;
  }

  /**
   * Every server with the cluster's tag: one `GET /servers/detail`, paged, never one call per
   * server; only a server in ERROR that the list shows without its fault is asked for it.
   */
  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    const servers = await this.compute.withFaults(await this.compute.servers([clusterTag(input.clusterId)]));
    return servers.map((server) => toProviderServer(server, input.clusterId));
  }

  allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    return this.clusterNetwork.allocatePublicIps(input.clusterId, input.serverIds);
  }

  /**
   * OpenStack has no run-command service: its servers are configured by the cloud-init runner
   * (their user data), which the workflow drives. The provider itself runs only `none`.
   */
  startConfiguration(input: { clusterId: string; profile: string }): Promise<string> {
    return this.ownRuns.start(input);
  }

  describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    return this.ownRuns.describe(input);
  }

  /** `os-stop` per server, a few at a time; disks, ports and floating IPs stay with them. */
  async stopServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    await forEachConcurrently([...new Set(input.serverIds)], POWER_CONCURRENCY, async (id) => {
      await this.compute.power(id, 'stop');
    });
  }

  /** `os-start` per server, a few at a time. */
  async startServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    await forEachConcurrently([...new Set(input.serverIds)], POWER_CONCURRENCY, async (id) => {
      await this.compute.power(id, 'start');
    });
  }

  async deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    return { remaining: await deleteClusterRound({ compute: this.compute, network: this.network, volumes: this.volumes }, input.clusterId) };
  }
}
