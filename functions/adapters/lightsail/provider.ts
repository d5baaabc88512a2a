/**
 * Provider `lightsail` (docs/lightsail-provider.md): the cloud port over Amazon Lightsail
 * instances, configured by the cloud-init runner (Lightsail has no run-command service).
 */
import {
  AllocateStaticIpCommand,
  AttachStaticIpCommand,
  CreateInstancesCommand,
  DeleteInstanceCommand,
  GetBlueprintsCommand,
  GetBundlesCommand,
  GetInstancesCommand,
  GetStaticIpCommand,
  GetStaticIpsCommand,
  LightsailClient,
  PutInstancePublicPortsCommand,
  ReleaseStaticIpCommand,
  type AddOnRequest,
  type Instance,
  type PortInfo,
  type StaticIp,
  type Tag,
} from '@aws-sdk/client-lightsail';
import { ProviderError, type ErrorDetail } from '#domain/errors';
import type {
  CloudProvider,
  ConfigurationStatus,
  CreateNetworksInput,
  CreateServersInput,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  ServerSize,
} from '#domain/provider';
import type { SecurityRule } from '#domain/model';
import { KNOWN_BUNDLES, activeLinuxBundles, chooseBundle, smallestKnownBundle, type BundleSize } from './bundles.ts';
import { isNameInUse, lightsailError } from './errors.ts';
import { DEFAULT_TIMINGS, lightsailSettings, type LightsailSettings, type LightsailSettingsInput } from './settings.ts';

export const CLUSTER_TAG = 'cluster-id';
export const SERVICE_TAG_KEY = 'managed-by';
/** The client tag that asks for Lightsail's automatic snapshot add-on: `{"lightsail:auto-snapshot": "HH:00"}`. */
export const AUTO_SNAPSHOT_TAG = 'lightsail:auto-snapshot';
const NONE_RUN = 'none';

export interface LightsailProviderOptions extends LightsailSettingsInput {
  client?: LightsailClient;
}

/** The Lightsail name of a cluster's server: Lightsail names are unique per region, so the cluster id leads. */
export const instanceName = (clusterId: string, serverName: string): string => `${clusterId}-${serverName}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 255);
export const staticIpName = (instance: string): string => `${instance}-ip`.slice(0, 255);

const tagValue = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((tag) => tag.key === key)?.value;

const STATES: Record<string, ProviderServer['state']> = {
  pending: 'BUILD',
  running: 'ACTIVE',
  stopping: 'ERROR',
  stopped: 'ERROR',
  'shutting-down': 'DELETING',
  terminated: 'DELETED',
};

export const toServer = (instance: Instance): ProviderServer => {
  const state = STATES[instance.state?.name ?? ''] ?? 'ERROR';
  return {
    id: instance.name ?? '',
    name: instance.name ?? '',
    state,
    privateIp: instance.privateIpAddress ?? null,
    publicIp: instance.isStaticIp ? (instance.publicIpAddress ?? null) : null,
    ...(state === 'ERROR' ? { fault: `instance is ${instance.state?.name ?? 'in an unknown state'}` } : {}),
  };
};

/** The ingress rules as Lightsail's public ports (Lightsail has no egress rules: everything goes out). */
export const portInfos = (rules: readonly SecurityRule[]): PortInfo[] =>
  rules
    .filter((rule) => rule.direction === 'ingress')
    .map((rule) => {
      const protocol = rule.protocol === 'any' || rule.protocol === '-1' ? 'all' : rule.protocol;
      const all = protocol === 'all' || protocol === 'icmp';
      return {
        protocol: protocol as PortInfo['protocol'],
        fromPort: all ? (protocol === 'icmp' ? -1 : 0) : (rule.portRangeMin ?? 0),
        toPort: all ? (protocol === 'icmp' ? -1 : 65_535) : (rule.portRangeMax ?? rule.portRangeMin ?? 65_535),
        ...(rule.ethertype === 'IPv6' ? { ipv6Cidrs: [rule.remoteIpPrefix] } : { cidrs: [rule.remoteIpPrefix] }),
      };
    });

export class LightsailProvider implements CloudProvider {
  readonly name = 'lightsail';
  readonly configurationNetwork = 'through-master';
  readonly configurationRunners = ['cloud-init'] as const;
  readonly maxBatchSize: number;
  readonly timings: ProviderTimings;
  readonly inventoryVars: Readonly<Record<string, unknown>>;
  readonly settings: LightsailSettings;
  private readonly client: LightsailClient;

  constructor(options: LightsailProviderOptions) {
    const { client, ...data } = options;
    this.settings = lightsailSettings(data);
    this.maxBatchSize = this.settings.maxBatchSize;
    this.timings = { ...DEFAULT_TIMINGS, ...this.settings.timings };
    this.inventoryVars = { ansible_user: this.settings.loginUser };
    this.client =
      client ??
      new LightsailClient({
        ...(this.settings.region ? { region: this.settings.region } : {}),
        ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
        retryMode: 'adaptive',
      });
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw lightsailError(operation, error);
    }
  }

  resolveFlavor(size: ServerSize): string {
    return smallestKnownBundle(size).id;
  }

  describeFlavor(flavor: string): ServerSize | null {
    const bundle = KNOWN_BUNDLES.find((candidate) => candidate.id === flavor);
    return bundle ? { vcpus: bundle.vcpus, ramMb: bundle.ramMb, diskGb: bundle.diskGb } : null;
  }

  checkOptions(input: ProviderSpecOptions): ErrorDetail[] {
    const details: ErrorDetail[] = [];
    if (input.privateNetworks > 1) {
      details.push({ path: 'network.privateNetworks', message: 'lightsail has no private networks of its own: its instances share the region\'s private network, so at most 1' });
    }
    const { region, zone, image } = input.options;
    if (region !== undefined && this.settings.region !== undefined && region !== this.settings.region) {
      details.push({ path: 'region', message: `lightsail works in ${this.settings.region} only` });
    }
    if (zone !== undefined && !zone.startsWith(region ?? this.settings.region ?? '')) {
      details.push({ path: 'zone', message: 'must be a zone of the region' });
    }
    if (image !== undefined && !/^[a-z0-9_.-]{1,64}$/.test(image)) details.push({ path: 'image', message: 'must be a Lightsail blueprint id' });
    const snapshot = input.options.tags?.[AUTO_SNAPSHOT_TAG];
    if (snapshot !== undefined && !/^([01]\d|2[0-3]):00$/.test(snapshot)) {
      details.push({ path: `tags.${AUTO_SNAPSHOT_TAG}`, message: 'must be a time of day HH:00 (UTC)' });
    }
    input.securityRules.forEach((rule, index) => {
      if (rule.direction !== 'ingress') {
        details.push({ path: `network.securityRules.${index}.direction`, message: 'lightsail instances have inbound rules only (public ports); all outbound traffic is allowed' });
      }
      if (!['tcp', 'udp', 'icmp', 'all', 'any', '-1'].includes(rule.protocol)) {
        details.push({ path: `network.securityRules.${index}.protocol`, message: 'lightsail public ports take tcp, udp, icmp or all' });
      }
    });
    return details;
  }

  /** Lightsail has no private networks to make: the instances' own private addresses serve the cluster. */
  async createNetworks(input: CreateNetworksInput): Promise<string[]> {
    if (input.count > 1) throw new ProviderError('InvalidSpec', 'lightsail has at most 1 private network (network.privateNetworks)');
    return input.count === 1 ? [`lightsail-${input.clusterId}`] : [];
  }

  private zone(): string {
    if (this.settings.zone) return this.settings.zone;
    const region = this.settings.region ?? process.env.AWS_REGION;
    if (!region) throw new ProviderError('LightsailInvalidInput', 'no region: set AWS_REGION or LIGHTSAIL_ZONE');
    return `${region}a`;
  }

  private async blueprintMinPower(blueprintId: string): Promise<number> {
    let pageToken: string | undefined;
    do {
      const page = await this.call('GetBlueprints', () => this.client.send(new GetBlueprintsCommand({ includeInactive: false, ...(pageToken ? { pageToken } : {}) })));
      const blueprint = page.blueprints?.find((candidate) => candidate.blueprintId === blueprintId);
      if (blueprint) {
        if (blueprint.isActive === false) throw new ProviderError('LightsailInvalidInput', `blueprint ${blueprintId} is not active`);
        return blueprint.minPower ?? 0;
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    throw new ProviderError('LightsailNotFound', `no active Lightsail blueprint ${blueprintId}`);
  }

  private async activeBundles(): Promise<BundleSize[]> {
    const bundles: BundleSize[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('GetBundles', () => this.client.send(new GetBundlesCommand({ includeInactive: false, ...(pageToken ? { pageToken } : {}) })));
      bundles.push(...activeLinuxBundles(page.bundles ?? []));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return bundles;
  }

  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    const options = input.options ?? {};
    const blueprintId = options.image ?? this.settings.blueprintId;
    const minPower = await this.blueprintMinPower(blueprintId);
    const bundles = await this.activeBundles();
    const tags: Tag[] = [
      ...Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
      { key: SERVICE_TAG_KEY, value: this.settings.serviceTag },
      { key: CLUSTER_TAG, value: input.clusterId },
    ];
    const snapshot = options.tags?.[AUTO_SNAPSHOT_TAG];
    const addOns: AddOnRequest[] = snapshot ? [{ addOnType: 'AutoSnapshot', autoSnapshotAddOnRequest: { snapshotTimeOfDay: snapshot } }] : [];
    const keyPairName = options.keyName ?? this.settings.keyPairName;
    const availabilityZone = options.zone ?? this.zone();
    // One CreateInstances per distinct (bundle, user data): Lightsail takes one of each per call.
    const groups = new Map<string, { bundleId: string; userData: string | undefined; names: string[] }>();
    for (const server of input.servers) {
      const bundle = chooseBundle(bundles, server, minPower);
      const encoded = server.userData ?? options.userData;
      // Lightsail takes the launch script as plain text, not base64.
      const userData = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
      const key = `${bundle.id}\u0000${userData ?? ''}`;
      const group = groups.get(key) ?? { bundleId: bundle.id, userData, names: [] };
      group.names.push(instanceName(input.clusterId, server.name));
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      try {
        await this.call('CreateInstances', () =>
          this.client.send(
            new CreateInstancesCommand({
              instanceNames: group.names,
              availabilityZone,
              blueprintId,
              bundleId: group.bundleId,
              ...(group.userData !== undefined ? { userData: group.userData } : {}),
              ...(keyPairName ? { keyPairName } : {}),
              tags,
              ...(addOns.length ? { addOns } : {}),
            }),
          ),
        );
      } catch (error) {
        if (!isNameInUse(error)) throw error;
        await this.adopt(input.clusterId, group.names, error);
      }
    }
    const names = input.servers.map((server) => instanceName(input.clusterId, server.name));
    const instances = await this.clusterInstances(input.clusterId);
    const ports = portInfos(input.securityRules ?? []);
    if (ports.length) {
      for (const name of names) {
        await this.call('PutInstancePublicPorts', () => this.client.send(new PutInstancePublicPortsCommand({ instanceName: name, portInfos: ports })));
      }
    }
    return names.map((name) => {
      const instance = instances.find((candidate) => candidate.name === name);
      return instance ? toServer(instance) : { id: name, name, state: 'BUILD', privateIp: null, publicIp: null };
    });
  }

  /** A retry whose names are taken: the instances are adopted when they carry the cluster's tag, refused otherwise. */
  private async adopt(clusterId: string, names: string[], error: unknown): Promise<void> {
    const mine = new Set((await this.clusterInstances(clusterId)).map((instance) => instance.name));
    const foreign = names.filter((name) => !mine.has(name));
    if (foreign.length) throw new ProviderError('LightsailNameInUse', `Lightsail CreateInstances: ${foreign.join(', ')} already in use by another owner: ${(error as Error).message}`);
  }

  private async allInstances(): Promise<Instance[]> {
    const instances: Instance[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('GetInstances', () => this.client.send(new GetInstancesCommand(pageToken ? { pageToken } : {})));
      instances.push(...(page.instances ?? []));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return instances;
  }

  private async clusterInstances(clusterId: string): Promise<Instance[]> {
    return (await this.allInstances()).filter(
      (instance) => tagValue(instance.tags, CLUSTER_TAG) === clusterId && tagValue(instance.tags, SERVICE_TAG_KEY) === this.settings.serviceTag,
    );
  }

  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    return (await this.clusterInstances(input.clusterId)).map(toServer);
  }

  async allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    const mine = new Set((await this.clusterInstances(input.clusterId)).map((instance) => instance.name));
    const addresses: Record<string, string> = {};
    for (const name of input.serverIds) {
      if (!mine.has(name)) throw new ProviderError('LightsailNotFound', `no instance ${name} in cluster ${input.clusterId}`);
      const ipName = staticIpName(name);
      let current = await this.staticIp(ipName);
      if (!current) {
        try {
          await this.call('AllocateStaticIp', () => this.client.send(new AllocateStaticIpCommand({ staticIpName: ipName })));
        } catch (error) {
          if (!isNameInUse(error)) throw error;
        }
        current = await this.staticIp(ipName);
      }
      if (!current?.isAttached || current.attachedTo !== name) {
        await this.call('AttachStaticIp', () => this.client.send(new AttachStaticIpCommand({ staticIpName: ipName, instanceName: name })));
        current = await this.staticIp(ipName);
      }
      if (!current?.ipAddress) throw new ProviderError('LightsailOperationFailure', `static IP ${ipName} has no address`);
      addresses[name] = current.ipAddress;
    }
    return addresses;
  }

  private async staticIp(name: string): Promise<StaticIp | undefined> {
    try {
      return (await this.client.send(new GetStaticIpCommand({ staticIpName: name }))).staticIp;
    } catch (error) {
      if (error instanceof Error && error.name === 'NotFoundException') return undefined;
      throw lightsailError('GetStaticIp', error);
    }
  }

  private async clusterStaticIps(clusterId: string): Promise<StaticIp[]> {
    const found: StaticIp[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('GetStaticIps', () => this.client.send(new GetStaticIpsCommand(pageToken ? { pageToken } : {})));
      found.push(...(page.staticIps ?? []).filter((ip) => ip.name?.startsWith(`${clusterId}-`) && ip.name.endsWith('-ip')));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  }

  async startConfiguration(input: { clusterId: string; profile: string }): Promise<string> {
    if (input.profile === NONE_RUN) return NONE_RUN;
    throw new ProviderError('ConfigurationRunnerUnavailable', `lightsail servers are configured by the cloud-init runner; profile '${input.profile}' cannot run without it`);
  }

  async describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    if (input.configurationId === NONE_RUN) return { state: 'SUCCEEDED', component: NONE_RUN, message: 'nothing to configure' };
    throw new ProviderError('ConfigurationRunnerUnavailable', `lightsail has no configuration run '${input.configurationId}' of its own: the cloud-init runner runs them`);
  }

  /** Deletes the cluster's instances (with their add-ons) and releases its static IPs; 0 once both are gone. */
  async deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    const instances = await this.clusterInstances(input.clusterId);
    for (const instance of instances) {
      if (instance.state?.name === 'shutting-down' || instance.state?.name === 'terminated') continue;
      try {
        await this.call('DeleteInstance', () => this.client.send(new DeleteInstanceCommand({ instanceName: instance.name, forceDeleteAddOns: true })));
      } catch (error) {
        if (!(error instanceof ProviderError && error.code === 'LightsailNotFound')) throw error;
      }
    }
    const ips = await this.clusterStaticIps(input.clusterId);
    for (const ip of ips) {
      try {
        await this.call('ReleaseStaticIp', () => this.client.send(new ReleaseStaticIpCommand({ staticIpName: ip.name })));
      } catch (error) {
        if (!(error instanceof ProviderError && error.code === 'LightsailNotFound')) throw error;
      }
    }
    const left = (await this.clusterInstances(input.clusterId)).filter((instance) => instance.state?.name !== 'terminated').length;
    return { remaining: left + (await this.clusterStaticIps(input.clusterId)).length };
  }
}
