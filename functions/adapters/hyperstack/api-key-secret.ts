/**
 * The hyperstack provider of a deployed function (docs/hyperstack-provider.md, "Deploying"): its
 * API key comes from a Secrets Manager secret, never from the template. The secret holds the key
 * itself, or a JSON object `{"HYPERSTACK_API_KEY": "…"}`; what to boot (`HYPERSTACK_ENVIRONMENT`,
 * …) is in the function's environment.
 */
import { ConfigError } from '#lib/config';
import { hyperstackSettingsFromEnv, type HyperstackSettings } from './settings.ts';

/** The API key in the secret's text; ConfigError saying what is wrong, never the text. */
export const apiKeyFromSecret = (text: string): string => {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (trimmed === '' || /\s/.test(trimmed)) throw new ConfigError('the hyperstack API key secret must hold the key alone (no spaces) or a JSON object {"HYPERSTACK_API_KEY": …}');
    return trimmed;
  }
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw new ConfigError('the hyperstack API key secret is neither the key nor a JSON object');
  }
  const others = Object.keys(fields).filter((name) => name !== 'HYPERSTACK_API_KEY');
  if (others.length > 0) throw new ConfigError(`the hyperstack API key secret may hold HYPERSTACK_API_KEY only: not ${others.join(', ')}`);
  const key = fields.HYPERSTACK_API_KEY;
  if (typeof key !== 'string' || key.trim() === '') throw new ConfigError('the hyperstack API key secret: HYPERSTACK_API_KEY must be a non-empty string');
  return key.trim();
};

/** The settings from the secret's text and the function's `HYPERSTACK_*` variables. */
export const hyperstackSettingsFromSecret = (text: string, env: NodeJS.ProcessEnv): HyperstackSettings =>
  hyperstackSettingsFromEnv(env, apiKeyFromSecret(text));
