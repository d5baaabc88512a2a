/**
 * The SSM runner: provider `ec2`'s configuration, behind `describeConfigurationAgents`,
 * `startConfiguration`, `describeConfiguration` and `continueConfiguration`. It hands each run to
 * its kind — every node by itself (./node-run.ts) or the master as controller (./controller-run.ts).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ProviderError } from '#domain/errors';
import type { ConfigurationCluster, ConfigurationStatus } from '#domain/provider';
import { SsmCommands } from './commands.ts';
import { CONTROLLER_PREFIX, ControllerRun } from './controller-run.ts';
import { NodeRun } from './node-run.ts';
import type { NodeLookups } from './node-results.ts';
import {
  ec2InventoryVars,
  NONE_RUN,
  runnerSettings,
  type ConfigurationNode,
  type Ec2InventoryVars,
  type RunnerSettings,
  type SsmConfigurationOptions,
  type SsmProfile,
} from './settings.ts';

type DescribeInput = { configurationId: string; clusterId?: string } & NodeLookups;

export class SsmConfigurationRunner {
  private readonly settings: RunnerSettings;
  private readonly commands: SsmCommands;
  private readonly nodeRun: NodeRun;
  private readonly controllerRun: ControllerRun;

  constructor(
    ssm: SSMClient,
    /** Marks the commands as this deployment's (`Comment`), so a retried start can find them. */
    serviceTag: string,
    options: SsmConfigurationOptions = {},
    /** The controller's inventory variables: the provider's own, so both runners log in alike. */
    inventoryVars: Ec2InventoryVars = ec2InventoryVars(),
  ) {
    this.settings = runnerSettings(serviceTag, options, inventoryVars);
    this.commands = new SsmCommands(ssm, this.settings);
    this.nodeRun = new NodeRun(this.commands, this.settings);
    this.controllerRun = new ControllerRun(this.commands, this.settings);
  }

  /** The profiles this runner can apply, `none` included. */
  profileNames(): string[] {
    return [NONE_RUN, ...this.settings.profiles.keys()];
  }

  /**
   * The nodes whose SSM agent is not Online, by instance id: the workflow's wait before it starts
   * a run. None for `none`, which sends no command; UnknownProfile for a profile this runner lacks.
   */
  async offlineAgents(input: { profile: string; nodes: ConfigurationNode[] }): Promise<string[]> {
    if (input.profile === NONE_RUN || input.nodes.length === 0) return [];
    this.profileNamed(input.profile);
    const ids = input.nodes.map((node) => node.id);
    const online = await this.commands.onlineOf(ids);
    return ids.filter((id) => !online.has(id));
  }

  /**
   * Sends the profile's commands, or finds the ones an earlier call sent. Every node must be
   * Online in SSM (the workflow waits for that first, see offlineAgents): one that is not, say
   * its agent dropped out since, throws TransientProviderError, retried by the workflow.
   * `variables` is asked for only once the nodes are Online.
   */
  async start(input: {
    clusterId: string;
    profile: string;
    nodes: ConfigurationNode[];
    variables?: () => Promise<Record<string, string>>;
    /** The recorded cluster: the controller mode builds the inventory and extra vars from it. */
    cluster?: ConfigurationCluster;
  }): Promise<string> {
    if (input.profile === NONE_RUN) return NONE_RUN;
    const profile = this.profileNamed(input.profile);
    if (input.nodes.length === 0) return NONE_RUN;
    if (profile.run.kind === 'controller') return this.controllerRun.start(input, profile.run.playbook ?? input.profile);
    return this.nodeRun.start(input, profile);
  }

  /**
   * Where the run is, sending nothing: FAILED as soon as one node failed (naming it), SUCCEEDED
   * once every node succeeded, RUNNING otherwise — with `nextStage` when a controller run's stage
   * is done and the next waits for `sendNextStage`. `nodeName` turns an instance id into the
   * node's name.
   */
  async describe(input: DescribeInput): Promise<ConfigurationStatus> {
    if (input.configurationId === NONE_RUN) return { state: 'SUCCEEDED', component: NONE_RUN, message: 'nothing to configure' };
    if (isControllerRun(input.configurationId)) return this.controllerRun.describe(input);
    return this.nodeRun.describe(input);
  }

  /**
   * Sends the next stage of a controller run whose stage is done everywhere (once: called again,
   * it adopts the commands it sent) and answers the run under its new id. A run with nothing to
   * send is answered as `describe` answers it.
   */
  async sendNextStage(input: DescribeInput): Promise<ConfigurationStatus> {
    return isControllerRun(input.configurationId) ? this.controllerRun.sendNextStage(input) : this.describe(input);
  }

  private profileNamed(name: string): SsmProfile {
    const profile = this.settings.profiles.get(name);
    if (!profile) throw new ProviderError('UnknownProfile', `No SSM configuration for profile '${name}'; this deployment has ${this.profileNames().join(', ')}`);
    return profile;
  }
}

const isControllerRun = (configurationId: string): boolean => configurationId.startsWith(`${CONTROLLER_PREFIX}:`);
