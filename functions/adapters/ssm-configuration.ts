/**
 * Configuration runs on EC2 instances through SSM Run Command (docs/ec2-provider.md): the part of
 * provider `ec2` behind `startConfiguration` / `describeConfiguration`.
 *
 * A run is one SendCommand per role and per 50 instances (SendCommand's limit on `InstanceIds`);
 * its id lists the command ids, so checking a run needs no state beyond the id the workflow
 * stores. Checking costs one ListCommandInvocations per command (50 invocations fit one page),
 * not one GetCommandInvocation per instance.
 *
 * Controller mode (the built-in `lambda` and `script`): the master runs the repository's
 * controller playbooks against every node. Its run goes through three commands, one after the
 * other — `prepare`, `authorize`, `run` (./ssm-controller-scripts.ts) — and describing a finished
 * stage sends the next and answers the run's new id (ConfigurationStatus.configurationId).
 */
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type CommandInvocation,
  type CommandPlugin,
  type SSMClient,
  type SendCommandRequest,
} from '@aws-sdk/client-ssm';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { componentLines } from '#domain/component-lines';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import { buildExtraVars, controllerInventory } from '#domain/configuration-inventory';
import { MASTER_ROLE, type NodeConfiguration, type NodeConfigurationState } from '#domain/model';
import type { ConfigurationCluster, ConfigurationStatus } from '#domain/provider';
import { chunk } from '#lib/batching';
import { awsError } from './aws/index.ts';
import { authorizeScript, controllerKeyFrom, prepareScript, runScript, shellQuote } from './ssm-controller-scripts.ts';

/** Where `AWS-ApplyAnsiblePlaybooks` downloads playbooks from: its `SourceType` and `SourceInfo`. */
export interface PlaybookSource {
  sourceType: 'S3' | 'GitHub';
  /** e.g. `{ path: 'https://s3.amazonaws.com/<bucket>/configuration.zip' }` for S3. */
  sourceInfo: Record<string, string>;
}

/** How a profile is applied: which SSM document, with which parameters. */
export type SsmRun =
  /** `AWS-RunShellScript`; the node's variables are exported first (`CLUSTER_ID`, `NODE_ROLE`, …). */
  | { kind: 'shell'; commands: string[] }
  /** `AWS-ApplyAnsiblePlaybooks`; the node's variables go into `ExtraVariables`. */
  | { kind: 'ansible'; playbookFile: string; source?: PlaybookSource; installDependencies?: boolean }
  /**
   * Any Command document. When its steps are named after the profile's components, the run
   * reports the component being configured step by step.
   */
  | { kind: 'document'; documentName: string; documentVersion?: string; parameters?: Record<string, string[]> }
  /**
   * The cluster's master as the Ansible controller (needs `controller` in the options):
   * `configuration/container/run-profile.sh <playbook>` runs there against every node, in three
   * `AWS-RunShellScript` stages (prepare, authorize, run). @default playbook: the profile's name
   */
  | { kind: 'controller'; playbook?: string };

export interface SsmProfile {
  /** The profile's steps in order; they become the phases `configure:<component>`. */
  components: string[];
  run: SsmRun;
}

/** What the controller mode needs besides SSM: the bundle, a place for the inputs, and URLs to both. */
export interface ControllerSettings {
  /** `s3://<bucket>/<key>` of the configuration bundle: a zip of configuration/. */
  bundleUri: string;
  /** Where a run's inventory and extra vars are written (`<cluster id>/<attempt>/…`). */
  inputs: ConfigurationInputs;
  /** A GET URL for an `s3://` URI: the master fetches with it, having no S3 rights of its own. */
  presign: (uri: string, expiresInSeconds: number) => Promise<string>;
}

/** The inventory variables every runner that logs in to EC2 nodes gives Ansible: who, and the time source. */
export interface Ec2InventoryVars {
  /** The image's login user, whom the controller key opens the workers as. */
  ansible_user: string;
  ntp_servers: string[];
}

export const ec2InventoryVars = (loginUser: string = DEFAULT_LOGIN_USER): Ec2InventoryVars => ({ ansible_user: loginUser, ntp_servers: [EC2_TIME_SERVER] });

export interface SsmConfigurationOptions {
  /**
   * Profiles by name. `none` is built in (nothing to run); with `controller`, so are `lambda`
   * and `script` (the master as Ansible controller). An entry replaces a built-in one.
   */
  profiles?: Record<string, SsmProfile>;
  /** Enables the controller mode and the built-in `lambda` and `script` profiles. */
  controller?: ControllerSettings;
  /** The playbooks' location, used by `ansible` runs that name no source of their own. */
  playbooks?: PlaybookSource;
  /** How long a node may run its configuration. @default 3600 */
  executionTimeoutSeconds?: number;
  /** How long SSM may take to deliver the command to a node (SendCommand `TimeoutSeconds`). @default 600 */
  deliveryTimeoutSeconds?: number;
  /** Sends the command output to this CloudWatch Logs group; off when absent. */
  cloudWatchLogGroupName?: string;
  /** Keeps the full command output in S3; off when absent (SSM keeps 2500 characters per step). */
  outputS3?: { bucketName: string; keyPrefix?: string };
}

export interface ConfigurationNode {
  id: string;
  name: string;
  role: string;
  /** Known when looked up for a controller stage: the master's holds the controller key to its address. */
  privateIp?: string;
}

/** The components of the seed service's stack, in the order the seed reports them. */
export const LAMBDA_COMPONENTS = ['common', 'hdfs', 'yarn', 'kafka', 'flink'] as const;

/** The id of a run with nothing to do: answered without asking SSM. */
const NONE_RUN = 'none';
const RUN_PREFIX = 'ssm';
/** `ssm-controller:<profile>:<attempt>:<stage>:<commandId>,…` */
const CONTROLLER_PREFIX = 'ssm-controller';
const CONTROLLER_STAGES = ['prepare', 'authorize', 'run'] as const;
type ControllerStage = (typeof CONTROLLER_STAGES)[number];
const STAGE_WORDS: Record<ControllerStage, string> = {
  prepare: 'preparing the master as controller',
  authorize: 'authorizing the controller key on the workers',
  run: 'running the profile from the master',
};
/** The login user of Debian's AMIs (the images configuration/ targets first; Ubuntu's is `ubuntu`). */
export const DEFAULT_LOGIN_USER = 'admin';
/** Where presigned URLs stop: a run starts fetching within seconds of its command. */
const MAX_URL_SECONDS = 12 * 3600;
/** The built-in profiles of the controller mode: the repository's playbooks as they are. */
const CONTROLLER_PROFILES: Record<string, SsmProfile> = {
  lambda: { components: ['common', 'hdfs', 'yarn', 'kafka', 'flink'], run: { kind: 'controller' } },
  script: { components: ['script'], run: { kind: 'controller' } },
};
/** The Amazon Time Sync Service, reachable from every instance. */
const EC2_TIME_SERVER = '169.254.169.123';
const MAX_INSTANCES_PER_COMMAND = 50;
/** DescribeInstanceInformation's largest page. */
const MAX_INFORMATION_RESULTS = 50;
const FAILED_STATES = new Set(['Failed', 'TimedOut', 'Cancelled', 'Cancelling']);
/**
 * A node's configuration from its invocation's `Status` (docs/ec2-provider.md). The terminal
 * `StatusDetails` Undeliverable and Terminated (MaxErrors reached) count as failures whatever the
 * status says beside them.
 */
const NODE_STATES: Record<string, NodeConfigurationState> = {
  Pending: 'PENDING',
  Delayed: 'PENDING',
  InProgress: 'RUNNING',
  Success: 'SUCCEEDED',
  Failed: 'FAILED',
  TimedOut: 'FAILED',
  Cancelled: 'FAILED',
  Cancelling: 'FAILED',
};
const FAILED_DETAILS = new Set(['Undeliverable', 'Terminated', 'DeliveryTimedOut', 'ExecutionTimedOut']);
/** A command that has not failed can be adopted by a retried start instead of sending another. */
const LIVE_COMMAND_STATES = new Set(['Pending', 'InProgress', 'Success']);
// SendCommand says so when the agent of a node that was Online a moment ago has not checked in again.
const SSM_TRANSIENT_CODES = ['InvalidInstanceId'];
/** How much of a failed node's output goes into the cluster's error message. */
const MESSAGE_TAIL_CHARS = 400;
/** How much goes into a node's own configuration message: the cluster record holds one per node. */
const NODE_MESSAGE_CHARS = 200;

/** SSM's answer in the domain's terms: throttling and 5xx are retried by the workflow, the rest is final. */
export const ssmError = (operation: string, error: unknown): Error =>
  awsError('SSM', operation, error, {
    transient: SSM_TRANSIENT_CODES,
    refusal: (sdk) => new ProviderError(sdk.name, `SSM ${operation}: ${sdk.message}`),
  });

const tail = (text: string, chars: number): string => {
  const trimmed = text.trim();
  return trimmed.length <= chars ? trimmed : `…${trimmed.slice(-chars)}`;
};

/**
 * What a failed node's output says about the failure. configuration/container/run-profile.sh
 * (run on a controller node) prints `COMPONENT <name> FAILED <node>` (#domain/component-lines),
 * which names both the component and the node to blame; Ansible prints `TASK [<role> : …]` for
 * a role's tasks; a script may print `==> component <name>`. Only the profile's own components
 * count, and the last one named is where the run stopped.
 */
export const failureReport = (output: string, components: readonly string[]): { component?: string; node?: string } => {
  const failed = componentLines(output).find((line) => line.state === 'FAILED' && components.includes(line.component));
  if (failed) return { component: failed.component, ...(failed.node ? { node: failed.node } : {}) };
  let component: string | undefined;
  for (const match of output.matchAll(/^COMPONENT (\S+) START|TASK \[([\w.-]+) : |==> component ([\w.-]+)/gm)) {
    const name = match[1] ?? match[2] ?? match[3];
    if (name !== undefined && components.includes(name)) component = name;
  }
  return component ? { component } : {};
};

/** An invocation's state as a node's; an invocation in a state SSM may add later reads as still RUNNING. */
export const invocationState = (invocation: Pick<CommandInvocation, 'Status' | 'StatusDetails'>): NodeConfigurationState =>
  FAILED_DETAILS.has(invocation.StatusDetails ?? '') ? 'FAILED' : (NODE_STATES[invocation.Status ?? ''] ?? 'RUNNING');

/** Why an invocation failed, short: its status, exit code and the tail of what it printed (the list keeps 2500 characters). */
const invocationFailure = (invocation: CommandInvocation): string => {
  const failedStep = invocation.CommandPlugins?.find((plugin) => FAILED_STATES.has(plugin.Status ?? '')) ?? invocation.CommandPlugins?.[0];
  const why = [
    invocation.StatusDetails && invocation.StatusDetails !== invocation.Status ? invocation.StatusDetails : invocation.Status,
    failedStep?.ResponseCode !== undefined && failedStep.ResponseCode >= 0 ? `exit code ${failedStep.ResponseCode}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const said = tail(failedStep?.Output ?? '', NODE_MESSAGE_CHARS);
  return `${why}${said ? `: ${said}` : ''}`;
};

/** A node's name by its instance id (SsmConfigurationRunner.nodeNamer). */
type NodeNamer = (instanceId: string) => Promise<string>;

/** Values SSM's `ExtraVariables` pattern accepts unquoted: no spaces and none of `|:();&'`. */
const SAFE_VARIABLE = /^[^\s|:();&'"]+$/;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/;


export class SsmConfigurationRunner {
  private readonly profiles: Map<string, SsmProfile>;
  private readonly executionTimeoutSeconds: number;
  private readonly deliveryTimeoutSeconds: number;

  constructor(
    private readonly ssm: SSMClient,
    /** Marks the commands as this deployment's (`Comment`), so a retried start can find them. */
    private readonly serviceTag: string,
    private readonly options: SsmConfigurationOptions = {},
    /** The controller's inventory variables: the provider's own, so both runners log in alike. */
    private readonly inventoryVars: Ec2InventoryVars = ec2InventoryVars(),
  ) {
    this.executionTimeoutSeconds = options.executionTimeoutSeconds ?? 3600;
    this.deliveryTimeoutSeconds = options.deliveryTimeoutSeconds ?? 600;
    // SSM's own bounds: a document's execution timeout up to 48 h, delivery 30 s to 30 days.
    if (!Number.isInteger(this.executionTimeoutSeconds) || this.executionTimeoutSeconds < 1 || this.executionTimeoutSeconds > 172_800) {
      throw new Error(`executionTimeoutSeconds must be a whole number of seconds from 1 to 172800; got ${this.executionTimeoutSeconds}`);
    }
    if (!Number.isInteger(this.deliveryTimeoutSeconds) || this.deliveryTimeoutSeconds < 30 || this.deliveryTimeoutSeconds > 2_592_000) {
      throw new Error(`deliveryTimeoutSeconds must be a whole number of seconds from 30 to 2592000; got ${this.deliveryTimeoutSeconds}`);
    }
    // AWS-ApplyAnsiblePlaybooks runs a playbook on each node by itself, which the repository's
    // controller playbooks cannot do: they are built in only where the master can be their controller.
    this.profiles = new Map(Object.entries({ ...(options.controller ? CONTROLLER_PROFILES : {}), ...options.profiles }));
    for (const [name, profile] of this.profiles) {
      if (profile.run.kind === 'controller' && !options.controller) {
        throw new Error(`configuration profile '${name}' runs on the master as controller, but no configuration bundle is set`);
      }
      if (name === NONE_RUN) throw new Error(`configuration profile '${NONE_RUN}' is built in and cannot be configured`);
      if (profile.components.length === 0) throw new Error(`configuration profile '${name}' needs at least one component`);
      if (profile.run.kind === 'ansible' && !profile.run.source && !options.playbooks) {
        throw new Error(`configuration profile '${name}' runs playbooks but neither it nor the settings name a playbook source`);
      }
    }
  }

  /** The profiles this runner can apply, `none` included. */
  profileNames(): string[] {
    return [NONE_RUN, ...this.profiles.keys()];
  }

  /**
   * The nodes whose SSM agent is not Online, by instance id: the workflow's wait before it starts
   * a run. None for `none`, which sends no command; UnknownProfile for a profile this runner lacks.
   */
  async offlineAgents(input: { profile: string; nodes: ConfigurationNode[] }): Promise<string[]> {
    if (input.profile === NONE_RUN || input.nodes.length === 0) return [];
    this.profileNamed(input.profile);
    const ids = input.nodes.map((node) => node.id);
    const online = await this.onlineOf(ids);
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
    if (profile.run.kind === 'controller') return this.startController(input, profile.run.playbook ?? input.profile);
    await this.assertOnline(input.nodes.map((node) => node.id));
    const variables = (await input.variables?.()) ?? {};
    const comment = this.comment(input.clusterId, input.profile);
    const commandIds: string[] = [];
    // One command per role: a node learns its role from the command's parameters.
    const roles = [...new Set(input.nodes.map((node) => node.role))];
    for (const role of roles) {
      const ids = input.nodes.filter((node) => node.role === role).map((node) => node.id);
      for (const instanceIds of chunk(ids, MAX_INSTANCES_PER_COMMAND)) {
        const request = this.sendRequest(profile, instanceIds, comment, { cluster_id: input.clusterId, node_role: role, ...variables });
        commandIds.push((await this.sentBefore(request)) ?? (await this.send(request)));
      }
    }
    return `${RUN_PREFIX}:${input.profile}:${commandIds.join(',')}`;
  }

  /**
   * Where the run is: FAILED as soon as one node failed (naming it), SUCCEEDED once every node
   * succeeded, RUNNING otherwise. `nodeName` turns the failed instance id into the node's name.
   */
  async describe(input: {
    configurationId: string;
    nodeName?: (instanceId: string) => Promise<string>;
    /** The cluster's live nodes with their addresses: a controller run's next stage is sent to them. */
    nodes?: () => Promise<ConfigurationNode[]>;
    /** The cluster's servers as recorded: they name the nodes of the per-node results without a lookup. */
    servers?: readonly { id: string; name: string; role: string }[];
    clusterId?: string;
  }): Promise<ConfigurationStatus> {
    if (input.configurationId === NONE_RUN) return { state: 'SUCCEEDED', component: NONE_RUN, message: 'nothing to configure' };
    const namer = this.nodeNamer(input);
    if (input.configurationId.startsWith(`${CONTROLLER_PREFIX}:`)) return this.describeController({ ...input, nodeName: namer });
    const [prefix, profileName, ids] = input.configurationId.split(':');
    const commandIds = (ids ?? '').split(',').filter((id) => id.length > 0);
    if (prefix !== RUN_PREFIX || !profileName || commandIds.length === 0) {
      throw new ProviderError('ConfigurationNotFound', `'${input.configurationId}' is not an SSM configuration run`);
    }
    const components = this.profiles.get(profileName)?.components ?? [profileName];
    const { invocations, listedEveryCommand } = await this.invocationsOf(commandIds);
    // Each node runs the profile itself: its invocation is its configuration.
    const nodes = await this.nodeResults(invocations, namer);

    const failed = invocations.find((invocation) => invocationState(invocation) === 'FAILED');
    if (failed) {
      const status = await this.failure(failed, components, namer);
      // The failure's own account of the nodes it names (the longer output, the blamed hosts) wins.
      return { ...status, nodes: { ...nodes, ...status.nodes } };
    }
    const first = components[0] ?? profileName;
    if (invocations.length === 0) return { state: 'RUNNING', component: first };
    if (listedEveryCommand && invocations.every((invocation) => invocation.Status === 'Success')) {
      return {
        state: 'SUCCEEDED',
        component: components[components.length - 1] ?? profileName,
        message: `profile ${profileName} applied to ${invocations.length} node(s)`,
        nodes,
      };
    }
    // Steps named after components tell how far the slowest node is; a one-step document cannot.
    const unfinished = components.find((component) =>
      invocations.some((invocation) => {
        const step = invocation.CommandPlugins?.find((plugin) => plugin.Name === component);
        return step !== undefined && step.Status !== 'Success';
      }),
    );
    return { state: 'RUNNING', component: unfinished ?? first, nodes };
  }

  /**
   * Names a run's nodes by instance id: from the recorded servers; failing that from one listing of
   * the cluster's nodes per describe (not one lookup per node on every poll); then by the lookup
   * of the one instance; else the id itself.
   */
  private nodeNamer(input: {
    nodeName?: (instanceId: string) => Promise<string>;
    nodes?: () => Promise<ConfigurationNode[]>;
    servers?: readonly { id: string; name: string }[];
  }): NodeNamer {
    const known = new Map((input.servers ?? []).map((server) => [server.id, server.name]));
    let listed: Promise<Map<string, string>> | undefined;
    return async (instanceId) => {
      const recorded = known.get(instanceId);
      if (recorded !== undefined) return recorded;
      if (input.nodes) {
        listed ??= input.nodes().then(
          (nodes) => new Map(nodes.map((node) => [node.id, node.name])),
          () => new Map<string, string>(),
        );
        const found = (await listed).get(instanceId);
        if (found !== undefined) return found;
      }
      return input.nodeName ? input.nodeName(instanceId).catch(() => instanceId) : instanceId;
    };
  }

  /**
   * Each listed invocation as its node's configuration. `stage`: a controller stage before `run`,
   * which configures nothing yet — a node it succeeded on is RUNNING still, its message the stage.
   */
  private async nodeResults(invocations: CommandInvocation[], nodeName: NodeNamer, stage?: ControllerStage): Promise<Record<string, NodeConfiguration>> {
    const nodes: Record<string, NodeConfiguration> = {};
    for (const invocation of invocations) {
      const instanceId = invocation.InstanceId;
      if (!instanceId) continue;
      const state = invocationState(invocation);
      const name = await nodeName(instanceId);
      if (state === 'FAILED') {
        nodes[name] = { state, message: tail(`${stage ? `${STAGE_WORDS[stage]} failed: ` : ''}${invocationFailure(invocation)}`, NODE_MESSAGE_CHARS) };
      } else if (stage && stage !== 'run') {
        nodes[name] = { state: state === 'SUCCEEDED' ? 'RUNNING' : state, message: STAGE_WORDS[stage] };
      } else {
        nodes[name] = { state };
      }
    }
    return nodes;
  }

  private comment(clusterId: string, profile: string): string {
    return `${this.serviceTag} ${clusterId} ${profile}`.slice(0, 100);
  }

  private profileNamed(name: string): SsmProfile {
    const profile = this.profiles.get(name);
    if (!profile) throw new ProviderError('UnknownProfile', `No SSM configuration for profile '${name}'; this deployment has ${this.profileNames().join(', ')}`);
    return profile;
  }

  private async assertOnline(instanceIds: string[]): Promise<void> {
    const online = await this.onlineOf(instanceIds);
    const waiting = instanceIds.filter((id) => !online.has(id));
    if (waiting.length > 0) {
      const named = waiting.slice(0, 5).join(', ') + (waiting.length > 5 ? ', …' : '');
      throw new TransientProviderError(`${waiting.length} of ${instanceIds.length} instance(s) not yet Online in SSM: ${named}`);
    }
  }

  /** Which of the instances SSM lists as Online: one DescribeInstanceInformation page per 50. */
  private async onlineOf(instanceIds: string[]): Promise<Set<string>> {
    const online = new Set<string>();
    for (const ids of chunk(instanceIds, MAX_INFORMATION_RESULTS)) {
      let nextToken: string | undefined;
      do {
        const page = await this.call('DescribeInstanceInformation', () =>
          this.ssm.send(
            new DescribeInstanceInformationCommand({
              Filters: [{ Key: 'InstanceIds', Values: ids }],
              MaxResults: MAX_INFORMATION_RESULTS,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          ),
        );
        for (const info of page.InstanceInformationList ?? []) {
          if (info.InstanceId && info.PingStatus === 'Online') online.add(info.InstanceId);
        }
        nextToken = page.NextToken || undefined;
      } while (nextToken);
    }
    return online;
  }

  private sendRequest(profile: SsmProfile, instanceIds: string[], comment: string, variables: Record<string, string>): SendCommandRequest {
    for (const [name, value] of Object.entries(variables)) {
      if (!VARIABLE_NAME.test(name) || !SAFE_VARIABLE.test(value)) {
        throw new ProviderError('InvalidConfigurationVariable', `configuration variable ${name}=${value} cannot be passed to SSM safely`);
      }
    }
    const common = this.commonRequest(instanceIds, comment);
    const run = profile.run;
    switch (run.kind) {
      case 'shell':
        return {
          ...common,
          DocumentName: 'AWS-RunShellScript',
          Parameters: {
            commands: [...Object.entries(variables).map(([name, value]) => `export ${name.toUpperCase()}=${shellQuote(value)}`), ...run.commands],
            executionTimeout: [String(this.executionTimeoutSeconds)],
          },
        };
      case 'ansible': {
        const source = run.source ?? this.options.playbooks;
        if (!source) throw new ProviderError('UnknownProfile', 'the profile runs playbooks but no playbook source is set');
        return {
          ...common,
          DocumentName: 'AWS-ApplyAnsiblePlaybooks',
          Parameters: {
            SourceType: [source.sourceType],
            SourceInfo: [JSON.stringify(source.sourceInfo)],
            InstallDependencies: [run.installDependencies === false ? 'False' : 'True'],
            PlaybookFile: [run.playbookFile],
            ExtraVariables: [['SSM=True', ...Object.entries(variables).map(([name, value]) => `${name}=${value}`)].join(' ')],
            Check: ['False'],
            Verbose: ['-v'],
            TimeoutSeconds: [String(this.executionTimeoutSeconds)],
          },
        };
      }
      case 'document':
        return {
          ...common,
          DocumentName: run.documentName,
          ...(run.documentVersion ? { DocumentVersion: run.documentVersion } : {}),
          ...(run.parameters ? { Parameters: run.parameters } : {}),
        };
      case 'controller':
        throw new Error('controller runs are sent stage by stage');
    }
  }

  private commonRequest(instanceIds: string[], comment: string) {
    return {
      InstanceIds: instanceIds,
      Comment: comment,
      TimeoutSeconds: this.deliveryTimeoutSeconds,
      // Every node gets the configuration even when another fails: a failure names its node either way.
      MaxConcurrency: '100%',
      MaxErrors: '100%',
      ...(this.options.cloudWatchLogGroupName
        ? { CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: this.options.cloudWatchLogGroupName } }
        : {}),
      ...(this.options.outputS3
        ? { OutputS3BucketName: this.options.outputS3.bucketName, ...(this.options.outputS3.keyPrefix ? { OutputS3KeyPrefix: this.options.outputS3.keyPrefix } : {}) }
        : {}),
    };
  }

  // --- controller mode: the master runs the profile against every node ------------------------

  /**
   * Writes the run's inventory and extra vars, then sends `prepare` to the master. The later
   * stages go out from describe, each once the one before has succeeded everywhere.
   */
  private async startController(
    input: { clusterId: string; profile: string; nodes: ConfigurationNode[]; cluster?: ConfigurationCluster },
    playbook: string,
  ): Promise<string> {
    const controller = this.controllerSettings();
    const { cluster } = input;
    if (!cluster) throw new Error(`profile '${input.profile}' runs from the master and needs the cluster's record to build its inventory`);
    const master = this.masterOf(input.nodes);
    await this.assertOnline(input.nodes.map((node) => node.id));
    const prefix = `${cluster.id}/${cluster.attempt}`;
    // Retried, the same documents go to the same keys; a later attempt never reads an earlier one's.
    const inventory = controllerInventory(cluster, { ...this.inventoryVars });
    await controller.inputs.put(`${prefix}/inventory.json`, JSON.stringify(inventory));
    await controller.inputs.put(`${prefix}/extra-vars.json`, JSON.stringify(buildExtraVars(cluster.spec.configuration.parameters)));
    const run = { clusterId: input.clusterId, profile: input.profile, attempt: cluster.attempt, playbook };
    return this.sendStage(run, 'prepare', [master.id], prepareScript());
  }

  private async describeController(input: {
    configurationId: string;
    clusterId?: string;
    nodeName: NodeNamer;
    nodes?: () => Promise<ConfigurationNode[]>;
    servers?: readonly { id: string; name: string; role: string }[];
  }): Promise<ConfigurationStatus> {
    const [, profileName = '', attemptText = '', stageText = '', ids = ''] = input.configurationId.split(':');
    const commandIds = ids.split(',').filter((id) => id.length > 0);
    const stage = CONTROLLER_STAGES.find((known) => known === stageText);
    const attempt = Number(attemptText);
    if (!profileName || !stage || !Number.isInteger(attempt) || attempt < 1 || commandIds.length === 0 || !input.clusterId) {
      throw new ProviderError('ConfigurationNotFound', `'${input.configurationId}' is not an SSM controller run`);
    }
    const profile = this.profiles.get(profileName);
    const components = profile?.components ?? [profileName];
    const first = components[0] ?? profileName;
    const { invocations, listedEveryCommand } = await this.invocationsOf(commandIds);
    // `prepare` and `authorize` tell where their own nodes are; `run` runs on the master alone, so
    // its invocation says nothing of the others: only its COMPONENT … FAILED lines and its success do.
    const staged = stage === 'run' ? {} : await this.nodeResults(invocations, input.nodeName, stage);

    const failed = invocations.find((invocation) => invocationState(invocation) === 'FAILED');
    if (failed) {
      // Before `run`, no component has started: the first stands for the stage, which the message names.
      const status =
        stage === 'run' ? await this.failure(failed, components, input.nodeName) : await this.failure(failed, [first], input.nodeName, STAGE_WORDS[stage]);
      return { ...status, nodes: { ...(stage === 'run' ? {} : staged), ...status.nodes } };
    }
    if (!listedEveryCommand || invocations.length === 0 || !invocations.every((invocation) => invocation.Status === 'Success')) {
      return { state: 'RUNNING', component: first, message: STAGE_WORDS[stage], ...(stage === 'run' ? {} : { nodes: staged }) };
    }
    if (stage === 'run') {
      const everyNode = input.servers?.length ? input.servers : input.nodes ? await input.nodes() : [];
      return {
        state: 'SUCCEEDED',
        component: components[components.length - 1] ?? profileName,
        message: `profile ${profileName} applied from the master`,
        nodes: Object.fromEntries(everyNode.map((node) => [node.name, { state: 'SUCCEEDED' as const }])),
      };
    }

    const run = {
      clusterId: input.clusterId,
      profile: profileName,
      attempt,
      playbook: (profile?.run.kind === 'controller' ? profile.run.playbook : undefined) ?? profileName,
    };
    if (!input.nodes) throw new Error('a controller run needs the cluster\'s nodes to go on');
    const nodes = await input.nodes();
    const master = this.masterOf(nodes);
    const workers = nodes.filter((node) => node.role !== MASTER_ROLE);
    let next: string;
    if (stage === 'prepare' && workers.length > 0) {
      const prepared = invocations[0]!;
      const publicKey = await this.controllerKey(prepared);
      if (!publicKey) {
        const node = await input.nodeName(master.id);
        return {
          state: 'FAILED',
          component: first,
          failedNode: node,
          message: `${STAGE_WORDS.prepare} on ${node} (${master.id}): it printed no CONTROLLER_KEY line`,
          nodes: { ...staged, [node]: { state: 'FAILED', message: `${STAGE_WORDS.prepare}: it printed no CONTROLLER_KEY line` } },
        };
      }
      const commands = authorizeScript({
        loginUser: this.inventoryVars.ansible_user,
        publicKey,
        ...(master.privateIp ? { masterIp: master.privateIp } : {}),
      });
      next = await this.sendStage(run, 'authorize', workers.map((node) => node.id), commands);
    } else {
      next = await this.sendStage(run, 'run', [master.id], await this.runCommands(run));
    }
    const stageNow = next.split(':')[3] as ControllerStage;
    return { state: 'RUNNING', component: first, message: STAGE_WORDS[stageNow], configurationId: next, nodes: staged };
  }

  private controllerSettings(): ControllerSettings {
    if (!this.options.controller) throw new ProviderError('UnknownProfile', 'controller runs need the configuration bundle, which this deployment does not set');
    return this.options.controller;
  }

  private masterOf(nodes: ConfigurationNode[]): ConfigurationNode {
    const masters = nodes.filter((node) => node.role === MASTER_ROLE);
    if (masters.length !== 1) throw new ProviderError('InvalidCluster', `a controller run needs exactly one master; the cluster has ${masters.length}`);
    return masters[0]!;
  }

  /** The URLs go stale: signed only when the master is about to use them. */
  private async runCommands(run: { clusterId: string; attempt: number; playbook: string }): Promise<string[]> {
    const controller = this.controllerSettings();
    const seconds = Math.min(this.executionTimeoutSeconds, MAX_URL_SECONDS);
    const prefix = `${run.clusterId}/${run.attempt}`;
    return runScript({
      profile: run.playbook,
      bundleUrl: await controller.presign(controller.bundleUri, seconds),
      inventoryUrl: await controller.presign(controller.inputs.uriOf(`${prefix}/inventory.json`), seconds),
      extraVarsUrl: await controller.presign(controller.inputs.uriOf(`${prefix}/extra-vars.json`), seconds),
    });
  }

  /** What `prepare` printed: its one invocation's full output (the list's 2,500 characters may have been taken by something else). */
  private async controllerKey(invocation: CommandInvocation): Promise<string | undefined> {
    const listed = invocation.CommandPlugins?.map((plugin) => plugin.Output ?? '').join('\n') ?? '';
    const fromList = controllerKeyFrom(listed);
    if (fromList) return fromList;
    const detail = await this.call('GetCommandInvocation', () =>
      this.ssm.send(new GetCommandInvocationCommand({ CommandId: invocation.CommandId, InstanceId: invocation.InstanceId })),
    );
    return controllerKeyFrom(detail.StandardOutputContent ?? '');
  }

  /**
   * One stage's commands (per 50 instances), or those a describe that stopped before its id was
   * recorded sent already: the comment names cluster, stage and attempt.
   */
  private async sendStage(
    run: { clusterId: string; profile: string; attempt: number },
    stage: ControllerStage,
    instanceIds: string[],
    commands: string[],
  ): Promise<string> {
    const comment = `${this.serviceTag} ${run.clusterId} ${stage}/${run.attempt} ${run.profile}`.slice(0, 100);
    const commandIds: string[] = [];
    for (const chunkIds of chunk(instanceIds, MAX_INSTANCES_PER_COMMAND)) {
      const request: SendCommandRequest = {
        ...this.commonRequest(chunkIds, comment),
        DocumentName: 'AWS-RunShellScript',
        Parameters: { commands, executionTimeout: [String(this.executionTimeoutSeconds)] },
      };
      commandIds.push((await this.sentBefore(request)) ?? (await this.send(request)));
    }
    return `${CONTROLLER_PREFIX}:${run.profile}:${run.attempt}:${stage}:${commandIds.join(',')}`;
  }

  /**
   * SendCommand has no client token. A start retried after its commands went out (the Lambda
   * timed out before the workflow stored the id) finds them by the chunk's first instance, the
   * comment and the exact instance list, and adopts one that has not failed.
   */
  private async sentBefore(request: SendCommandRequest): Promise<string | undefined> {
    const first = request.InstanceIds?.[0];
    if (!first) return undefined;
    const listed = await this.call('ListCommands', () =>
      this.ssm.send(new ListCommandsCommand({ InstanceId: first, Filters: [{ key: 'DocumentName', value: request.DocumentName ?? '' }] })),
    );
    const wanted = [...(request.InstanceIds ?? [])].sort().join(',');
    const found = (listed.Commands ?? []).find(
      (command) =>
        command.Comment === request.Comment &&
        LIVE_COMMAND_STATES.has(command.Status ?? '') &&
        [...(command.InstanceIds ?? [])].sort().join(',') === wanted,
    );
    return found?.CommandId;
  }

  private async send(request: SendCommandRequest): Promise<string> {
    const sent = await this.call('SendCommand', () => this.ssm.send(new SendCommandCommand(request)));
    const id = sent.Command?.CommandId;
    if (!id) throw new TransientProviderError('SSM SendCommand answered without a command id');
    return id;
  }

  /**
   * Every invocation of the commands, and whether SSM listed some for each: a command it lists none
   * for yet (just sent) is not finished, whatever the others say.
   */
  private async invocationsOf(commandIds: readonly string[]): Promise<{ invocations: CommandInvocation[]; listedEveryCommand: boolean }> {
    const invocations: CommandInvocation[] = [];
    let listedEveryCommand = true;
    for (const commandId of commandIds) {
      const listed = await this.invocations(commandId);
      if (listed.length === 0) listedEveryCommand = false;
      invocations.push(...listed);
    }
    return { invocations, listedEveryCommand };
  }

  private async invocations(commandId: string): Promise<CommandInvocation[]> {
    const all: CommandInvocation[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListCommandInvocations', () =>
        this.ssm.send(
          new ListCommandInvocationsCommand({ CommandId: commandId, Details: true, MaxResults: 50, ...(nextToken ? { NextToken: nextToken } : {}) }),
        ),
      );
      all.push(...(page.CommandInvocations ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return all;
  }

  /**
   * The failed node's component and message. The step that failed names the component when the
   * document has a step per component; otherwise the node's output may (see failureReport);
   * otherwise the profile's first component stands for the whole run.
   */
  private async failure(
    invocation: CommandInvocation,
    components: string[],
    nodeName?: (instanceId: string) => Promise<string>,
    /** A controller stage before `run`: named in the message, since no component ran yet. */
    stage?: string,
  ): Promise<ConfigurationStatus> {
    const plugins = invocation.CommandPlugins ?? [];
    const failedStep: CommandPlugin | undefined = plugins.find((plugin) => FAILED_STATES.has(plugin.Status ?? ''));
    const instanceId = invocation.InstanceId ?? 'unknown instance';
    // The invocation list keeps 2500 characters of output; the invocation itself keeps more.
    let output = failedStep?.Output ?? '';
    let errorOutput = '';
    if (invocation.CommandId && invocation.InstanceId) {
      try {
        const detail = await this.ssm.send(
          new GetCommandInvocationCommand({
            CommandId: invocation.CommandId,
            InstanceId: invocation.InstanceId,
            ...(plugins.length > 1 && failedStep?.Name ? { PluginName: failedStep.Name } : {}),
          }),
        );
        output = detail.StandardOutputContent || output;
        errorOutput = detail.StandardErrorContent ?? '';
      } catch {
        // The short output from the list is still there to explain the failure.
      }
    }
    const stepComponent = failedStep?.Name && components.includes(failedStep.Name) ? failedStep.Name : undefined;
    const report = failureReport(output, components);
    const component = stepComponent ?? report.component ?? components[0] ?? 'configuration';
    // A controller's report names the node to blame; otherwise it is the node the command failed on.
    const node = report.node ?? (nodeName ? await nodeName(instanceId).catch(() => instanceId) : instanceId);
    const why = [invocation.Status, failedStep?.ResponseCode !== undefined ? `exit code ${failedStep.ResponseCode}` : undefined]
      .filter(Boolean)
      .join(', ');
    const said = tail(errorOutput || output, MESSAGE_TAIL_CHARS);
    const headline = stage ? `${stage} failed` : `${component} failed`;
    // Every node a COMPONENT … FAILED line blames (a controller's run reports each host it lost), the first with the output's tail.
    const blamed = componentLines(output).flatMap((line) =>
      line.state === 'FAILED' && line.node && line.node !== node && components.includes(line.component) ? [line] : [],
    );
    return {
      state: 'FAILED',
      component,
      failedNode: node,
      message: `${headline} on ${node} (${instanceId}, ${why})${said ? `: ${said}` : ''}`,
      nodes: {
        ...Object.fromEntries(blamed.map((line) => [line.node, { state: 'FAILED' as const, message: `${line.component} failed` }])),
        [node]: { state: 'FAILED', message: tail(`${headline} (${why})${said ? `: ${said}` : ''}`, NODE_MESSAGE_CHARS) },
      },
    };
  }

  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw ssmError(operation, error);
    }
  }
}
