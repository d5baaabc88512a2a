/**
 * Creating a cluster: reserve the project's quota, record the cluster PENDING, start its
 * provision execution. Every door (the compat route, the native route, events) comes here.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowStartFailed } from '#domain/errors';
import { totalNodes, totalVcpus, type Cluster, type ClusterSpec } from '#domain/model';
import type { ClusterStore } from '#domain/cluster-store';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';
import { provisionExecutionName, type Workflows } from '#domain/workflow';
import { logger } from '#lib/logger';
import { countMetric, METRIC_NAMES } from '#lib/metrics';

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

/** What a cluster holds of its project's quota. */
export const quotaAmounts = (spec: ClusterSpec): QuotaAmounts => ({ vcpus: totalVcpus(spec), servers: totalNodes(spec), clusters: 1 });

export const quotaLimits = async (quotas: QuotaStore, project: string, defaults: QuotaAmounts) => {
  const quota = await quotas.get(project);
  return { quota, limits: { ...defaults, ...quota.limits } };
};

/** Gives the cluster's share of the quota back, once: the record's flag says whether it holds any. */
export const releaseClusterQuota = async (stores: { clusters: ClusterStore; quotas: QuotaStore }, clusterId: string): Promise<void> => {
  let released: Cluster | null = null;
  await stores.clusters.updateCluster(clusterId, (current) => {
    released = null;
    if (!current.quotaReserved) return null;
    released = current;
    return { cluster: { ...current, quotaReserved: false }, message: '' };
  });
  const cluster = released as Cluster | null;
  if (cluster) await stores.quotas.release(cluster.project, quotaAmounts(cluster.spec));
};

export const createCluster = async (deps: CreateClusterDeps, input: CreateClusterInput): Promise<Cluster> => {
  const id = input.id ?? (deps.newId ?? randomUUID)();
  const now = deps.now?.() ?? new Date();
  const at = now.toISOString();
  const amounts = quotaAmounts(input.spec);
  const { limits } = await quotaLimits(deps.quotas, input.project, deps.quotaDefaults);
  await deps.quotas.reserve(input.project, amounts, limits);

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
