/**
 * Creating a cluster: reserve the project's quota, record the cluster PENDING, start its
 * provision execution. Every door (the compat route, the native route, events) comes here.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowStartFailed } from '#domain/errors';
import type { Cluster, ClusterSpec } from '#domain/model';
import type { ClusterStore } from '#domain/cluster-store';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';
import { provisionExecutionName, type Workflows } from '#domain/workflow';
import { logger } from '#lib/logger';
import { countMetric, METRIC_NAMES } from '#lib/metrics';
import { quotaAmounts, releaseClusterQuota, reserveQuota } from './quota.ts';

export interface CreateClusterDeps {
  clusters: ClusterStore;
  quotas: QuotaStore;
  workflows: Workflows;
  /** Limits for projects that have none of their own. */
  quotaDefaults: QuotaAmounts;
  newId?: () => string;
  now?: () => Date;
}

export interface CreateClusterInput {
  project: string;
  spec: ClusterSpec;
  /** The body as the client sent it. */
  request: Record<string, unknown>;
  /** An id chosen beforehand (an idempotent request reuses the first one). */
  id?: string;
}

export const createCluster = async (deps: CreateClusterDeps, input: CreateClusterInput): Promise<Cluster> => {
  const id = input.id ?? (deps.newId ?? randomUUID)();
  const now = deps.now?.() ?? new Date();
  const at = now.toISOString();
  const amounts = quotaAmounts(input.spec);
  await reserveQuota(deps, input.project, amounts);

  const cluster: Cluster = {
    id,
    project: input.project,
    name: input.spec.name,
    provider: input.spec.provider,
    status: 'PENDING',
    phase: 'accepted',
    spec: input.spec,
    request: input.request,
    servers: [],
    networks: [],
    configurationId: null,
    error: null,
    executionId: deps.workflows.executionIdFor('provision', provisionExecutionName(id, 1)),
    destroyExecutionId: null,
    deadlines: {},
    attempt: 1,
    quotaReserved: true,
    expiresAt: input.spec.ttlHours ? new Date(now.getTime() + input.spec.ttlHours * 3_600_000).toISOString() : null,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  try {
    await deps.clusters.createCluster(cluster, 'cluster requested');
  } catch (error) {
    await deps.quotas.release(input.project, amounts);
    throw error;
  }
  try {
    await deps.workflows.start('provision', provisionExecutionName(id, 1), id);
  } catch (cause) {
    // Never leave a PENDING cluster that nothing will ever move: record why it failed.
    logger.error('could not start the provision workflow', { clusterId: id, error: cause });
    const message = cause instanceof Error ? cause.message : String(cause);
    await deps.clusters.updateCluster(id, (current) => ({
      cluster: { ...current, status: 'FAILED', phase: 'failed', error: { code: 'WorkflowStartFailed', message, step: 'start' } },
      message: `the provision workflow could not be started: ${message}`,
    }));
    await releaseClusterQuota(deps, id);
    throw new WorkflowStartFailed('the provision workflow could not be started; the cluster is recorded FAILED');
  }
  countMetric(METRIC_NAMES.created);
  return cluster;
};
