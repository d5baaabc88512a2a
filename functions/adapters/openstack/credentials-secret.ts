/**
 * The openstack provider of a deployed function (docs/openstack-provider.md, "Deploying"): its
 * credentials come from a Secrets Manager secret, never from the template. The secret holds either
 * a clouds.yaml document (the cloud `OPENSTACK_CLOUD` names, or its only one) or a JSON object of
 * the OpenStack client's `OS_*` variables; what to boot (`OPENSTACK_IMAGE`, …) is in the function's
 * environment.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '#lib/config';
import { AUTH_FIELDS } from './clouds-yaml.ts';
import { openStackSettingsFromEnv, type OpenStackSettings } from './settings.ts';

/** The variables a JSON secret may carry: the login ones, nothing that says what to boot. */
const LOGIN_VARIABLES = new Set(['OS_AUTH_TYPE', 'OS_REGION_NAME', 'OS_INTERFACE', ...AUTH_FIELDS.map((field) => `OS_${field.toUpperCase()}`)]);
/** Where the secret's clouds.yaml is read from: nowhere on disk. */
const IN_SECRET = '(the credentials secret)';

/** The settings from the secret's text and the function's environment; ConfigError naming what is wrong. */
export const openStackSettingsFromSecret = (text: string, env: NodeJS.ProcessEnv): OpenStackSettings => {
  const boot = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('OPENSTACK_')));
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let variables: Record<string, unknown>;
    try {
      variables = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new ConfigError('the openstack credentials secret is neither a JSON object of OS_* variables nor a clouds.yaml document');
    }
    const unknown = Object.keys(variables).filter((name) => !LOGIN_VARIABLES.has(name) || typeof variables[name] !== 'string');
    if (unknown.length > 0) throw new ConfigError(`the openstack credentials secret may hold the OS_* login variables only, as strings: not ${unknown.join(', ')}`);
    return openStackSettingsFromEnv({ ...(variables as Record<string, string>), ...boot });
  }
  const document = parseYaml(trimmed) as { clouds?: Record<string, unknown> } | null;
  const names = Object.keys(document?.clouds ?? {});
  const cloud = env.OPENSTACK_CLOUD || (names.length === 1 ? names[0] : undefined);
  if (!cloud) throw new ConfigError(`OPENSTACK_CLOUD: is required: the credentials secret's clouds.yaml has ${names.length === 0 ? 'no clouds' : `several clouds (${names.join(', ')})`}`);
  return openStackSettingsFromEnv(
    { OS_CLOUD: cloud, OS_CLIENT_CONFIG_FILE: IN_SECRET, ...boot },
    { files: { exists: (file) => file === IN_SECRET, read: () => trimmed, cwd: () => '/', home: () => '/' } },
  );
};
