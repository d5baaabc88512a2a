/** Destroying, retrying, stopping, starting and expiring clusters. */
import { ClusterBusy, Conflict } from '#domain/errors';
import { DESTROY_FAILED_STEPS } from '#domain/failed-step';
import { canChangePower, isBeingDestroyed, isChangingPower, isProvisioning, isRetryable, NOT_BEING_DESTROYED, POWER_STEPS, type PowerAction } from '#domain/lifecycle';
import type { Cluster } from '#domain/model';
import type { ClusterStore } from '#domain/cluster-store';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';
import { destroyExecutionName, powerExecutionName, provisionExecutionName, type Workflows } from '#domain/workflow';
import { logger } from '#lib/logger';
import { quotaAmounts, releaseClusterQuota, reserveQuota } from './quota.ts';
import { findOwnCluster } from './read-clusters.ts';

export interface ChangeClusterDeps {
  clusters: ClusterStore;
  quotas: QuotaStore;
  workflows: Workflows;
  quotaDefaults: QuotaAmounts;
  now?: () => Date;
}

const executionName = (executionId: string): string => executionId.split(':').at(-1) ?? executionId;

const recordStartFailure = async (deps: ChangeClusterDeps, id: string, step: string, cause: unknown) => {
  const message = cause instanceof Error ? cause.message : String(cause);
  logger.error('could not start a workflow', { clusterId: id, step, error: cause });
  await deps.clusters.updateCluster(id, (current) => ({
    cluster: { ...current, status: 'FAILED', phase: 'failed', error: { code: 'WorkflowStartFailed', message, step } },
    message: `the ${step} workflow could not be started: ${message}`,
  }));
};

/**
 * Destroys a cluster from any status. The cluster is marked DESTROYING first (provision steps
 * stop writing from then on), a running provision execution is stopped, and the destroy
 * execution deletes everything tagged with the cluster id. A repeated DELETE starts nothing new.
 */
export const destroyCluster = async (deps: ChangeClusterDeps, cluster: Cluster): Promise<Cluster> => {
  if (cluster.status === 'DESTROYED') return cluster;
  const now = deps.now?.() ?? new Date();
  const marked = await deps.clusters.updateCluster(cluster.id, (current) => {
    if (isBeingDestroyed(current.status)) return null;
    const name = destroyExecutionName(current.id, current.version);
    return {
      cluster: { ...current, status: 'DESTROYING', phase: 'destroy-requested', destroyExecutionId: deps.workflows.executionIdFor('destroy', name) },
      message: `destroy requested (was ${current.status})`,
    };
  });
  if (marked.status === 'DESTROYED' || !marked.destroyExecutionId) return marked;
  const running = isProvisioning(cluster.status)
    ? ({ kind: 'provision', name: provisionExecutionName(cluster.id, cluster.attempt) } as const)
    : isChangingPower(cluster.status) && cluster.powerExecutionId
      ? ({ kind: 'power', name: executionName(cluster.powerExecutionId) } as const)
      : undefined;
  if (running) {
    const { settleSeconds } = await deps.workflows.stop(running.kind, running.name);
    if (settleSeconds > 0) {
      const settle = new Date(now.getTime() + settleSeconds * 1000).toISOString();
      await deps.clusters.updateCluster(cluster.id, (current) => ({ cluster: { ...current, deadlines: { ...current.deadlines, settle } }, message: '' }));
    }
  }
  try {
    // Started again on a repeated DELETE, in case the first one died before it got here.
    await deps.workflows.start('destroy', executionName(marked.destroyExecutionId), cluster.id);
  } catch (cause) {
    await recordStartFailure(deps, cluster.id, 'destroy', cause);
    throw cause;
  }
  return (await deps.clusters.getCluster(cluster.id)) ?? marked;
};

export const destroyOwnCluster = async (deps: ChangeClusterDeps, project: string, id: string | undefined): Promise<Cluster> =>
  destroyCluster(deps, await findOwnCluster(deps.clusters, project, id));

/**
 * Retries a FAILED cluster as a new attempt. Its steps skip what is done, so the run resumes
 * where the last one failed; what a rollback deleted is planned and made afresh, under client
 * tokens of the new attempt.
 */
export const retryOwnCluster = async (deps: ChangeClusterDeps, project: string, id: string | undefined): Promise<Cluster> => {
  const cluster = await findOwnCluster(deps.clusters, project, id);
  if (!isRetryable(cluster.status)) {
    throw new Conflict(`only a FAILED cluster can be retried; this one is ${cluster.status}`, [{ path: 'status', message: cluster.status }]);
  }
  const failedStep = cluster.error?.step ?? '';
  if (DESTROY_FAILED_STEPS.includes(failedStep)) {
    throw new Conflict('the cluster failed while being destroyed: send DELETE again instead', [{ path: 'error.step', message: failedStep }]);
  }
  if ((POWER_STEPS as readonly string[]).includes(failedStep)) {
    throw new Conflict(`the cluster failed at its ${failedStep}: send ${failedStep} again instead`, [{ path: 'error.step', message: failedStep }]);
  }
  if (!cluster.quotaReserved) {
    await reserveQuota(deps, project, quotaAmounts(cluster.spec));
  }
  let attempt = cluster.attempt;
  try {
    await deps.clusters.updateCluster(cluster.id, (current) => {
      if (!isRetryable(current.status)) throw new Conflict(`the cluster is ${current.status} now`);
      attempt = current.attempt + 1;
      const madeAfresh = current.servers.every((server) => server.state === 'DELETED' || server.id === null);
      return {
        cluster: {
          ...current,
          status: 'PENDING',
          phase: 'accepted',
          error: null,
          attempt,
          quotaReserved: true,
          configurationId: null,
          deadlines: {},
          // The new attempt configures every node again: the last attempt's per-node results go.
          servers: madeAfresh ? [] : current.servers.map(({ configuration: _, ...server }) => server),
          networks: madeAfresh ? [] : current.networks,
          // New servers run new agents, which report afresh; kept ones have reported already.
          nodeAgents: madeAfresh ? null : (current.nodeAgents ?? null),
          executionId: deps.workflows.executionIdFor('provision', provisionExecutionName(current.id, attempt)),
        },
        message: `retry requested (attempt ${attempt}, failed at ${current.error?.step ?? 'unknown'})`,
      };
    });
  } catch (error) {
    if (!cluster.quotaReserved) await deps.quotas.release(project, quotaAmounts(cluster.spec));
    throw error;
  }
  try {
    await deps.workflows.start('provision', provisionExecutionName(cluster.id, attempt), cluster.id);
  } catch (cause) {
    await recordStartFailure(deps, cluster.id, 'retry', cause);
    await releaseClusterQuota(deps, cluster.id);
    throw cause;
  }
  return (await deps.clusters.getCluster(cluster.id)) ?? cluster;
};

const POWER_MOVES = {
  stop: { status: 'STOPPING', phase: 'stop', from: 'ACTIVE' },
  start: { status: 'STARTING', phase: 'start', from: 'STOPPED' },
} as const;

/**
 * Stops an ACTIVE cluster's servers or starts a STOPPED one's again (or repeats a stop or start
 * that failed), through the power workflow. The same request while it runs starts nothing new
 * (it starts the recorded execution again, in case the first request died before it could).
 */
export const changeOwnClusterPower = async (deps: ChangeClusterDeps, project: string, id: string | undefined, action: PowerAction): Promise<Cluster> => {
  const cluster = await findOwnCluster(deps.clusters, project, id);
  const move = POWER_MOVES[action];
  const marked = await deps.clusters.updateCluster(cluster.id, (current) => {
    if (current.status === move.status) return null;
    if (!canChangePower(action, current.status, current.error?.step)) {
      throw new ClusterBusy(`a ${action} needs a cluster that is ${move.from}${current.status === 'FAILED' ? ` (or FAILED at its ${action})` : ''}; this one is ${current.status}`, [
        { path: 'status', message: current.status },
      ]);
    }
    const { power: _, ...deadlines } = current.deadlines;
    return {
      cluster: {
        ...current,
        status: move.status,
        phase: move.phase,
        error: null,
        deadlines,
        powerExecutionId: deps.workflows.executionIdFor('power', powerExecutionName(current.id, action, current.version)),
      },
      message: `${action} requested (was ${current.status})`,
    };
  });
  if (marked.status !== move.status || !marked.powerExecutionId) return marked;
  try {
    await deps.workflows.start('power', executionName(marked.powerExecutionId), cluster.id, { action });
  } catch (cause) {
    await recordStartFailure(deps, cluster.id, action, cause);
    throw cause;
  }
  return (await deps.clusters.getCluster(cluster.id)) ?? marked;
};

/** Destroys every cluster whose `ttlHours` have passed; answers their ids. */
export const expireClusters = async (deps: ChangeClusterDeps): Promise<string[]> => {
  const now = (deps.now?.() ?? new Date()).getTime();
  const expired = (await deps.clusters.findClustersByStatus(NOT_BEING_DESTROYED)).filter((c) => c.expiresAt !== null && Date.parse(c.expiresAt) <= now);
  const destroyed: string[] = [];
  for (const cluster of expired) {
    try {
      await destroyCluster(deps, cluster);
      destroyed.push(cluster.id);
    } catch (error) {
      // One cluster's trouble must not keep the others alive past their time.
      logger.error('could not destroy an expired cluster', { clusterId: cluster.id, error });
    }
  }
  return destroyed;
};
