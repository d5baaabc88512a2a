/**
 * The provision workflow's failure path: "Roll back the cluster" records the failure and deletes
 * whatever was made (⇄ "Wait for deletion"), then "Record the failure" records FAILED.
 */
import { RollbackIncomplete } from '#domain/errors';
import { clusterErrorOf, type FailedSteps, type StepFailure } from '#domain/failed-step';
import { isBeingDestroyed } from '#domain/lifecycle';
import { countMetric, METRIC_NAMES } from '#lib/metrics';
import { releaseClusterQuota } from '#use-cases/quota';
import type { FailureInput, StepContext } from './context.ts';

const ROLLBACK_TIMEOUT_SECONDS = 1800;
const ROLLBACK_POLL_SECONDS = 2;

/**
 * `failed`: the failure as the failing state's Catch filed it. An execution of a definition older
 * than the filing (under way while this code was deployed) hands over the failure alone, as
 * `unfiled`: then the phase stands for the step.
 */
export const rollback = async (ctx: StepContext, failed: FailedSteps | undefined, unfiled: StepFailure | undefined) => {
  let cluster = await ctx.load();
  // A destroy took over: it deletes everything, and the cluster's record is its to write.
  if (isBeingDestroyed(cluster.status)) return { remaining: 0, waitSeconds: 0 };
  if (cluster.phase !== 'rollback') {
    const error = clusterErrorOf(failed, unfiled, cluster.phase, cluster);
    cluster = await ctx.enter(cluster.status, 'rollback', `${error.code} at ${error.step}: rolling back`, {
      error,
      deadlines: { ...cluster.deadlines, rollback: ctx.deadline(ROLLBACK_TIMEOUT_SECONDS) },
    });
  }
  const madeSomething = cluster.servers.some((server) => server.id !== null) || cluster.networks.length > 0;
  if (cluster.spec.onFailure === 'keep' || !madeSomething) return { remaining: 0, waitSeconds: 0 };
  const { remaining } = await ctx.provider(cluster).deleteCluster({ clusterId: cluster.id, onOperations: ctx.operationsNote(cluster) });
  if (remaining === 0) {
    await ctx.update((current) => ({ servers: current.servers.map((server) => ({ ...server, state: 'DELETED' as const, publicIp: null })) }), '');
  } else if (ctx.passed(cluster.deadlines.rollback)) {
    throw new RollbackIncomplete(`${remaining} resources were still present after ${ROLLBACK_TIMEOUT_SECONDS} s of rollback`);
  }
  return { remaining, waitSeconds: ROLLBACK_POLL_SECONDS };
};

export const recordFailure = async (ctx: StepContext, state: FailureInput['state']) => {
  const cluster = await ctx.load();
  if (isBeingDestroyed(cluster.status)) return { status: cluster.status };
  // Recorded by the rollback, unless it failed before it could record anything.
  const error = cluster.error ?? clusterErrorOf(state?.failed, state?.failure, cluster.phase, cluster);
  const rollbackFailure = state?.rollbackFailure;
  const message = rollbackFailure ? `${error.message}; the rollback did not complete (${rollbackFailure.code}: ${rollbackFailure.message})` : error.message;
  // Kept resources still count against the quota until the cluster is destroyed. The quota is
  // given back before the status says FAILED, so whoever sees FAILED sees the quota free.
  if (cluster.spec.onFailure !== 'keep' && !rollbackFailure) await releaseClusterQuota(ctx.deps, cluster.id);
  await ctx.load();
  await ctx.enter('FAILED', 'failed', `failed at ${error.step}: ${error.code}`, { error: { ...error, message } });
  countMetric(METRIC_NAMES.failed);
  return { status: 'FAILED' };
};
