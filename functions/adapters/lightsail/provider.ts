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
  GetRegionsCommand,
  GetStaticIpsCommand,
  LightsailClient,
  PutInstancePublicPortsCommand,
  ReleaseStaticIpCommand,
  StartInstanceCommand,
  StopInstanceCommand,
  type AddOnRequest,
  type Instance,
  type Operation,
  type PortInfo,
  type StaticIp,
  type Tag,
} from '@aws-sdk/client-lightsail';
import { ProviderError, TransientProviderError, type ErrorDetail } from '#domain/errors';
import type {
  CloudProvider,
  ConfigurationStatus,
  CreateNetworksInput,
  CreateServersInput,
  OperationsListener,
  ProviderOperation,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  ServerSize,
} from '#domain/provider';
import type { SecurityRule } from '#domain/model';
import { clientTags } from '#domain/tags';
import { ConfigError } from '#lib/config';
import { cloudInitOnlyRuns } from '../cloud-init-only.ts';
import { KNOWN_BUNDLES, activeLinuxBundles, chooseBundle, smallestKnownBundle, type BundleSize } from './bundles.ts';
import { isNameInUse, lightsailError } from './errors.ts';
import { DEFAULT_TIMINGS, lightsailConfigured, lightsailSettings, lightsailSettingsFromEnv, type LightsailSettings, type LightsailSettingsInput } from './settings.ts';

export const CLUSTER_TAG = 'cluster-id';
export const SERVICE_TAG_KEY = 'managed-by';
/** The client tag that asks for Lightsail's automatic snapshot add-on: `{"lightsail:auto-snapshot": "HH:00"}`. */
export const AUTO_SNAPSHOT_TAG = 'lightsail:auto-snapshot';
const TAG_TEXT = /^[\p{L}\p{N} +\-=._:/@]+$/u;

export interface LightsailProviderOptions extends LightsailSettingsInput {
  client?: LightsailClient;
  /** Keys given with the environment read (local mode's); otherwise the SDK's own chain finds them. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The Lightsail name of a cluster's server: Lightsail names are unique per region, so the cluster id leads. */
export const instanceName = (clusterId: string, serverName: string): string => `${clusterId}-${serverName}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 255);
export const staticIpName = (instance: string): string => `${instance}-ip`.slice(0, 255);

const tagValue = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((tag) => tag.key === key)?.value;

const STATES: Record<string, ProviderServer['state']> = {
  pending: 'BUILD',
  starting: 'BUILD',
  running: 'ACTIVE',
  stopping: 'STOPPING',
  stopped: 'STOPPED',
  'shutting-down': 'DELETING',
  terminated: 'DELETED',
};

/** An instance in the port's terms: its id is its Lightsail name, its name the cluster's server name. */
export const toServer = (instance: Instance, clusterId: string): ProviderServer => {
  const state = STATES[instance.state?.name ?? ''] ?? 'ERROR';
  const name = instance.name ?? '';
  const prefix = instanceName(clusterId, '');
  return {
    id: name,
    name: name.startsWith(prefix) ? name.slice(prefix.length) : name,
    state,
    privateIp: instance.privateIpAddress ?? null,
    publicIp: instance.isStaticIp ? (instance.publicIpAddress ?? null) : null,
    // A boot that failed leaves the instance stopped: that is its fault while it is being made.
    ...(state === 'ERROR' || state === 'STOPPED' ? { fault: `instance is ${instance.state?.name ?? 'in an unknown state'}` } : {}),
  };
};

/** Lightsail's operations in the port's terms; `Failed` ones carry their error code and details. */
export const toOperations = (operations: readonly Operation[] | undefined): ProviderOperation[] =>
  (operations ?? []).map((operation) => ({
    id: operation.id ?? '',
    type: operation.operationType ?? 'Unknown',
    resource: operation.resourceName ?? '',
    status: operation.status ?? 'Unknown',
    ...(operation.errorCode || operation.errorDetails ? { error: [operation.errorCode, operation.errorDetails].filter(Boolean).join(': ') } : {}),
  }));

const ANY_PROTOCOL = new Set(['any', 'all', '-1']);
/** An egress rule that allows what Lightsail allows anyway: everything out. */
const allowsAllOut = (rule: SecurityRule): boolean =>
  rule.direction === 'egress' && ANY_PROTOCOL.has(rule.protocol.toLowerCase()) && (rule.remoteIpPrefix === '0.0.0.0/0' || rule.remoteIpPrefix === '::/0');

/**
 * The ingress rules as Lightsail's public ports (Lightsail has no egress rules: everything goes
 * out), one per protocol and port range with every address the rules give it.
 */
export const portInfos = (rules: readonly SecurityRule[]): PortInfo[] => {
  const ports = new Map<string, PortInfo & { cidrs: string[]; ipv6Cidrs: string[] }>();
  for (const rule of rules.filter((candidate) => candidate.direction === 'ingress')) {
    const any = ANY_PROTOCOL.has(rule.protocol.toLowerCase());
    const icmp = rule.protocol.toLowerCase() === 'icmp';
    const protocol: PortInfo['protocol'] = any ? 'all' : icmp ? (rule.ethertype === 'IPv6' ? 'icmpv6' : 'icmp') : (rule.protocol.toLowerCase() as PortInfo['protocol']);
    // ICMP's "ports" are its type and code: -1 for every one.
    const fromPort = any ? 0 : icmp ? -1 : (rule.portRangeMin ?? 0);
    const toPort = any ? 65_535 : icmp ? -1 : (rule.portRangeMax ?? rule.portRangeMin ?? 65_535);
    const key = `${protocol}/${fromPort}/${toPort}`;
    const port = ports.get(key) ?? { protocol, fromPort, toPort, cidrs: [], ipv6Cidrs: [] };
    (rule.ethertype === 'IPv6' ? port.ipv6Cidrs : port.cidrs).push(rule.remoteIpPrefix);
    ports.set(key, port);
  }
  return [...ports.values()].map(({ cidrs, ipv6Cidrs, ...port }) => ({
    ...port,
    ...(cidrs.length > 0 ? { cidrs } : {}),
    ...(ipv6Cidrs.length > 0 ? { ipv6Cidrs } : {}),
  }));
};

export class LightsailProvider implements CloudProvider {
  readonly name = 'lightsail';
  /** Its servers are configured by the cloud-init runner: it runs only `none` itself. */
  private readonly ownRuns = cloudInitOnlyRuns(this.name);
  readonly configurationNetwork = 'through-master';
  readonly configurationRunners = ['cloud-init'] as const;
  readonly maxBatchSize: number;
  readonly timings: ProviderTimings;
  readonly inventoryVars: Readonly<Record<string, unknown>>;
  readonly settings: LightsailSettings;
  private readonly client: LightsailClient;
  private firstZone: Promise<string> | undefined;

  constructor(options: LightsailProviderOptions) {
    const { client, credentials, ...data } = options;
    this.settings = lightsailSettings(data);
    this.maxBatchSize = this.settings.maxBatchSize;
    this.timings = { ...DEFAULT_TIMINGS, ...this.settings.timings };
    this.inventoryVars = { ansible_user: this.settings.loginUser };
    this.client =
      client ??
      new LightsailClient({
        ...(this.settings.region ? { region: this.settings.region } : {}),
        ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
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

  /**
   * A mutating call: its operations go to `listener` (the timeline), and one Lightsail answers
   * `Failed` fails the call with its error.
   */
  private async mutate(
    operation: string,
    listener: OperationsListener | undefined,
    send: () => Promise<{ operations?: Operation[] | undefined } | { operation?: Operation | undefined }>,
  ): Promise<ProviderOperation[]> {
    const answer = await this.call(operation, send);
    // Most calls answer `operations`; a few (PutInstancePublicPorts) one `operation`.
    const operations = toOperations('operations' in answer ? answer.operations : 'operation' in answer && answer.operation ? [answer.operation] : []);
    if (operations.length > 0) await listener?.(operations);
    const failed = operations.find((candidate) => candidate.status === 'Failed');
    if (failed) throw new ProviderError('LightsailOperationFailure', `Lightsail ${operation}: ${failed.type} ${failed.resource} failed${failed.error ? `: ${failed.error}` : ''}`);
    return operations;
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
    const tags = clientTags(input.options.tags);
    // Lightsail keeps 50 tags a resource; the service puts two of its own beside the client's.
    if (tags.length > 48) details.push({ path: 'tags', message: 'lightsail keeps at most 50 tags per instance, 2 of them the service\'s: at most 48' });
    for (const [key, value] of tags) {
      if (!TAG_TEXT.test(key) || key.length > 128) details.push({ path: `tags.${key}`, message: 'lightsail tag keys are 1-128 letters, digits, spaces or + - = . _ : / @' });
      else if (!TAG_TEXT.test(value || 'x') || value.length > 256) details.push({ path: `tags.${key}`, message: 'lightsail tag values are at most 256 letters, digits, spaces or + - = . _ : / @' });
    }
    const snapshot = input.options.tags?.[AUTO_SNAPSHOT_TAG];
    if (snapshot !== undefined && !/^([01]\d|2[0-3]):00$/.test(snapshot)) {
      details.push({ path: `tags.${AUTO_SNAPSHOT_TAG}`, message: 'must be a time of day HH:00 (UTC)' });
    }
    input.securityRules.forEach((rule, index) => {
      if (rule.direction !== 'ingress' && !allowsAllOut(rule)) {
        details.push({ path: `network.securityRules.${index}.direction`, message: 'lightsail instances have inbound rules only (public ports): all outbound traffic is allowed, so only an egress rule allowing everything can be honoured' });
      }
      if (!['tcp', 'udp', 'icmp', 'all', 'any', '-1'].includes(rule.protocol.toLowerCase())) {
        details.push({ path: `network.securityRules.${index}.protocol`, message: 'lightsail public ports take tcp, udp, icmp or all' });
      }
    });
    return details;
  }

  /** Lightsail has no private networks to make: the instances' own private addresses serve the cluster. */
  async createNetworks(input: CreateNetworksInput): Promise<string[]> {
    if (input.count > 1) throw new ProviderError('InvalidSpec', 'network.privateNetworks: lightsail instances share their region\'s private network: at most 1');
    return [];
  }

  /** LIGHTSAIL_ZONE, or the region's first available zone by name (GetRegions, asked once). */
  private async zone(): Promise<string> {
    if (this.settings.zone) return this.settings.zone;
    this.firstZone ??= this.readFirstZone().catch((error: unknown) => {
      this.firstZone = undefined;
      throw error;
    });
    return this.firstZone;
  }

  private async readFirstZone(): Promise<string> {
    const region = this.settings.region;
    if (!region) throw new ProviderError('LightsailInvalidInput', 'no region: set AWS_REGION or LIGHTSAIL_ZONE');
    const answer = await this.call('GetRegions', () => this.client.send(new GetRegionsCommand({ includeAvailabilityZones: true })));
    const zones = (answer.regions?.find((candidate) => candidate.name === region)?.availabilityZones ?? [])
      .filter((zone) => zone.state === undefined || zone.state === 'available')
      .map((zone) => zone.zoneName)
      .filter((name): name is string => name !== undefined)
      .sort();
    const first = zones[0];
    if (!first) throw new ProviderError('LightsailInvalidInput', `Lightsail answers no available zone in ${region}`);
    return first;
  }

  private async blueprintMinPower(blueprintId: string): Promise<number> {
    let pageToken: string | undefined;
    do {
      const page = await this.call('GetBlueprints', () => this.client.send(new GetBlueprintsCommand({ includeInactive: false, ...(pageToken ? { pageToken } : {}) })));
      const blueprint = page.blueprints?.find((candidate) => candidate.blueprintId === blueprintId);
      if (blueprint) {
        if (blueprint.isActive === false) throw new ProviderError('LightsailInvalidInput', `Lightsail blueprint ${blueprintId} is not active`);
        if (blueprint.platform !== undefined && blueprint.platform !== 'LINUX_UNIX') {
          throw new ProviderError('LightsailInvalidInput', `Lightsail blueprint ${blueprintId} is not Linux: the cloud-init runner needs a Linux blueprint`);
        }
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

  /**
   * Lightsail has no client token: the cluster's instances are listed first and those already
   * named and tagged for it are adopted; the rest are made with one CreateInstances per bundle
   * and user data (Lightsail takes one of each per call, and the cloud-init runner gives each
   * server its own). A name refused as in use is adopted when the listing then shows it tagged
   * for the cluster, and refused otherwise. The spec's rules become each instance's public ports.
   */
  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    if (input.servers.length === 0) return [];
    if (input.servers.length > this.maxBatchSize) {
      throw new ProviderError('BatchTooLarge', `A create call takes at most ${this.maxBatchSize} servers; this one asked for ${input.servers.length}`);
    }
    const options = input.options ?? {};
    const refused = this.checkOptions({ options, securityRules: input.securityRules ?? [], privateNetworks: 0 });
    if (refused.length > 0) throw new ProviderError('InvalidSpec', `lightsail cannot honour the spec: ${refused.map((detail) => `${detail.path}: ${detail.message}`).join('; ')}`);
    const blueprintId = options.image ?? this.settings.blueprintId;
    const minPower = await this.blueprintMinPower(blueprintId);
    const bundles = await this.activeBundles();
    const tags: Tag[] = [
      ...clientTags(options.tags).map(([key, value]) => ({ key, value })),
      { key: SERVICE_TAG_KEY, value: this.settings.serviceTag },
      { key: CLUSTER_TAG, value: input.clusterId },
    ];
    const snapshot = options.tags?.[AUTO_SNAPSHOT_TAG];
    const addOns: AddOnRequest[] = snapshot ? [{ addOnType: 'AutoSnapshot', autoSnapshotAddOnRequest: { snapshotTimeOfDay: snapshot } }] : [];
    const keyPairName = options.keyName ?? this.settings.keyPairName;
    const availabilityZone = options.zone ?? (await this.zone());
    const known = new Map((await this.clusterInstances(input.clusterId)).map((instance) => [instance.name, instance]));
    const groups = new Map<string, { bundleId: string; userData: string | undefined; names: string[] }>();
    for (const server of input.servers) {
      const name = instanceName(input.clusterId, server.name);
      if (known.has(name)) continue;
      const bundle = chooseBundle(bundles, server, minPower);
      const encoded = server.userData ?? options.userData;
      // Lightsail takes the launch script as plain text, not base64 as the port carries it.
      const userData = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
      const key = `${bundle.id}\u0000${userData ?? ''}`;
      const group = groups.get(key) ?? { bundleId: bundle.id, userData, names: [] };
      group.names.push(name);
      groups.set(key, group);
    }
    const taken: string[] = [];
    for (const group of groups.values()) {
      try {
        await this.mutate('CreateInstances', input.onOperations, () =>
          this.client.send(
            new CreateInstancesCommand({
              instanceNames: group.names,
              availabilityZone,
              blueprintId,
              bundleId: group.bundleId,
              ...(group.userData !== undefined ? { userData: group.userData } : {}),
              ...(keyPairName ? { keyPairName } : {}),
              tags,
              ...(addOns.length > 0 ? { addOns } : {}),
            }),
          ),
        );
      } catch (error) {
        if (!isNameInUse(error)) throw error;
        taken.push(...group.names);
      }
    }
    if (taken.length > 0) {
      // Made by a call whose answer was lost, or someone else's: the tags tell.
      for (const instance of await this.clusterInstances(input.clusterId)) known.set(instance.name, instance);
      const foreign = taken.filter((name) => !known.has(name));
      if (foreign.length > 0) throw new ProviderError('LightsailNameInUse', `Lightsail CreateInstances: ${foreign.join(', ')} already in use by a resource that is not this cluster's`);
    }
    const names = input.servers.map((server) => instanceName(input.clusterId, server.name));
    const ports = portInfos(input.securityRules ?? []);
    if (ports.length > 0) {
      for (const name of names) {
        await this.mutate('PutInstancePublicPorts', input.onOperations, () => this.client.send(new PutInstancePublicPortsCommand({ instanceName: name, portInfos: ports })));
      }
    }
    return input.servers.map((server) => {
      const name = instanceName(input.clusterId, server.name);
      const instance = known.get(name);
      return instance ? toServer(instance, input.clusterId) : { id: name, name: server.name, state: 'BUILD', privateIp: null, publicIp: null };
    });
  }

  /** Every instance, one GetInstances per page. */
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

  /** The cluster's instances: named for it, and tagged with its id and this deployment's service tag. */
  private async clusterInstances(clusterId: string): Promise<Instance[]> {
    const prefix = instanceName(clusterId, '');
    return (await this.allInstances()).filter(
      (instance) =>
        instance.name?.startsWith(prefix) === true &&
        tagValue(instance.tags, CLUSTER_TAG) === clusterId &&
        tagValue(instance.tags, SERVICE_TAG_KEY) === this.settings.serviceTag,
    );
  }

  /** One GetInstances round (paged), whatever the cluster's size. */
  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    return (await this.clusterInstances(input.clusterId)).map((instance) => toServer(instance, input.clusterId));
  }

  /**
   * A static IP per server (`<instance>-ip`): allocated unless the cluster has it, attached
   * unless attached to that server; answers each server's address.
   */
  async allocatePublicIps(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }): Promise<Record<string, string>> {
    const mine = new Set((await this.clusterInstances(input.clusterId)).map((instance) => instance.name));
    const missing = input.serverIds.filter((name) => !mine.has(name));
    if (missing.length > 0) throw new ProviderError('ServerNotFound', `No lightsail instance ${missing.join(', ')} in cluster ${input.clusterId}`);
    let ips = new Map((await this.clusterStaticIps(input.clusterId)).map((ip) => [ip.name, ip]));
    let changed = false;
    for (const name of input.serverIds) {
      const ipName = staticIpName(name);
      const current = ips.get(ipName);
      if (!current) {
        try {
          await this.mutate('AllocateStaticIp', input.onOperations, () => this.client.send(new AllocateStaticIpCommand({ staticIpName: ipName })));
        } catch (error) {
          if (!isNameInUse(error)) throw error;
          throw new ProviderError('LightsailNameInUse', `Lightsail AllocateStaticIp: ${ipName} already in use by a resource that is not this cluster's`);
        }
      }
      if (!current?.isAttached || current.attachedTo !== name) {
        await this.mutate('AttachStaticIp', input.onOperations, () => this.client.send(new AttachStaticIpCommand({ staticIpName: ipName, instanceName: name })));
        changed = true;
      }
    }
    if (changed) ips = new Map((await this.clusterStaticIps(input.clusterId)).map((ip) => [ip.name, ip]));
    const addresses: Record<string, string> = {};
    for (const name of input.serverIds) {
      const address = ips.get(staticIpName(name))?.ipAddress;
      if (!address) throw new TransientProviderError(`Lightsail static IP ${staticIpName(name)} has no address yet`);
      addresses[name] = address;
    }
    return addresses;
  }

  /** The static IPs named for the cluster (Lightsail keeps no tags on static IPs), one GetStaticIps per page. */
  private async clusterStaticIps(clusterId: string): Promise<StaticIp[]> {
    const prefix = instanceName(clusterId, '');
    const found: StaticIp[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('GetStaticIps', () => this.client.send(new GetStaticIpsCommand(pageToken ? { pageToken } : {})));
      found.push(...(page.staticIps ?? []).filter((ip) => ip.name?.startsWith(prefix) === true && ip.name.endsWith('-ip')));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  }

  startConfiguration(input: { clusterId: string; profile: string }): Promise<string> {
    return this.ownRuns.start(input);
  }

  describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    return this.ownRuns.describe(input);
  }

  /**
   * Deletes the cluster's instances (with their add-ons) and releases its static IPs; answers how
   * many the round found, so 0 only once a round finds neither.
   */
  /** StopInstance per instance not already stopping or stopped; its static IP stays attached. */
  async stopServers(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }): Promise<void> {
    await this.power(input, 'stop');
  }

  /** StartInstance per instance not already starting or running. */
  async startServers(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }): Promise<void> {
    await this.power(input, 'start');
  }

  /**
   * One GetInstances round, then the call for each listed instance of the cluster that is not
   * there already or on its way (so a repeat sends nothing twice); a name that is not one of the
   * cluster's instances is refused. Every call's operations go to the timeline.
   */
  private async power(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }, action: 'stop' | 'start'): Promise<void> {
    const instances = new Map((await this.clusterInstances(input.clusterId)).map((instance) => [instance.name ?? '', instance]));
    const arriving = action === 'stop' ? ['stopping', 'stopped'] : ['pending', 'running'];
    for (const name of new Set(input.serverIds)) {
      const instance = instances.get(name);
      if (!instance) throw new ProviderError('ServerNotFound', `No lightsail instance ${name} in cluster ${input.clusterId}`);
      if (arriving.includes(instance.state?.name ?? '')) continue;
      if (action === 'stop') await this.mutate('StopInstance', input.onOperations, () => this.client.send(new StopInstanceCommand({ instanceName: name })));
      else await this.mutate('StartInstance', input.onOperations, () => this.client.send(new StartInstanceCommand({ instanceName: name })));
    }
  }

  async deleteCluster(input: { clusterId: string; onOperations?: OperationsListener }): Promise<{ remaining: number }> {
    const instances = await this.clusterInstances(input.clusterId);
    for (const instance of instances) {
      if (instance.state?.name === 'shutting-down' || instance.state?.name === 'terminated') continue;
      await this.ignoringNotFound(() =>
        this.mutate('DeleteInstance', input.onOperations, () => this.client.send(new DeleteInstanceCommand({ instanceName: instance.name, forceDeleteAddOns: true }))),
      );
    }
    const ips = await this.clusterStaticIps(input.clusterId);
    for (const ip of ips) {
      await this.ignoringNotFound(() => this.mutate('ReleaseStaticIp', input.onOperations, () => this.client.send(new ReleaseStaticIpCommand({ staticIpName: ip.name }))));
    }
    return { remaining: instances.length + ips.length };
  }

  private async ignoringNotFound(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof ProviderError && error.code === 'LightsailNotFound')) throw error;
    }
  }
}

/**
 * The provider from an environment (a deployed function's, or local mode's): absent unless one of
 * LIGHTSAIL_TRIGGERS is set; the keys are the environment's own when it has them.
 */
export const lightsailProviderFromEnv = (env: NodeJS.ProcessEnv): LightsailProvider | undefined => {
  if (!lightsailConfigured(env)) return undefined;
  const settings = lightsailSettingsFromEnv(env);
  if (!settings.region && !settings.zone) throw new ConfigError('the lightsail provider needs a region: set AWS_REGION (or LIGHTSAIL_ZONE)');
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return new LightsailProvider({
    ...settings,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  });
};
