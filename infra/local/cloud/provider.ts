/**
 * Provider `local` (docs/providers.md): the cloud port over the emulated cloud. The cloud owns the
 * behaviour (latency, throttling, quotas, lifecycle, persistence); this adapter only answers in
 * the port's terms, so the workflow sees the same shapes it gets from a real provider.
 */
import { InvalidSpec, ProviderError, type ErrorDetail } from '#domain/errors';
import type {
  CloudProvider,
  ConfigurationStatus,
  CreateNetworksInput,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  CreateServersInput,
} from '#domain/provider';
import {
  LOCAL_CLOUD_MAX_BATCH_SIZE,
  LOCAL_REGION,
  localFlavorName,
  localOptionProblems,
  localFlavorProblems,
  parseLocalFlavor,
  type ServerSize,
} from './catalogue.ts';
import type { LocalCloud } from './cloud.ts';
import type { LocalCloudServer } from './servers.ts';

const regionMessage = (region: string): string => `region ${region} is not served here: the local cloud has one region, ${LOCAL_REGION}`;

const secondsRoundedUp = (ms: number): number => Math.ceil(ms / 1000);

/** Only the port's fields: describe results travel through Step Functions state, which has a size limit. */
const toProviderServer = (server: LocalCloudServer): ProviderServer => ({
  id: server.id,
  name: server.name,
  state: server.state,
  privateIp: server.privateIp,
  publicIp: server.publicIp,
  ...(server.fault === undefined ? {} : { fault: server.fault }),
});

export class LocalCloudProvider implements CloudProvider {
  readonly name = 'local';
  readonly configurationNetwork = 'none';
  // The emulated cloud runs no user data: its nodes cannot report.
  readonly configurationRunners = ['ssm', 'container'] as const;
  readonly maxBatchSize = LOCAL_CLOUD_MAX_BATCH_SIZE;
  readonly timings: ProviderTimings;

  constructor(private readonly cloud: LocalCloud) {
    this.timings = {
      expectedBootSeconds: secondsRoundedUp(cloud.settings.bootMs.max),
      expectedConfigurationSeconds: secondsRoundedUp(cloud.settings.configMs.max),
    };
  }

  resolveFlavor(size: ServerSize): string {
    const problems = localFlavorProblems(size);
    if (problems.length > 0) {
      throw new InvalidSpec(`No local flavor fits: ${problems.map((problem) => problem.message).join('; ')}`, problems);
    }
    return localFlavorName(size);
  }

  describeFlavor(flavor: string): ServerSize | null {
    return parseLocalFlavor(flavor);
  }

  /** The cloud's own refusals (zone, image), and a region other than its one. Every rule is accepted. */
  checkOptions(input: ProviderSpecOptions): ErrorDetail[] {
    const { region, ...options } = input.options;
    return [
      ...(region !== undefined && region !== LOCAL_REGION ? [{ path: 'region', message: regionMessage(region) }] : []),
      ...localOptionProblems(options).map(({ path, message }) => ({ path, message })),
    ];
  }

  createNetworks(input: CreateNetworksInput): Promise<string[]> {
    return this.cloud.createNetworks(input);
  }

  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    // The region is where the API is, not something a call asks for.
    const { region, ...options } = input.options ?? {};
    if (region !== undefined && region !== LOCAL_REGION) throw new ProviderError('UnsupportedRegion', regionMessage(region));
    return (await this.cloud.createServers({ ...input, options })).map(toProviderServer);
  }

  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    return (await this.cloud.describeServers(input)).map(toProviderServer);
  }

  allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    return this.cloud.allocatePublicIps(input);
  }

  async describeConfigurationAgents(input: { clusterId: string; profile: string; servers: { id: string; name: string; role: string }[] }): Promise<{ offline: string[] }> {
    return { offline: await this.cloud.describeConfigurationAgents(input) };
  }

  startConfiguration(input: {
    clusterId: string;
    profile: string;
    servers: { id: string; name: string; role: string }[];
  }): Promise<string> {
    return this.cloud.startConfiguration(input);
  }

  /** The cloud knows its runs' nodes by name: the recorded servers are not needed. */
  describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    return this.cloud.describeConfiguration({ clusterId: input.clusterId, configurationId: input.configurationId });
  }

  stopServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    return this.cloud.changePower({ ...input, action: 'stop' });
  }

  startServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    return this.cloud.changePower({ ...input, action: 'start' });
  }

  deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    return this.cloud.deleteCluster(input);
  }
}
