/**
 * The emulated cloud's configuration runs (its stand-in for a run-command service): a profile of
 * the catalogue applied to a cluster's nodes, its progress derived from the time since it started.
 */
import { randomUUID } from 'node:crypto';
import { ProviderError } from '#domain/errors';
import { componentsOf, EMPTY_PROFILE, PROFILE_NAMES, type ComponentOf } from '#domain/profiles';
import type { ConfigurationStatus } from '#domain/provider';
import type { ConfigurationNode, StoredConfiguration } from './inventory-file.ts';
import type { Inventory } from './inventory.ts';
import { agentOnline, serverState } from './servers.ts';
import { matches } from './settings.ts';

export interface RunInput {
  clusterId: string;
  profile: string;
  servers: ConfigurationNode[];
}

interface Profile {
  components: readonly string[];
  /** Whether the run does anything on the nodes (and so takes time and needs their agents). */
  takesTime: boolean;
}

/** The component at which a run with a matching node fails; profiles without it fail at their last. */
const FAILING_COMPONENT: ComponentOf<'lambda'> = 'hdfs';

const profileNamed = (name: string): Profile => {
  const components = componentsOf(name);
  if (!components) throw new ProviderError('UnknownProfile', `Unknown configuration profile "${name}"; this cloud knows ${PROFILE_NAMES.join(', ')}`);
  return { components, takesTime: name !== EMPTY_PROFILE };
};

/**
 * Starts a run, or answers the id of the cluster's run that has not failed, so a retried start
 * never makes a second one. The run's duration is drawn only when a run is made.
 */
export function startRun(
  inventory: Inventory,
  input: RunInput,
  now: number,
  settings: { drawDurationMs: () => number; configFailPattern: RegExp | null },
): string {
  const runs = [...inventory.configurations.values()].filter((run) => run.clusterId === input.clusterId);
  const current = runs.find((run) => configurationStatus(run, now).state !== 'FAILED');
  if (current) return current.id;
  const profile = profileNamed(input.profile);
  checkNodesReady(inventory, input.clusterId, input.servers, now);
  for (const run of runs) inventory.configurations.delete(run.id);
  const run: StoredConfiguration = {
    id: `cfg-${randomUUID()}`,
    clusterId: input.clusterId,
    profile: input.profile,
    components: [...profile.components],
    nodes: input.servers.map(({ id, name, role }) => ({ id, name, role })),
    startedAtMs: now,
    durationMs: profile.takesTime ? settings.drawDurationMs() : 0,
    failure: plannedFailure(profile, input.servers, settings.configFailPattern),
  };
  inventory.configurations.set(run.id, run);
  return run.id;
}

/** The ids of the nodes whose agent is not online; none for a profile that does nothing on them. */
export function offlineAgents(inventory: Inventory, input: RunInput, now: number): string[] {
  if (!profileNamed(input.profile).takesTime) return [];
  return input.servers
    .filter((node) => {
      const server = inventory.servers.get(node.id);
      return !server || server.clusterId !== input.clusterId || !agentOnline(server, now);
    })
    .map((node) => node.id);
}

export function runStatus(inventory: Inventory, input: { clusterId: string; configurationId: string }, now: number): ConfigurationStatus {
  const run = inventory.configurations.get(input.configurationId);
  if (!run || run.clusterId !== input.clusterId) {
    throw new ProviderError('ConfigurationNotFound', `No configuration run ${input.configurationId} for cluster ${input.clusterId}`);
  }
  return configurationStatus(run, now);
}

function checkNodesReady(inventory: Inventory, clusterId: string, nodes: ConfigurationNode[], now: number): void {
  const notReady = nodes.filter((node) => {
    const server = inventory.servers.get(node.id);
    return !server || server.clusterId !== clusterId || serverState(server, now) !== 'ACTIVE';
  });
  if (notReady.length > 0) {
    throw new ProviderError(
      'ServerNotReady',
      `Configuration needs running servers; not ACTIVE in cluster ${clusterId}: ` + notReady.map((node) => node.name).join(', '),
    );
  }
}

/** Where a run of `profile` on `nodes` is to fail under `configFailPattern`: decided at its start. */
function plannedFailure(profile: Profile, nodes: ConfigurationNode[], configFailPattern: RegExp | null): StoredConfiguration['failure'] {
  const node = nodes.find((candidate) => matches(configFailPattern, candidate.name));
  if (!node) return null;
  const index = profile.components.indexOf(FAILING_COMPONENT);
  return { componentIndex: index >= 0 ? index : profile.components.length - 1, node: node.name };
}

/**
 * Progress moves through the components evenly over the run's duration, on every node at once.
 * A run with a failing node stops at the failed component, as `run-profile.sh` does: the other
 * nodes never reach the end, so they stay RUNNING however late the run is described.
 */
function configurationStatus(run: StoredConfiguration, now: number): ConfigurationStatus {
  const components = run.components;
  const last = components.length - 1;
  const slotMs = run.durationMs / components.length;
  const elapsed = now - run.startedAtMs;
  const othersState = !run.failure && elapsed >= run.durationMs ? 'SUCCEEDED' : 'RUNNING';
  const nodes = (failed?: { node: string; message: string }): ConfigurationStatus['nodes'] =>
    Object.fromEntries(
      run.nodes.map((node) => [node.name, node.name === failed?.node ? { state: 'FAILED' as const, message: failed.message } : { state: othersState }]),
    );
  if (run.failure && elapsed >= slotMs * (run.failure.componentIndex + 1)) {
    const component = components[run.failure.componentIndex] ?? '';
    const why = `${component} failed (LOCAL_CLOUD_CONFIG_FAIL_PATTERN matched the node name)`;
    return {
      state: 'FAILED',
      component,
      failedNode: run.failure.node,
      message: `${component} failed on ${run.failure.node} (LOCAL_CLOUD_CONFIG_FAIL_PATTERN matched the node name)`,
      nodes: nodes({ node: run.failure.node, message: why }),
    };
  }
  if (elapsed >= run.durationMs) {
    return {
      state: 'SUCCEEDED',
      component: components[last] ?? '',
      message: `Profile ${run.profile} applied to ${run.nodes.length} node(s)`,
      nodes: nodes(),
    };
  }
  const index = Math.min(Math.max(Math.floor(elapsed / slotMs), 0), last);
  return { state: 'RUNNING', component: components[index] ?? '', nodes: nodes() };
}
