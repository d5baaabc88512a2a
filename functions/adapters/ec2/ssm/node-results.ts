/**
 * What SSM's command invocations say about each node and about a failed run
 * (docs/ec2-provider.md, "Per-node results" and "Components"): states, names, short messages.
 */
import type { CommandInvocation, CommandPlugin } from '@aws-sdk/client-ssm';
import { componentLines } from '#domain/component-lines';
import type { NodeConfiguration, NodeConfigurationState } from '#domain/model';
import type { ConfigurationStatus } from '#domain/provider';
import type { SsmCommands } from './commands.ts';
import type { ConfigurationNode } from './settings.ts';

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
/** How much of a failed node's output goes into the cluster's error message. */
const MESSAGE_TAIL_CHARS = 400;
/** How much goes into a node's own configuration message: the cluster record holds one per node. */
const NODE_MESSAGE_CHARS = 200;

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

/** A node's name by its instance id. */
export type NodeNamer = (instanceId: string) => Promise<string>;

/** How a run's nodes can be named and found: what the provider passes to describe a run. */
export interface NodeLookups {
  /** The instance's `Name` tag, for a node nothing else names. */
  nodeName?: NodeNamer;
  /** The cluster's live nodes with their addresses: a controller run's next stage is sent to them. */
  nodes?: () => Promise<ConfigurationNode[]>;
  /** The cluster's servers as recorded: they name the nodes of the per-node results without a lookup. */
  servers?: readonly { id: string; name: string; role: string }[];
}

/**
 * Names a run's nodes by instance id: from the recorded servers; failing that from one listing of
 * the cluster's nodes per describe (not one lookup per node on every poll); then by the lookup
 * of the one instance; else the id itself.
 */
export const nodeNamer = (input: NodeLookups): NodeNamer => {
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
};

/**
 * Each listed invocation as its node's configuration. `stage`: the words of a controller stage
 * before `run`, which configures nothing yet — a node it succeeded on is RUNNING still, its
 * message the stage.
 */
export const nodeResults = async (invocations: CommandInvocation[], nodeName: NodeNamer, stage?: string): Promise<Record<string, NodeConfiguration>> => {
  const nodes: Record<string, NodeConfiguration> = {};
  for (const invocation of invocations) {
    const instanceId = invocation.InstanceId;
    if (!instanceId) continue;
    const state = invocationState(invocation);
    const name = await nodeName(instanceId);
    if (state === 'FAILED') {
      nodes[name] = { state, message: tail(`${stage ? `${stage} failed: ` : ''}${invocationFailure(invocation)}`, NODE_MESSAGE_CHARS) };
    } else if (stage) {
      nodes[name] = { state: state === 'SUCCEEDED' ? 'RUNNING' : state, message: stage };
    } else {
      nodes[name] = { state };
    }
  }
  return nodes;
};

/**
 * The failed node's component and message. The step that failed names the component when the
 * document has a step per component; otherwise the node's output may (see failureReport);
 * otherwise the profile's first component stands for the whole run.
 */
export const runFailure = async (
  commands: SsmCommands,
  invocation: CommandInvocation,
  components: string[],
  nodeName?: NodeNamer,
  /** A controller stage before `run`: named in the message, since no component ran yet. */
  stage?: string,
): Promise<ConfigurationStatus> => {
  const plugins = invocation.CommandPlugins ?? [];
  const failedStep: CommandPlugin | undefined = plugins.find((plugin) => FAILED_STATES.has(plugin.Status ?? ''));
  const instanceId = invocation.InstanceId ?? 'unknown instance';
  // The invocation list keeps 2500 characters of output; the invocation itself keeps more.
  let output = failedStep?.Output ?? '';
  let errorOutput = '';
  if (invocation.CommandId && invocation.InstanceId) {
    try {
      const detail = await commands.invocation(invocation, plugins.length > 1 ? failedStep?.Name : undefined);
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
};
