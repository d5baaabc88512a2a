/**
 * The clouds local mode drives (docs/local-mode.md, "Real clouds"): the emulated `local` cloud
 * always, and every other provider whose own settings are in the environment — `ec2` with its
 * `EC2_*` settings and the AWS SDK's own credentials and endpoints, `openstack` with `OS_CLOUD` +
 * clouds.yaml or the `OS_*` variables, `hyperstack` with `HYPERSTACK_API_KEY` and its `HYPERSTACK_*` settings, `lightsail` with any of
 * `LIGHTSAIL_BLUEPRINT`, `LIGHTSAIL_ZONE`, `LIGHTSAIL_KEY_PAIR`, `AWS_ENDPOINT_URL_LIGHTSAIL` and the AWS SDK's own credentials. Each provider's settings are read as a deployed function
 * reads them; what a provider lacks is said once, at start.
 *
 * A provider whose settings are present but wrong (a bad variable, a cloud that refuses the login)
 * is unavailable with that reason, unless it is the one `PROVIDER` asks for: then the start fails
 * with it, since a default provider that cannot work is not a service.
 */
import { awsProvidersFromEnv } from '#adapters/aws-providers';
import { HyperstackProvider, hyperstackSettingsFromEnv } from '#adapters/hyperstack/index';
import { LIGHTSAIL_TRIGGERS, lightsailProviderFromEnv } from '#adapters/lightsail/index';
import { OpenStackProvider, openStackSettingsFromEnv } from '#adapters/openstack/index';
import type { CloudProvider } from '#domain/provider';
import { PROVIDER_NAMES, type ProviderName } from '#domain/providers';
import { ConfigError } from '#lib/config';

export interface ProviderAvailability {
  name: ProviderName;
  available: boolean;
  /** Why it is there (which settings made it), or why not. */
  reason: string;
}

export interface LocalProviders {
  providers: CloudProvider[];
  availability: ProviderAvailability[];
}

type Built = { provider: CloudProvider; reason: string } | { unavailable: string };

const set = (env: NodeJS.ProcessEnv, name: string) => (env[name] ?? '').trim() !== '';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const builders: Record<Exclude<ProviderName, 'local'>, (env: NodeJS.ProcessEnv) => Promise<Built>> = {
  ec2: async (env) => {
    if (!set(env, 'EC2_VPC_ID')) return { unavailable: 'EC2_VPC_ID is not set' };
    const [provider] = awsProvidersFromEnv(env);
    if (!provider) return { unavailable: 'EC2_VPC_ID is not set' };
    return { provider, reason: `EC2_VPC_ID ${env.EC2_VPC_ID}${env.AWS_REGION ? ` in ${env.AWS_REGION}` : ''}, the AWS SDK's own credentials` };
  },
  openstack: async (env) => {
    if (!set(env, 'OS_CLOUD') && !set(env, 'OS_AUTH_URL')) return { unavailable: 'neither OS_CLOUD nor OS_AUTH_URL is set' };
    const settings = openStackSettingsFromEnv(env);
    const provider = await OpenStackProvider.connect(settings, env.SERVICE_TAG ? { serviceTag: env.SERVICE_TAG } : {});
    return { provider, reason: env.OS_CLOUD ? `OS_CLOUD ${env.OS_CLOUD}, ${settings.authUrl}` : settings.authUrl };
  },
  hyperstack: async (env) => {
    if (!set(env, 'HYPERSTACK_API_KEY')) return { unavailable: 'HYPERSTACK_API_KEY is not set' };
    const settings = hyperstackSettingsFromEnv(env);
    const provider = await HyperstackProvider.connect(settings, env.SERVICE_TAG ? { serviceTag: env.SERVICE_TAG } : {});
    return { provider, reason: `${settings.apiUrl}, environment ${settings.environment}` };
  },
  lightsail: async (env) => {
    const provider = lightsailProviderFromEnv(env);
    if (!provider) return { unavailable: `none of ${LIGHTSAIL_TRIGGERS.join(', ')} is set` };
    const { settings } = provider;
    return { provider, reason: `blueprint ${settings.blueprintId} in ${settings.zone ?? `${settings.region}'s first zone`}${settings.endpoint ? ` at ${settings.endpoint}` : ''}, the AWS SDK's own credentials` };
  },
};

/**
 * Builds every provider whose settings `env` has, besides `local`. Throws ConfigError when
 * `defaultProvider` is not among them, with the reason it is not.
 */
export const localProviders = async (local: CloudProvider, defaultProvider: ProviderName, env: NodeJS.ProcessEnv = process.env): Promise<LocalProviders> => {
  const providers: CloudProvider[] = [local];
  const availability: ProviderAvailability[] = [{ name: 'local', available: true, reason: 'the emulated cloud' }];
  for (const name of PROVIDER_NAMES) {
    if (name === 'local') continue;
    let built: Built;
    try {
      built = await builders[name](env);
    } catch (error) {
      if (name === defaultProvider) throw new ConfigError(`PROVIDER=${name}: ${messageOf(error)}`);
      built = { unavailable: messageOf(error) };
    }
    if ('provider' in built) {
      providers.push(built.provider);
      availability.push({ name, available: true, reason: built.reason });
    } else {
      availability.push({ name, available: false, reason: built.unavailable });
    }
  }
  const chosen = availability.find((entry) => entry.name === defaultProvider);
  if (!chosen?.available) throw new ConfigError(`PROVIDER=${defaultProvider} is not available: ${chosen?.reason ?? 'unknown provider'}`);
  return { providers, availability };
};
