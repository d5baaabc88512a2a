/**
 * The hyperstack provider's settings (docs/hyperstack-provider.md, "Settings"): the API key and
 * base URL of Infrahub, and what to boot. Every problem names the variable at fault.
 */
import { ConfigError } from '#lib/config';

export interface HyperstackSettings {
  apiKey: string;
  /** Infrahub's API base, ending in `/v1`. */
  apiUrl: string;
  environment: string;
  image: string;
  keyName: string;
}

export const DEFAULT_API_URL = 'https://infrahub-api.nexgencloud.com/v1';

const value = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const raw = (env[name] ?? '').trim();
  return raw === '' ? undefined : raw;
};

/** The settings from the environment; throws ConfigError listing every missing or bad variable. */
export const hyperstackSettingsFromEnv = (env: NodeJS.ProcessEnv = process.env, apiKey?: string): HyperstackSettings => {
  const problems: string[] = [];
  const key = apiKey ?? value(env, 'HYPERSTACK_API_KEY');
  if (!key) problems.push('HYPERSTACK_API_KEY: is required');
  const apiUrl = (value(env, 'HYPERSTACK_API_URL') ?? DEFAULT_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(apiUrl)) problems.push('HYPERSTACK_API_URL: must be an http(s) URL');
  const environment = value(env, 'HYPERSTACK_ENVIRONMENT');
  if (!environment) problems.push('HYPERSTACK_ENVIRONMENT: is required: the Infrahub environment the servers are made in');
  const image = value(env, 'HYPERSTACK_IMAGE');
  if (!image) problems.push('HYPERSTACK_IMAGE: is required: the image name of nodes whose spec names none');
  const keyName = value(env, 'HYPERSTACK_KEY_NAME');
  if (!keyName) problems.push('HYPERSTACK_KEY_NAME: is required: Infrahub makes no server without a key pair');
  if (problems.length > 0 || !key || !environment || !image || !keyName) throw new ConfigError(`invalid hyperstack provider settings: ${problems.join('; ')}`);
  return { apiKey: key, apiUrl, environment, image, keyName };
};
