/** Checks a spec against the provider that would serve it, before anything is recorded or made. */
import { DomainError, InvalidSpec, type ErrorDetail } from '#domain/errors';
import type { ClusterSpec } from '#domain/model';
import { providerSpecOptionsOf } from '#domain/plan';
import type { CloudProvider, ServerSize } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';

export const providerFor = (providers: ProviderRegistry, name: string): CloudProvider => {
  try {
    return providers.get(name);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidSpec(message, [{ path: 'provider', message: `not available here (available: ${providers.names().join(', ') || 'none'})` }]);
  }
};

/** The size of a flavor named in a request, or InvalidSpec naming where it was asked for. */
export const flavorSizeOn =
  (provider: CloudProvider) =>
  (flavor: string, path: string): ServerSize => {
    const size = provider.describeFlavor(flavor);
    if (!size) throw new InvalidSpec(`provider ${provider.name} has no flavor ${flavor}`, [{ path, message: `no such flavor on ${provider.name}` }]);
    return size;
  };

/** Every node group must fit one of the provider's flavors; errors name the group's fields. */
export const checkSpecFits = (spec: ClusterSpec, provider: CloudProvider, fieldPath: (group: number, field: string) => string): void => {
  const details: ErrorDetail[] = [];
  spec.nodeGroups.forEach((group, i) => {
    if (group.flavor) return;
    try {
      provider.resolveFlavor(group);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const inner = error.details.length > 0 ? error.details : [{ path: 'vcpus', message: error.message }];
      details.push(...inner.map((d) => ({ path: fieldPath(i, d.path), message: d.message })));
    }
  });
  if (details.length > 0) throw new InvalidSpec(`no ${provider.name} flavor fits: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
};

/**
 * The spec's region, zone, image, key, user data, tags and security rules must be ones the
 * provider can honour: a 400 naming each field now, rather than a failed cluster later.
 */
export const checkSpecOptions = (spec: ClusterSpec, provider: CloudProvider): void => {
  const details = provider.checkOptions(providerSpecOptionsOf(spec));
  if (details.length > 0) {
    throw new InvalidSpec(`provider ${provider.name} cannot honour: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
  }
};
