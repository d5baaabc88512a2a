/**
 * "Check the configuration agents": the provision workflow's wait, before it starts the
 * configuration, for the agents through which a provider configures its servers (SSM's on ec2),
 * which come online some time after the servers run — about a minute on ec2, several behind a
 * NAT or on a cold image. The wait is a loop of the workflow (Wait ⇄ this check ⇄ a Choice),
 * bounded by its own deadline, so its length is a setting rather than a Task's retry budget.
 */
import { ConfigurationAgentsOffline } from '#domain/errors';
import type { Cluster, ClusterStatus, Phase } from '#domain/model';
import type { CloudProvider } from '#domain/provider';
import type { WorkflowConfig } from '#lib/config';

/** What the check needs of its step's context (workflow-steps.ts). */
export interface AgentsCheckContext {
  readonly deps: { config: Pick<WorkflowConfig, 'CONFIGURATION_AGENT_TIMEOUT_SECONDS' | 'POLL_INTERVAL_SECONDS'> };
  load(): Promise<Cluster>;
  provider(cluster: Cluster): CloudProvider;
  enter(status: ClusterStatus, phase: Phase, message: string, patch: (current: Cluster) => Partial<Cluster>): Promise<Cluster>;
  deadline(seconds: number): string;
  passed(deadline: string | undefined): boolean;
}

/** How many offline servers the error names: enough to act on, short enough for the record. */
const NAMED_IN_ERROR = 20;

/** The servers as the provider's configuration calls take them: those it made, by id. */
export const configurationServers = (cluster: Pick<Cluster, 'servers'>) =>
  cluster.servers.flatMap((server) => (server.id ? [{ id: server.id, name: server.name, role: server.role }] : []));

export const checkConfigurationAgents = async (ctx: AgentsCheckContext) => {
  const cluster = await ctx.load();
  // A run started already (a resumed execution): its agents were online.
  if (cluster.configurationId) return { online: true, offline: 0, waitSeconds: 0 };
  const { CONFIGURATION_AGENT_TIMEOUT_SECONDS: limit, POLL_INTERVAL_SECONDS: poll } = ctx.deps.config;
  const servers = configurationServers(cluster);
  const deadline = cluster.deadlines.agents ?? ctx.deadline(limit);
  if (!cluster.deadlines.agents) {
    // The configuration begins here: agents that never come online fail it, and the timeline says so.
    await ctx.enter('CONFIGURING', 'configure', `waiting for the configuration agents of ${servers.length} servers`, (current) => ({
      deadlines: { ...current.deadlines, agents: deadline },
    }));
  }
  const provider = ctx.provider(cluster);
  const { offline } = provider.describeConfigurationAgents
    ? await provider.describeConfigurationAgents({ clusterId: cluster.id, profile: cluster.spec.configuration.profile, servers })
    : { offline: [] };
  if (offline.length === 0) return { online: true, offline: 0, waitSeconds: 0 };
  if (ctx.passed(deadline)) {
    const names = new Map(servers.map((server) => [server.id, server.name]));
    const listed = offline.slice(0, NAMED_IN_ERROR).map((id) => `${id} (${names.get(id) ?? 'unknown server'})`);
    const more = offline.length > NAMED_IN_ERROR ? `, … (${offline.length} in all)` : '';
    throw new ConfigurationAgentsOffline(
      `${offline.length} of ${servers.length} servers' configuration agents were still not online after ${limit} s: ${listed.join(', ')}${more}`,
    );
  }
  return { online: false, offline: offline.length, waitSeconds: poll };
};
