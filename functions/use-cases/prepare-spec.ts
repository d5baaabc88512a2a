/**
 * From a request body to a spec its provider can honour, before anything is recorded or made:
 * one path for every door that creates (the native route, the event trigger, the compat route).
 */
import { DomainError, InvalidSpec, type ErrorDetail } from '#domain/errors';
import { compatToSpec, type CompatCreateRequest } from '#domain/compat-request';
import type { ClusterSpec, ConfigurationRunner } from '#domain/model';
import { nativeToSpec, type NativeCreateRequest } from '#domain/native-request';
import { providerSpecOptionsOf } from '#domain/plan';
import type { CloudProvider, ServerSize } from '#domain/provider';
import { defaultRunnerOf, type ProviderRegistry } from '#domain/providers';

const providerFor = (providers: ProviderRegistry, name: string): CloudProvider => {
  try {
    return providers.get(name);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidSpec(message, [{ path: 'provider', message: `not available here (available: ${providers.names().join(', ') || 'none'})` }]);
  }
};

/** The size of a flavor named in a request, or InvalidSpec naming where it was asked for. */
const flavorSizeOn =
  (provider: CloudProvider) =>
  (flavor: string, path: string): ServerSize => {
    const size = provider.describeFlavor(flavor);
    if (!size) throw new InvalidSpec(`provider ${provider.name} has no flavor ${flavor}`, [{ path, message: `no such flavor on ${provider.name}` }]);
    return size;
  };

/** Every node group must fit one of the provider's flavors; errors name the group's fields. */
const checkSpecFits = (spec: ClusterSpec, provider: CloudProvider, fieldPath: (group: number, field: string) => string): void => {
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
const checkSpecOptions = (spec: ClusterSpec, provider: CloudProvider): void => {
  const details = provider.checkOptions(providerSpecOptionsOf(spec));
  if (details.length > 0) {
    throw new InvalidSpec(`provider ${provider.name} cannot honour: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
  }
};

/** A runner the request names must be one that can configure the provider's servers. */
const checkSpecRunner = (spec: ClusterSpec, provider: CloudProvider): void => {
  const runner = spec.configuration.runner;
  if (runner === undefined || provider.configurationRunners.includes(runner)) return;
  const offered = provider.configurationRunners.join(', ');
  throw new InvalidSpec(`provider ${provider.name} cannot be configured by the ${runner} runner`, [
    { path: 'configuration.runner', message: `not a runner of ${provider.name} (its runners: ${offered})` },
  ]);
};

/** Where a create finds its provider: those this deployment has, and the one a request that names none gets. */
export interface SpecDeps {
  providers: ProviderRegistry;
  defaultProvider: string;
  /** The runner compat requests get (they cannot name one). */
  defaultConfigurationRunner?: ConfigurationRunner;
}

/** A native body (the route's or an event's): provider → spec → fits → options, errors naming its fields. */
export const prepareNativeSpec = (deps: SpecDeps, body: NativeCreateRequest): ClusterSpec => {
  const provider = providerFor(deps.providers, body.provider ?? deps.defaultProvider);
  const spec = nativeToSpec(body, provider.name, flavorSizeOn(provider));
  checkSpecFits(spec, provider, (i, field) => `nodeGroups.${i}.${field}`);
  checkSpecOptions(spec, provider);
  checkSpecRunner(spec, provider);
  return spec;
};

/** The seed's field for a size of its master (group 0) or slaves (group 1). */
const compatField = (group: number, field: string): string => {
  const role = group === 0 ? 'master' : 'slave';
  const name = { vcpus: 'vcpus', ramMb: 'ram', diskGb: 'disk' }[field] ?? field;
  return `${name}_${role}`;
};

/** A compat body on the deployment's provider; a size no flavor fits is reported on the seed's fields. */
export const prepareCompatSpec = (deps: SpecDeps, body: CompatCreateRequest): ClusterSpec => {
  const provider = providerFor(deps.providers, deps.defaultProvider);
  const spec = compatToSpec(body, provider.name, defaultRunnerOf(provider, deps.defaultConfigurationRunner));
  checkSpecFits(spec, provider, compatField);
  return spec;
};
