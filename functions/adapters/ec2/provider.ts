/**
 * Provider `ec2` (docs/providers.md): the cloud port over Amazon EC2, with configuration through SSM
 * Run Command. How each call maps onto EC2, the grants it needs and its limits are in
 * docs/ec2-provider.md; each concern is a file of this folder, the class only answers the port.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ProviderError, type ErrorDetail } from '#domain/errors';
import type {
  CloudProvider,
  ConfigurationCluster,
  ConfigurationStatus,
  CreateNetworksInput,
  CreateServersInput,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  ServerSize,
} from '#domain/provider';
import { ConfigError } from '#lib/config';
import { traced } from '#lib/tracer';
import { allocatePublicIps, releaseAddresses } from './addresses.ts';
import type { Ec2Context } from './calls.ts';
import { instanceType, smallestInstanceType } from './instance-types.ts';
import { clusterInstances, instanceName, LIVE_STATES, masterVariables, powerInstances, runningNodes, terminateInstances, toServer } from './instances.ts';
import { Ec2Launches } from './launches.ts';
import { createNetworks, deleteSecurityGroups } from './security-groups.ts';
import { DEFAULT_TIMINGS, ec2Settings, type Ec2ProviderOptions } from './settings.ts';
import { checkSpecOptions } from './spec-options.ts';
import { ec2InventoryVars, SsmConfigurationRunner, type Ec2InventoryVars } from './ssm/index.ts';

type ConfigurationServers = { id: string; name: string; role: string }[];
type DescribeConfigurationInput = { clusterId: string; configurationId: string; servers?: ConfigurationServers };

export class Ec2Provider implements CloudProvider {
  readonly name = 'ec2';
  readonly configurationNetwork = 'first-private-network';
  readonly configurationRunners = ['ssm', 'container'] as const;
  readonly maxBatchSize: number;
  readonly timings: ProviderTimings;
  readonly inventoryVars: Readonly<Ec2InventoryVars>;

  private readonly ctx: Ec2Context;
  private readonly launches: Ec2Launches;
  private readonly configuration: SsmConfigurationRunner;

  constructor(options: Ec2ProviderOptions) {
    const { ec2, ssm, configuration, ...data } = options;
    const settings = ec2Settings(data);
    this.maxBatchSize = settings.maxBatchSize;
    this.timings = { ...DEFAULT_TIMINGS, ...settings.timings };
    this.inventoryVars = ec2InventoryVars(settings.loginUser);
    const clientConfig = { ...(settings.region ? { region: settings.region } : {}), retryMode: 'adaptive' };
    this.ctx = { ec2: ec2 ?? traced(new EC2Client(clientConfig)), settings };
    this.launches = new Ec2Launches(this.ctx);
    try {
      this.configuration = new SsmConfigurationRunner(ssm ?? traced(new SSMClient(clientConfig)), settings.serviceTag, configuration, this.inventoryVars);
    } catch (error) {
      throw new ConfigError(`invalid ec2 provider settings: configuration: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  resolveFlavor(size: ServerSize): string {
    return smallestInstanceType(size).name;
  }

  describeFlavor(flavor: string): ServerSize | null {
    const type = instanceType(flavor);
    return type ? { vcpus: type.vcpus, ramMb: type.ramMib, diskGb: this.ctx.settings.defaultDiskGb } : null;
  }

  checkOptions(input: ProviderSpecOptions): ErrorDetail[] {
    return checkSpecOptions(this.ctx.settings, input);
  }

  /**
   * A private network is a security group whose members may reach each other on every port;
   * the subnets are the settings' and shared. Found by name and tags before anything is made.
   */
  createNetworks(input: CreateNetworksInput): Promise<string[]> {
    return createNetworks(this.ctx, input);
  }

  /**
   * One RunInstances per launch (instance type × root volume × role × subnet) with
   * MinCount = MaxCount = its size and a ClientToken derived from the batch's, so a retried call
   * gets the same reservations back and launches nothing new; then each instance's Name.
   */
  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    if (input.servers.length === 0) return [];
    if (input.servers.length > this.maxBatchSize) {
      throw new ProviderError('BatchTooLarge', `A create call takes at most ${this.maxBatchSize} servers; this one asked for ${input.servers.length}`);
    }
    const unknown = [...new Set(input.servers.map((server) => server.flavor))].filter((flavor) => !instanceType(flavor));
    if (unknown.length > 0) throw new ProviderError('UnknownFlavor', `Not an instance type this provider offers: ${unknown.join(', ')}`);
    return this.launches.create(input);
  }

  /** Every instance with the cluster's tags: one DescribeInstances (paged by NextToken), never one per instance. */
  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    return (await clusterInstances(this.ctx, input.clusterId)).map((instance) => toServer(instance));
  }

  allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    return allocatePublicIps(this.ctx, input);
  }

  /**
   * The servers whose SSM agent is not Online yet: registering takes about a minute after boot,
   * longer behind a NAT or on a cold image. Profile `none` needs no agent.
   */
  async describeConfigurationAgents(input: { clusterId: string; profile: string; servers: ConfigurationServers }): Promise<{ offline: string[] }> {
    return { offline: await this.configuration.offlineAgents({ profile: input.profile, nodes: input.servers }) };
  }

  /**
   * Sends the profile's SSM commands; every server must be Online in SSM (the workflow waits for
   * that first), else it throws TransientProviderError. Profile `none` asks nothing.
   */
  startConfiguration(input: { clusterId: string; profile: string; servers: ConfigurationServers; cluster?: ConfigurationCluster }): Promise<string> {
    return this.configuration.start({
      clusterId: input.clusterId,
      profile: input.profile,
      nodes: input.servers,
      variables: () => masterVariables(this.ctx, input.servers),
      ...(input.cluster ? { cluster: input.cluster } : {}),
    });
  }

  /** Reads the run and sends nothing; a controller run's finished stage is named in `nextStage`. */
  describeConfiguration(input: DescribeConfigurationInput): Promise<ConfigurationStatus> {
    return this.configuration.describe(this.runLookups(input));
  }

  /** Sends the stage `describeConfiguration` named, to the cluster's running instances. */
  continueConfiguration(input: DescribeConfigurationInput): Promise<ConfigurationStatus> {
    return this.configuration.sendNextStage(this.runLookups(input));
  }

  /**
   * One round of deletion: terminates the live instances, disassociates and releases the
   * addresses, and deletes the security groups once no instance is left to use them. Answers
   * what is still there; callers repeat until 0.
   */
  stopServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    return powerInstances(this.ctx, 'stop', input.serverIds);
  }

  startServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    return powerInstances(this.ctx, 'start', input.serverIds);
  }

  async deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    const live = await clusterInstances(this.ctx, input.clusterId, LIVE_STATES);
    await terminateInstances(this.ctx, live);
    const addressesLeft = await releaseAddresses(this.ctx, input.clusterId);
    const groupsLeft = await deleteSecurityGroups(this.ctx, input.clusterId, live.length);
    return { remaining: live.length + addressesLeft + groupsLeft };
  }

  private runLookups(input: DescribeConfigurationInput) {
    return {
      configurationId: input.configurationId,
      clusterId: input.clusterId,
      ...(input.servers ? { servers: input.servers } : {}),
      nodeName: (instanceId: string) => instanceName(this.ctx, instanceId),
      // Listed only when the recorded servers do not name a node, or a controller run goes on.
      nodes: () => runningNodes(this.ctx, input.clusterId),
    };
  }
}
