/**
 * Provider `lightsail` (docs/lightsail-provider.md): the cloud port over Amazon Lightsail
 * instances, configured by the cloud-init runner (Lightsail has no run-command service).
 */
import {
  AllocateStaticIpCommand,
  AttachStaticIpCommand,
  CreateInstancesCommand,
  DeleteInstanceCommand,
  GetInstancesCommand,
  GetStaticIpsCommand,
  LightsailClient,
  PutInstancePublicPortsCommand,
  ReleaseStaticIpCommand,
  StartInstanceCommand,
  StopInstanceCommand,
  type AddOnRequest,
  type Instance,
  type Operation,
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
import { clientTags } from '#domain/tags';
import { ConfigError } from '#lib/config';
import { cloudInitOnlyRuns } from '../cloud-init-only.ts';
import { KNOWN_BUNDLES, chooseBundle, smallestKnownBundle } from './bundles.ts';
import { callLightsail, isNameInUse } from './errors.ts';
import { LightsailCatalogue } from './catalogue.ts';
import { CLUSTER_TAG, SERVICE_TAG_KEY, instanceName, staticIpName, tagValue, toOperations, toServer } from './instances.ts';
import { AUTO_SNAPSHOT_TAG, checkSpecOptions, portInfos } from './spec-options.ts';
import { DEFAULT_TIMINGS, lightsailConfigured, lightsailSettings, lightsailSettingsFromEnv, type LightsailSettings, type LightsailSettingsInput } from './settings.ts';

export interface LightsailProviderOptions extends LightsailSettingsInput {
  client?: LightsailClient;
  /** Keys given with the environment read (local mode's); otherwise the SDK's own chain finds them. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

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
  private readonly catalogue: LightsailCatalogue;

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
    this.catalogue = new LightsailCatalogue(this.client, this.settings);
  }

  private call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    return callLightsail(operation, send);
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
    return checkSpecOptions(input, this.settings.region);
  }

  /** Lightsail has no private networks to make: the instances' own private addresses serve the cluster. */
  async createNetworks(input: CreateNetworksInput): Promise<string[]> {
    if (input.count > 1) throw new ProviderError('InvalidSpec', 'network.privateNetworks: lightsail instances share their region\'s private network: at most 1');
    return [];
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
    const minPower = await this.catalogue.blueprintMinPower(blueprintId);
    const bundles = await this.catalogue.activeBundles();
    const tags: Tag[] = [
      ...clientTags(options.tags).map(([key, value]) => ({ key, value })),
      { key: SERVICE_TAG_KEY, value: this.settings.serviceTag },
      { key: CLUSTER_TAG, value: input.clusterId },
    ];
    const snapshot = options.tags?.[AUTO_SNAPSHOT_TAG];
    const addOns: AddOnRequest[] = snapshot ? [{ addOnType: 'AutoSnapshot', autoSnapshotAddOnRequest: { snapshotTimeOfDay: snapshot } }] : [];
    const keyPairName = options.keyName ?? this.settings.keyPairName;
    const availabilityZone = options.zone ?? (await this.catalogue.zone());
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
