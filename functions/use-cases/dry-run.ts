/** `?dryRun=true`: what a create would do — the plan, the quota headroom, the time it should take — making nothing. */
import { cloudQuotaReport, type CloudQuotaReport } from '#domain/cloud-quota';
import { DomainError } from '#domain/errors';
import type { ClusterSpec, Server } from '#domain/model';
import { estimateSecondsToActive, planServers, wantsPublicIp } from '#domain/plan';
import type { CloudProvider } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';
import { quotaAmounts, quotaLimits } from './quota.ts';

export interface DryRunDeps {
  quotas: QuotaStore;
  providers: ProviderRegistry;
  quotaDefaults: QuotaAmounts;
  pollSeconds: number;
  /** The most the cloud's quota calls may take; past it the plan is answered without them. @default 5000 */
  cloudQuotaTimeoutMs?: number;
}

const CLOUD_QUOTA_TIMEOUT_MS = 5000;

type CloudQuotaAnswer = { cloudQuota: CloudQuotaReport } | { cloudQuotaUnavailable: string };

/**
 * The cloud's own limits and usage against the plan, within `timeoutMs`: a provider that does not
 * answer its quota, a cloud that refuses or is slow, is said in `cloudQuotaUnavailable` instead.
 */
const cloudQuotaOf = async (provider: CloudProvider, spec: ClusterSpec, servers: Server[], timeoutMs: number): Promise<CloudQuotaAnswer> => {
  if (!provider.describeQuota) return { cloudQuotaUnavailable: `provider ${provider.name} does not answer its cloud's quota` };
  const sizes = new Map(spec.nodeGroups.map((group) => [group.name, group]));
  const asked = provider.describeQuota({
    servers: servers.map((server) => ({ name: server.name, flavor: server.flavor, diskGb: sizes.get(server.group)?.diskGb ?? 0, publicIp: wantsPublicIp(spec, server.role) })),
    privateNetworks: spec.network.privateNetworks,
    securityRules: spec.network.securityRules ?? [],
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  try {
    const amounts = await Promise.race([asked, late]);
    if (amounts === 'late') {
      asked.catch(() => undefined);
      return { cloudQuotaUnavailable: `the cloud did not answer its quota within ${timeoutMs} ms` };
    }
    return { cloudQuota: cloudQuotaReport(amounts) };
  } catch (error) {
    const reason = error instanceof DomainError ? `${error.name}: ${error.message}` : 'the quota calls failed';
    return { cloudQuotaUnavailable: `the cloud's quota could not be read (${reason})` };
  } finally {
    clearTimeout(timer);
  }
};

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
    ...(await cloudQuotaOf(provider, spec, servers, deps.cloudQuotaTimeoutMs ?? CLOUD_QUOTA_TIMEOUT_MS)),
    estimatedSecondsToActive: estimateSecondsToActive(servers.length, provider, deps.pollSeconds),
  };
};
