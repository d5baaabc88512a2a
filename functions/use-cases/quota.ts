/**
 * A project's quota as the use cases see it: what a cluster holds, the limits in force (the
 * project's own, else the deployment's defaults), reserving before anything is made and giving a
 * cluster's share back exactly once.
 */
import { totalNodes, totalVcpus, type Cluster, type ClusterSpec } from '#domain/model';
import type { ClusterStore } from '#domain/cluster-store';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';

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

/** Reserves `amounts` within the project's limits in one conditional write; `QuotaExceeded` names each resource over. */
export const reserveQuota = async (deps: { quotas: QuotaStore; quotaDefaults: QuotaAmounts }, project: string, amounts: QuotaAmounts): Promise<void> => {
  const { limits } = await quotaLimits(deps.quotas, project, deps.quotaDefaults);
  await deps.quotas.reserve(project, amounts, limits);
};
