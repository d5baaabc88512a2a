/**
 * A run in which every node configures itself (profiles of kind shell, ansible, document): one
 * SendCommand per role and per 50 instances, its id `ssm:<profile>:<commandId>,…`, so checking it
 * needs nothing beyond the id the workflow stores.
 */
import type { SendCommandRequest } from '@aws-sdk/client-ssm';
import { ProviderError } from '#domain/errors';
import type { ConfigurationStatus } from '#domain/provider';
import { chunk } from '#lib/batching';
import { shellQuote } from '#domain/controller-scripts';
import { MAX_INSTANCES_PER_COMMAND, type SsmCommands } from './commands.ts';
import { invocationState, nodeNamer, nodeResults, runFailure, type NodeLookups } from './node-results.ts';
import type { ConfigurationNode, RunnerSettings, SsmProfile } from './settings.ts';

const RUN_PREFIX = 'ssm';
/** Values SSM's `ExtraVariables` pattern accepts unquoted: no spaces and none of `|:();&'`. */
const SAFE_VARIABLE = /^[^\s|:();&'"]+$/;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/;

export class NodeRun {
  constructor(
    private readonly commands: SsmCommands,
    private readonly settings: RunnerSettings,
  ) {}

  /** Every node must be Online first; `variables` is asked for only once they are. */
  async start(
    input: { clusterId: string; profile: string; nodes: ConfigurationNode[]; variables?: () => Promise<Record<string, string>> },
    profile: SsmProfile,
  ): Promise<string> {
    await this.commands.assertOnline(input.nodes.map((node) => node.id));
    const variables = (await input.variables?.()) ?? {};
    const comment = `${this.settings.serviceTag} ${input.clusterId} ${input.profile}`.slice(0, 100);
    const commandIds: string[] = [];
    // One command per role: a node learns its role from the command's parameters.
    const roles = [...new Set(input.nodes.map((node) => node.role))];
    for (const role of roles) {
      const ids = input.nodes.filter((node) => node.role === role).map((node) => node.id);
      for (const instanceIds of chunk(ids, MAX_INSTANCES_PER_COMMAND)) {
        const request = this.sendRequest(profile, instanceIds, comment, { cluster_id: input.clusterId, node_role: role, ...variables });
        commandIds.push(await this.commands.sendOnce(request));
      }
    }
    return `${RUN_PREFIX}:${input.profile}:${commandIds.join(',')}`;
  }

  /** FAILED as soon as one node failed (naming it), SUCCEEDED once every node succeeded, RUNNING otherwise. */
  async describe(input: { configurationId: string } & NodeLookups): Promise<ConfigurationStatus> {
    const namer = nodeNamer(input);
    const [prefix, profileName, ids] = input.configurationId.split(':');
    const commandIds = (ids ?? '').split(',').filter((id) => id.length > 0);
    if (prefix !== RUN_PREFIX || !profileName || commandIds.length === 0) {
      throw new ProviderError('ConfigurationNotFound', `'${input.configurationId}' is not an SSM configuration run`);
    }
    const components = this.settings.profiles.get(profileName)?.components ?? [profileName];
    const { invocations, listedEveryCommand } = await this.commands.invocationsOf(commandIds);
    // Each node runs the profile itself: its invocation is its configuration.
    const nodes = await nodeResults(invocations, namer);

    const failed = invocations.find((invocation) => invocationState(invocation) === 'FAILED');
    if (failed) {
      const status = await runFailure(this.commands, failed, components, namer);
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

  private sendRequest(profile: SsmProfile, instanceIds: string[], comment: string, variables: Record<string, string>): SendCommandRequest {
    for (const [name, value] of Object.entries(variables)) {
      if (!VARIABLE_NAME.test(name) || !SAFE_VARIABLE.test(value)) {
        throw new ProviderError('InvalidConfigurationVariable', `configuration variable ${name}=${value} cannot be passed to SSM safely`);
      }
    }
    const common = this.commands.commonRequest(instanceIds, comment);
    const { executionTimeoutSeconds, options } = this.settings;
    const run = profile.run;
    switch (run.kind) {
      case 'shell':
        return {
          ...common,
          DocumentName: 'AWS-RunShellScript',
          Parameters: {
            commands: [...Object.entries(variables).map(([name, value]) => `export ${name.toUpperCase()}=${shellQuote(value)}`), ...run.commands],
            executionTimeout: [String(executionTimeoutSeconds)],
          },
        };
      case 'ansible': {
        const source = run.source ?? options.playbooks;
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
            TimeoutSeconds: [String(executionTimeoutSeconds)],
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
}
