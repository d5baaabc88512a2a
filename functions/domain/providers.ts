/** Which providers a deployment can use, by name (docs/providers.md). */
import { ProviderUnavailable } from './errors.ts';
import type { ConfigurationRunner } from './model.ts';
import type { CloudProvider } from './provider.ts';

/** Every cloud the service knows; a deployment has some of them. */
export const PROVIDER_NAMES = ['local', 'ec2', 'openstack', 'hyperstack', 'lightsail'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderRegistry {
  /** The provider of that name; `ProviderUnavailable` when this deployment has none. */
  get(name: string): CloudProvider;
  names(): string[];
}

export const providerRegistry = (providers: CloudProvider[]): ProviderRegistry => {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  return {
    get(name) {
      const provider = byName.get(name);
      if (!provider) {
        throw new ProviderUnavailable(`provider '${name}' is not available in this deployment (available: ${[...byName.keys()].join(', ') || 'none'})`);
      }
      return provider;
    },
    names: () => [...byName.keys()],
  };
};

/**
 * The runner of a cluster on `provider` that names none: the deployment's default where the
 * provider offers it, or else the provider's own default.
 */
export const defaultRunnerOf = (provider: Pick<CloudProvider, 'configurationRunners'>, deploymentDefault: ConfigurationRunner | undefined): ConfigurationRunner =>
  deploymentDefault !== undefined && provider.configurationRunners.includes(deploymentDefault) ? deploymentDefault : provider.configurationRunners[0];

/** The image's login user a provider's runners open the nodes as (its `inventoryVars.ansible_user`); root when it says none. */
export const loginUserOf = (provider: Pick<CloudProvider, 'inventoryVars'>): string => {
  const user = provider.inventoryVars?.ansible_user;
  return typeof user === 'string' ? user : 'root';
};
