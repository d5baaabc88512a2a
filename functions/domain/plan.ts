/** What a spec becomes on a provider: one planned server per node, with its flavor. */
import type { ClusterSpec, Server } from './model.ts';
import type { CloudProvider, ProviderSpecOptions, ServerOptions } from './provider.ts';

const serverName = (hostname: string, role: string, count: number, index: number): string =>
  count === 1 && role === 'master' ? hostname : `${hostname}-${index}`;

/** The servers of a spec, in a stable order (batches and client tokens are cut from it). */
export const planServers = (spec: ClusterSpec, provider: Pick<CloudProvider, 'resolveFlavor'>): Server[] =>
  spec.nodeGroups.flatMap((group) => {
    const flavor = group.flavor ?? provider.resolveFlavor(group);
    return Array.from({ length: group.count }, (_, i) => ({
      id: null,
      name: serverName(group.hostname, group.role, group.count, i + 1),
      role: group.role,
      group: group.name,
      flavor,
      state: 'PLANNED' as const,
      privateIp: null,
      publicIp: null,
    }));
  });

/**
 * Seconds from request to ACTIVE the provider's own figures promise: the batches, one boot (they
 * boot in parallel), one configuration run, and a polling round for each wait.
 */
export const estimateSecondsToActive = (
  servers: number,
  provider: Pick<CloudProvider, 'timings' | 'maxBatchSize'>,
  pollSeconds: number,
): number => {
  const batches = Math.ceil(servers / provider.maxBatchSize);
  return Math.ceil(batches * 0.5 + provider.timings.expectedBootSeconds + provider.timings.expectedConfigurationSeconds + 2 * pollSeconds);
};

/** What the spec asks of every server beyond its size, as the provider port takes it. */
export const serverOptionsOf = (spec: ClusterSpec): ServerOptions => ({
  ...(spec.region ? { region: spec.region } : {}),
  ...(spec.zone ? { zone: spec.zone } : {}),
  ...(spec.image ? { image: spec.image } : {}),
  ...(spec.keyName ? { keyName: spec.keyName } : {}),
  ...(spec.userData ? { userData: spec.userData } : {}),
  ...(spec.tags && Object.keys(spec.tags).length > 0 ? { tags: spec.tags } : {}),
});

/** The spec's options a provider checks before the cluster is recorded. */
export const providerSpecOptionsOf = (spec: ClusterSpec): ProviderSpecOptions => ({
  options: serverOptionsOf(spec),
  securityRules: spec.network.securityRules ?? [],
  privateNetworks: spec.network.privateNetworks,
});

/** Whether the spec's `publicIp` policy gives a server of this role a public address. */
export const wantsPublicIp = (spec: Pick<ClusterSpec, 'network'>, role: string): boolean =>
  spec.network.publicIp === 'all' || (spec.network.publicIp === 'master' && role === 'master');
