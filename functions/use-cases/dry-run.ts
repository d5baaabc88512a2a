/** `?dryRun=true`: what a create would do — the plan, the quota headroom, the time it should take — making nothing. */
import type { ClusterSpec } from '#domain/model';
import { estimateSecondsToActive, planServers } from '#domain/plan';
import type { ProviderRegistry } from '#domain/providers';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';
import { quotaAmounts, quotaLimits } from './quota.ts';

export interface DryRunDeps {
  quotas: QuotaStore;
  providers: ProviderRegistry;
  quotaDefaults: QuotaAmounts;
  pollSeconds: number;
}

export const dryRun = async (deps: DryRunDeps, project: string, spec: ClusterSpec) => {
  const provider = deps.providers.get(spec.provider);
  const servers = planServers(spec, provider);
  const sizes = new Map(spec.nodeGroups.map((group) => [group.name, group]));
  const requested = quotaAmounts(spec);
  const { quota, limits } = await quotaLimits(deps.quotas, project, deps.quotaDefaults);
  const resources = ['vcpus', 'servers', 'clusters'] as const;
  const headroom = Object.fromEntries(
    resources.map((r) => [r, { requested: requested[r], used: quota.usage[r], limit: limits[r], headroom: limits[r] - quota.usage[r] - requested[r] }]),
  );
  return {
    valid: true,
    provider: provider.name,
    nodes: servers.map((server) => {
      const group = sizes.get(server.group);
      return { name: server.name, role: server.role, group: server.group, flavor: server.flavor, vcpus: group?.vcpus, ramMb: group?.ramMb, diskGb: group?.diskGb };
    }),
    batches: Math.ceil(servers.length / provider.maxBatchSize),
    quota: headroom,
    wouldExceedQuota: resources.filter((r) => quota.usage[r] + requested[r] > limits[r]),
    estimatedSecondsToActive: estimateSecondsToActive(servers.length, provider, deps.pollSeconds),
  };
};
