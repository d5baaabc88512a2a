/**
 * The progress of a run that reports `COMPONENT` lines (#domain/component-lines): the configuration
 * container's, through its log group, and the cloud-init runner's master's, through its reports:
 * a START moves the cluster to the phase `configure:<component>`, a FAILED records the component
 * and the nodes to blame in `configurationReport.failure`, which the workflow's failure path
 * names in the cluster's error.
 *
 * The container's lines come from a CloudWatch Logs subscription: at least once, in batches, possibly late
 * or out of order. So every line is checked against the record before it changes anything —
 * the cluster must still be CONFIGURING in a `configure:` phase, with one of those runners, on
 * the attempt the line names — and a line older than the latest one applied changes nothing.
 * Applying a line twice writes nothing the second time.
 */
import { NotFound } from '#domain/errors';
import type { ComponentLine } from '#domain/component-lines';
import type { Cluster, ConfigurationReport } from '#domain/model';
import type { ClusterStore } from '#domain/cluster-store';

export interface ProgressDeps {
  clusters: ClusterStore;
}

/** A line as logged: who printed it and when. */
export interface LoggedLine {
  line: ComponentLine & { clusterId: string; attempt: number };
  /** The log event's timestamp, ms since the epoch. */
  at: number;
}

/** Why a line changed nothing, for the log. */
export type Ignored =
  | 'not-configuring'
  | 'other-runner'
  | 'other-attempt'
  | 'older-than-applied'
  | 'after-failure'
  | 'already-applied'
  | 'no-such-cluster';

export interface ProgressOutcome {
  applied: number;
  ignored: Partial<Record<Ignored, number>>;
}

/** Enough nodes to say what happened; a cluster where every node failed would not fit a record otherwise. */
const MAX_BLAMED_NODES = 20;

type Decision = { patch: Partial<Cluster>; message: string } | Ignored;

/** What `logged` does to `current`, decided on the record as it is now (the store retries on conflict). */
const decide = (current: Cluster, { line, at }: LoggedLine): Decision => {
  if (current.status !== 'CONFIGURING' || !current.phase.startsWith('configure:')) return 'not-configuring';
  const runner = current.spec.configuration.runner;
  if (runner !== 'container' && runner !== 'cloud-init') return 'other-runner';
  const by = runner === 'container' ? 'configuration container' : 'the master, from its user data';
  if (line.attempt !== current.attempt) return 'other-attempt';
  const report: ConfigurationReport | undefined =
    current.configurationReport?.attempt === current.attempt ? current.configurationReport : undefined;
  if (report && at < report.lineAt) return 'older-than-applied';

  const phase = `configure:${line.component}` as const;
  switch (line.state) {
    case 'START': {
      // The run stops at its first failed component: nothing starts after it.
      if (report?.failure) return 'after-failure';
      if (current.phase === phase && report?.lineAt === at) return 'already-applied';
      return {
        patch: { phase, configurationReport: { attempt: current.attempt, lineAt: at } },
        message: `configuring ${line.component} (${by})`,
      };
    }
    case 'FAILED': {
      const failure = report?.failure;
      // One component fails per run; a line naming another is not this run's.
      if (failure && failure.component !== line.component) return 'after-failure';
      const nodes = failure?.nodes ?? [];
      if (failure && (line.node === null || nodes.includes(line.node) || nodes.length >= MAX_BLAMED_NODES)) return 'already-applied';
      const blamed = line.node === null ? nodes : [...nodes, line.node];
      return {
        // The phase too, in case the component's START line was lost.
        patch: {
          phase,
          configurationReport: {
            attempt: current.attempt,
            lineAt: Math.max(at, report?.lineAt ?? at),
            failure: { component: line.component, node: blamed[0] ?? null, nodes: blamed },
          },
        },
        message: `${line.component} failed${line.node ? ` on ${line.node}` : ''} (${by})`,
      };
    }
    default:
      // OK lines: the next START says as much, and the last one is followed by the task's exit.
      return 'already-applied';
  }
};

/** Applies one cluster's lines in the order they were logged. */
export const recordConfigurationProgress = async (deps: ProgressDeps, clusterId: string, lines: readonly LoggedLine[]): Promise<ProgressOutcome> => {
  const outcome: ProgressOutcome = { applied: 0, ignored: {} };
  const ignore = (why: Ignored) => {
    outcome.ignored[why] = (outcome.ignored[why] ?? 0) + 1;
  };
  const ordered = [...lines].sort((a, b) => a.at - b.at);
  for (const [index, logged] of ordered.entries()) {
    let why: Ignored | undefined;
    try {
      await deps.clusters.updateCluster(clusterId, (current) => {
        const decision = decide(current, logged);
        if (typeof decision === 'string') {
          why = decision;
          return null;
        }
        why = undefined;
        return { cluster: { ...current, ...decision.patch }, message: decision.message };
      });
    } catch (error) {
      // A line for a cluster that is gone (or never was) has nothing to update.
      if (error instanceof NotFound) {
        for (let rest = index; rest < ordered.length; rest++) ignore('no-such-cluster');
        return outcome;
      }
      throw error;
    }
    if (why) ignore(why);
    else outcome.applied++;
  }
  return outcome;
};
