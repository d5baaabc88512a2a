/**
 * A run with the cluster's master as the Ansible controller (docs/ec2-provider.md, "Controller
 * mode"): three commands one after the other — `prepare`, `authorize`, `run`
 * (./controller-scripts.ts). Describing only reports, naming the next stage once one has finished
 * everywhere; sending that stage is its own call (`sendNextStage`), made by the workflow's check.
 */
import type { CommandInvocation, SendCommandRequest } from '@aws-sdk/client-ssm';
import { ProviderError } from '#domain/errors';
import { buildExtraVars, controllerInventory } from '#domain/configuration-inventory';
import { MASTER_ROLE, type NodeConfiguration } from '#domain/model';
import type { ConfigurationCluster, ConfigurationStatus } from '#domain/provider';
import { chunk } from '#lib/batching';
import { authorizeScript, controllerKeyFrom, prepareScript, runScript } from '#domain/controller-scripts';
import { MAX_INSTANCES_PER_COMMAND, type SsmCommands } from './commands.ts';
import { invocationState, nodeNamer, nodeResults, runFailure, type NodeLookups, type NodeNamer } from './node-results.ts';
import type { ConfigurationNode, ControllerSettings, RunnerSettings } from './settings.ts';

/** `ssm-controller:<profile>:<attempt>:<stage>:<commandId>,…` */
export const CONTROLLER_PREFIX = 'ssm-controller';
const CONTROLLER_STAGES = ['prepare', 'authorize', 'run'] as const;
type ControllerStage = (typeof CONTROLLER_STAGES)[number];
const STAGE_WORDS: Record<ControllerStage, string> = {
  prepare: 'preparing the master as controller',
  authorize: 'authorizing the controller key on the workers',
  run: 'running the profile from the master',
};
/** Where presigned URLs stop: a run starts fetching within seconds of its command. */
const MAX_URL_SECONDS = 12 * 3600;

interface Run {
  clusterId: string;
  profile: string;
  attempt: number;
  playbook: string;
}

/** A stage before `run` that succeeded everywhere: what sending its successor starts from. */
interface FinishedStage {
  run: Run;
  stage: Exclude<ControllerStage, 'run'>;
  invocations: CommandInvocation[];
  /** The nodes as the finished stage left them. */
  staged: Record<string, NodeConfiguration>;
  first: string;
}

type ControllerInput = { configurationId: string; clusterId?: string } & NodeLookups;

export class ControllerRun {
  constructor(
    private readonly commands: SsmCommands,
    private readonly settings: RunnerSettings,
  ) {}

  /** Writes the run's inventory and extra vars, then sends `prepare` to the master. */
  async start(input: { clusterId: string; profile: string; nodes: ConfigurationNode[]; cluster?: ConfigurationCluster }, playbook: string): Promise<string> {
    const controller = this.controllerSettings();
    const { cluster } = input;
    if (!cluster) throw new Error(`profile '${input.profile}' runs from the master and needs the cluster's record to build its inventory`);
    const master = masterOf(input.nodes);
    await this.commands.assertOnline(input.nodes.map((node) => node.id));
    const prefix = `${cluster.id}/${cluster.attempt}`;
    // Retried, the same documents go to the same keys; a later attempt never reads an earlier one's.
    const inventory = controllerInventory(cluster, { ...this.settings.inventoryVars });
    await controller.inputs.put(`${prefix}/inventory.json`, JSON.stringify(inventory));
    await controller.inputs.put(`${prefix}/extra-vars.json`, JSON.stringify(buildExtraVars(cluster.spec.configuration.parameters)));
    const run = { clusterId: input.clusterId, profile: input.profile, attempt: cluster.attempt, playbook };
    return this.sendStage(run, 'prepare', [master.id], prepareScript());
  }

  /** Where the stage is; a stage done everywhere is answered RUNNING with the stage to send next. */
  async describe(input: ControllerInput): Promise<ConfigurationStatus> {
    const read = await this.read(input);
    if ('status' in read) return read.status;
    const { stage, staged, first } = read.finished;
    return { state: 'RUNNING', component: first, message: `${STAGE_WORDS[stage]}: done`, nodes: staged, nextStage: await nextStageAfter(stage, input) };
  }

  /**
   * Sends the stage after a finished one to the cluster's running instances and answers the run's
   * new id; anything else is answered as `describe` would, sending nothing.
   */
  async sendNextStage(input: ControllerInput): Promise<ConfigurationStatus> {
    const namer = nodeNamer(input);
    const read = await this.read(input, namer);
    if ('status' in read) return read.status;
    const { run, stage, invocations, staged, first } = read.finished;
    if (!input.nodes) throw new Error('a controller run needs the cluster\'s nodes to go on');
    const nodes = await input.nodes();
    const master = masterOf(nodes);
    const workers = nodes.filter((node) => node.role !== MASTER_ROLE);
    let next: string;
    if (stage === 'prepare' && workers.length > 0) {
      const publicKey = await this.controllerKey(invocations[0]!);
      if (!publicKey) {
        const node = await namer(master.id);
        return {
          state: 'FAILED',
          component: first,
          failedNode: node,
          message: `${STAGE_WORDS.prepare} on ${node} (${master.id}): it printed no CONTROLLER_KEY line`,
          nodes: { ...staged, [node]: { state: 'FAILED', message: `${STAGE_WORDS.prepare}: it printed no CONTROLLER_KEY line` } },
        };
      }
      const commands = authorizeScript({
        loginUser: this.settings.inventoryVars.ansible_user,
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

  /** The run's status, unless its stage before `run` has just succeeded everywhere: then that stage. */
  private async read(input: ControllerInput, namer: NodeNamer = nodeNamer(input)): Promise<{ status: ConfigurationStatus } | { finished: FinishedStage }> {
    const [, profileName = '', attemptText = '', stageText = '', ids = ''] = input.configurationId.split(':');
    const commandIds = ids.split(',').filter((id) => id.length > 0);
    const stage = CONTROLLER_STAGES.find((known) => known === stageText);
    const attempt = Number(attemptText);
    if (!profileName || !stage || !Number.isInteger(attempt) || attempt < 1 || commandIds.length === 0 || !input.clusterId) {
      throw new ProviderError('ConfigurationNotFound', `'${input.configurationId}' is not an SSM controller run`);
    }
    const profile = this.settings.profiles.get(profileName);
    const components = profile?.components ?? [profileName];
    const first = components[0] ?? profileName;
    const { invocations, listedEveryCommand } = await this.commands.invocationsOf(commandIds);
    // `prepare` and `authorize` tell where their own nodes are; `run` runs on the master alone, so
    // its invocation says nothing of the others: only its COMPONENT … FAILED lines and its success do.
    const staged = stage === 'run' ? {} : await nodeResults(invocations, namer, STAGE_WORDS[stage]);

    const failed = invocations.find((invocation) => invocationState(invocation) === 'FAILED');
    if (failed) {
      // Before `run`, no component has started: the first stands for the stage, which the message names.
      const status =
        stage === 'run' ? await runFailure(this.commands, failed, components, namer) : await runFailure(this.commands, failed, [first], namer, STAGE_WORDS[stage]);
      return { status: { ...status, nodes: { ...staged, ...status.nodes } } };
    }
    if (!listedEveryCommand || invocations.length === 0 || !invocations.every((invocation) => invocation.Status === 'Success')) {
      return { status: { state: 'RUNNING', component: first, message: STAGE_WORDS[stage], ...(stage === 'run' ? {} : { nodes: staged }) } };
    }
    if (stage === 'run') {
      const everyNode = input.servers?.length ? input.servers : input.nodes ? await input.nodes() : [];
      return {
        status: {
          state: 'SUCCEEDED',
          component: components[components.length - 1] ?? profileName,
          message: `profile ${profileName} applied from the master`,
          nodes: Object.fromEntries(everyNode.map((node) => [node.name, { state: 'SUCCEEDED' as const }])),
        },
      };
    }
    const playbook = (profile?.run.kind === 'controller' ? profile.run.playbook : undefined) ?? profileName;
    return { finished: { run: { clusterId: input.clusterId, profile: profileName, attempt, playbook }, stage, invocations, staged, first } };
  }

  private controllerSettings(): ControllerSettings {
    const { controller } = this.settings.options;
    if (!controller) throw new ProviderError('UnknownProfile', 'controller runs need the configuration bundle, which this deployment does not set');
    return controller;
  }

  /** The URLs go stale: signed only when the master is about to use them. */
  private async runCommands(run: Run): Promise<string[]> {
    const controller = this.controllerSettings();
    const seconds = Math.min(this.settings.executionTimeoutSeconds, MAX_URL_SECONDS);
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
    const detail = await this.commands.invocation(invocation);
    return controllerKeyFrom(detail.StandardOutputContent ?? '');
  }

  /**
   * One stage's commands (per 50 instances), or those an earlier call sent already, stopped
   * before its id was recorded: the comment names cluster, stage and attempt.
   */
  private async sendStage(run: Omit<Run, 'playbook'>, stage: ControllerStage, instanceIds: string[], commands: string[]): Promise<string> {
    const comment = `${this.settings.serviceTag} ${run.clusterId} ${stage}/${run.attempt} ${run.profile}`.slice(0, 100);
    const commandIds: string[] = [];
    for (const chunkIds of chunk(instanceIds, MAX_INSTANCES_PER_COMMAND)) {
      const request: SendCommandRequest = {
        ...this.commands.commonRequest(chunkIds, comment),
        DocumentName: 'AWS-RunShellScript',
        Parameters: { commands, executionTimeout: [String(this.settings.executionTimeoutSeconds)] },
      };
      commandIds.push(await this.commands.sendOnce(request));
    }
    return `${CONTROLLER_PREFIX}:${run.profile}:${run.attempt}:${stage}:${commandIds.join(',')}`;
  }
}

const masterOf = (nodes: ConfigurationNode[]): ConfigurationNode => {
  const masters = nodes.filter((node) => node.role === MASTER_ROLE);
  if (masters.length !== 1) throw new ProviderError('InvalidCluster', `a controller run needs exactly one master; the cluster has ${masters.length}`);
  return masters[0]!;
};

/** `authorize` only where there are workers to authorize on; told from the recorded servers when given. */
const nextStageAfter = async (stage: FinishedStage['stage'], input: NodeLookups): Promise<ControllerStage> => {
  if (stage === 'authorize') return 'run';
  const nodes = input.servers?.length ? input.servers : input.nodes ? await input.nodes() : [];
  return nodes.some((node) => node.role !== MASTER_ROLE) ? 'authorize' : 'run';
};
