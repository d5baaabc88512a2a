/**
 * The cloud-init runner's reports (#domain/node-agents): a node's agent says what it did and is
 * told what to do next. The secret is checked before the record is read, so a caller without it
 * learns nothing, not even whether the cluster exists. A released run is answered with what
 * run-profile.sh needs: the profile, the inventory (the master as its own controller), the
 * parameters and a URL of the configuration bundle that is good for a while.
 */
import { controllerInventory, buildExtraVars } from '#domain/configuration-inventory';
import type { ClusterStore } from '#domain/cluster-store';
import { NotFound, Unauthorized } from '#domain/errors';
import { parseComponentLine } from '#domain/component-lines';
import type { Cluster } from '#domain/model';
import { decideNodeReport, nodeSecretMatches, nodeSecretOf, type NodeInstruction, type NodeReport } from '#domain/node-agents';
import { recordConfigurationProgress, type LoggedLine } from './configuration-progress.ts';

export interface NodeReportDeps {
  clusters: ClusterStore;
  /** The key the clusters' node secrets are made with. */
  nodeReportKey: () => Promise<string>;
  /** A URL the master can download the configuration bundle from for the next hour or so. */
  bundleUrl: () => Promise<string>;
  now?: () => number;
  /** How long agents are told to wait between asks. @default AGENT_POLL_SECONDS */
  agentPollSeconds?: number;
}

export type NodeAnswer =
  | Exclude<NodeInstruction, { next: 'run' }>
  | (Extract<NodeInstruction, { next: 'run' }> & { inventory: unknown; extraVars: unknown; bundleUrl: string });

const refused = () => new Unauthorized('a node report needs its cluster’s node secret: Authorization: Node <secret>');

export const receiveNodeReport = async (deps: NodeReportDeps, clusterId: string | undefined, authorization: string | undefined, report: NodeReport): Promise<NodeAnswer> => {
  const secret = nodeSecretOf(authorization);
  if (!secret || !clusterId) throw refused();
  if (!nodeSecretMatches(await deps.nodeReportKey(), clusterId, secret)) throw refused();
  const now = deps.now ?? Date.now;
  let decided: NodeInstruction | undefined;
  let note: string | undefined;
  let cluster: Cluster;
  try {
    cluster = await deps.clusters.updateCluster(clusterId, (current) => {
      const decision = decideNodeReport(current, report, new Date(now()).toISOString(), deps.agentPollSeconds);
      decided = decision.instruction;
      note = decision.message;
      return decision.nodeAgents ? { cluster: { ...current, nodeAgents: decision.nodeAgents }, message: '' } : null;
    });
  } catch (error) {
    // Secret right, record gone: the cluster was deleted since; the agent has nothing left to do.
    if (error instanceof NotFound) return { next: 'stop', reason: 'the cluster is gone' };
    throw error;
  }
  const instruction: NodeInstruction = decided ?? { next: 'stop', reason: 'the cluster is gone' };
  if (note) await deps.clusters.addTimelineNote({ clusterId, status: cluster.status, phase: cluster.phase }, note);
  if (report.type === 'lines' && instruction.next === 'ok') {
    const at = now();
    const lines: LoggedLine[] = report.lines.flatMap((text, index) => {
      const line = parseComponentLine(text.trimEnd());
      // Each in the order sent, a millisecond apart: the progress keeps the latest.
      return line ? [{ line: { ...line, clusterId, attempt: report.attempt }, at: at + index }] : [];
    });
    if (lines.length > 0) await recordConfigurationProgress(deps, clusterId, lines);
  }
  if (instruction.next !== 'run') return instruction;
  const vars = cluster.nodeAgents?.run?.inventoryVars ?? {};
  return {
    ...instruction,
    inventory: controllerInventory(cluster, vars),
    extraVars: buildExtraVars(cluster.spec.configuration.parameters),
    bundleUrl: await deps.bundleUrl(),
  };
};
