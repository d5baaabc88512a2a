/**
 * The destroy workflow: "Delete the cluster resources" (⇄ "Wait for the deletion"), then "Record
 * the cluster destroyed"; on any failure "Record the destroy failure".
 */
import { DestroyIncomplete, ProviderUnavailable } from '#domain/errors';
import { clusterErrorOf } from '#domain/failed-step';
import { countMetric, METRIC_NAMES } from '#lib/metrics';
import { releaseClusterQuota } from '#use-cases/quota';
import type { FailureInput, StepContext } from './context.ts';

const DESTROY_TIMEOUT_SECONDS = 1800;
const DELETION_POLL_SECONDS = 2;

export const destroy = async (ctx: StepContext) => {
  let cluster = await ctx.load();
  if (cluster.status === 'DESTROYED') return { done: true, remaining: 0, waitSeconds: 0 };
  if (cluster.phase !== 'destroy') {
    cluster = await ctx.enter('DESTROYING', 'destroy', 'deleting every server, address and network of the cluster', {
      deadlines: { ...cluster.deadlines, destroy: ctx.deadline(DESTROY_TIMEOUT_SECONDS) },
    });
  }
  let remaining: number;
  try {
    // By tag, not by the record: a step that was still running when the destroy began may have made more.
    ({ remaining } = await ctx.provider(cluster).deleteCluster({ clusterId: cluster.id, onOperations: ctx.operationsNote(cluster) }));
  } catch (error) {
    // A provider this deployment does not have can have made nothing.
    if (!(error instanceof ProviderUnavailable)) throw error;
    remaining = 0;
  }
  const settled = !cluster.deadlines.settle || ctx.passed(cluster.deadlines.settle);
  if (remaining > 0 && ctx.passed(cluster.deadlines.destroy)) {
    throw new DestroyIncomplete(`${remaining} resources were still present after ${DESTROY_TIMEOUT_SECONDS} s`);
  }
  return { done: remaining === 0 && settled, remaining, waitSeconds: DELETION_POLL_SECONDS };
};

export const recordDestroyed = async (ctx: StepContext) => {
  // Quota first: whoever sees DESTROYED sees the quota free. A re-run releases nothing twice.
  await releaseClusterQuota(ctx.deps, ctx.clusterId);
  await ctx.load();
  await ctx.update(
    (current) => ({
      status: 'DESTROYED',
      phase: 'destroyed',
      servers: current.servers.map((server) => ({ ...server, state: 'DELETED' as const, publicIp: null })),
    }),
    'the provider confirms every server, address and network gone',
  );
  countMetric(METRIC_NAMES.destroyed);
  return { status: 'DESTROYED' };
};

export const recordDestroyFailure = async (ctx: StepContext, state: FailureInput['state']) => {
  const error = clusterErrorOf(state?.failed, state?.failure, 'destroy');
  await ctx.enter('FAILED', 'failed', `destroy failed: ${error.code}`, { error });
  return { status: 'FAILED' };
};
