/**
 * The provider's settings, read the way the OpenStack client reads them (docs/openstack-provider.md,
 * "Settings"): `OS_CLOUD` names a cloud of a clouds.yaml, otherwise the `OS_*` variables say how to
 * log in; `OPENSTACK_*` say what to boot. Every problem names the variable (or clouds.yaml key) at fault.
 */
import { z } from 'zod';
import { ConfigError } from '#lib/config';
import { AUTH_FIELDS, cloudFromYaml, type AuthFields, type CloudFields, type CloudsYamlFiles, type FieldLabel } from './clouds-yaml.ts';

export type DomainRef = { id: string } | { name: string };

export interface PasswordAuth {
  type: 'password';
  user: { id: string } | { name: string; domain: DomainRef };
  password: string;
  project: { id: string } | { name: string; domain: DomainRef };
}

export interface ApplicationCredentialAuth {
  type: 'application_credential';
  /** By id, or by name with the user who owns it. */
  credential: { id: string } | { name: string; user: { id: string } | { name: string; domain: DomainRef } };
  secret: string;
}

export type Interface = 'public' | 'internal' | 'admin';

export interface OpenStackSettings {
  /** Keystone v3, ending in `/v3`. */
  authUrl: string;
  auth: PasswordAuth | ApplicationCredentialAuth;
  /** The region whose endpoints are used; unset, the catalog's first for the interface. */
  region?: string;
  interface: Interface;
  /** The image of every node whose spec names none, by name or id. */
  image: string;
  /** Where floating IPs come from, and the routers' gateway; unset, no public addresses. */
  externalNetwork?: string;
  keyName?: string;
  /** The image's login user: the cloud-init runner's workers let the controller key in as this user. */
  loginUser: string;
}

const PASSWORD_TYPES = ['password', 'v3password'];
const CREDENTIAL_TYPES = ['v3applicationcredential', 'applicationcredential', 'application_credential'];
/** What the OpenStack client assumes for a user or project named without a domain. */
const DEFAULT_DOMAIN: DomainRef = { id: 'default' };

const domainOf = (id: string | undefined, name: string | undefined): DomainRef => (id ? { id } : name ? { name } : DEFAULT_DOMAIN);

/** Keystone v3's token URL base, whichever way the settings wrote the identity endpoint. */
const v3Url = (url: string): string => {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
};

const INTERFACES: Record<string, Interface> = {
  public: 'public',
  publicURL: 'public',
  internal: 'internal',
  internalURL: 'internal',
  admin: 'admin',
  adminURL: 'admin',
};

/** Checks a cloud's fields; `problems` collects `<label>: <message>` for every one at fault. */
export const cloudSettings = (cloud: CloudFields, label: FieldLabel, problems: string[]): Omit<OpenStackSettings, 'image' | 'externalNetwork' | 'keyName' | 'loginUser'> | null => {
  const a = cloud.auth;
  const need = (field: keyof AuthFields, why = 'is required'): string => {
    const value = a[field];
    if (!value) problems.push(`${label(field)}: ${why}`);
    return value ?? '';
  };
  const authUrl = need('auth_url');
  if (authUrl && !z.url({ protocol: /^https?$/ }).safeParse(authUrl).success) problems.push(`${label('auth_url')}: must be an http(s) URL`);
  const interfaceName = cloud.interface ?? 'public';
  const iface = INTERFACES[interfaceName];
  if (!iface) problems.push(`${label('interface')}: must be public, internal or admin`);

  const authType = cloud.authType?.toLowerCase();
  const byCredential = authType ? CREDENTIAL_TYPES.includes(authType) : Boolean(a.application_credential_id || a.application_credential_secret);
  if (authType && !byCredential && !PASSWORD_TYPES.includes(authType)) {
    problems.push(`${label('auth_type')}: ${cloud.authType} is not supported (password, v3password or v3applicationcredential)`);
  }
  let auth: PasswordAuth | ApplicationCredentialAuth;
  if (byCredential) {
    const secret = need('application_credential_secret', 'is required with an application credential');
    if (!a.application_credential_id && !a.application_credential_name) {
      problems.push(`${label('application_credential_id')}: is required with an application credential (or ${label('application_credential_name')} with the user)`);
    }
    const user = a.user_id ? { id: a.user_id } : { name: a.username ?? '', domain: domainOf(a.user_domain_id, a.user_domain_name) };
    if (!a.application_credential_id && a.application_credential_name && !a.user_id && !a.username) {
      problems.push(`${label('username')}: is required with an application credential named by ${label('application_credential_name')}`);
    }
    auth = {
      type: 'application_credential',
      credential: a.application_credential_id ? { id: a.application_credential_id } : { name: a.application_credential_name ?? '', user },
      secret,
    };
  } else {
    if (!a.username && !a.user_id) problems.push(`${label('username')}: is required (or ${label('user_id')})`);
    const password = need('password');
    // An unscoped token has no catalog: the project is what makes the endpoints known.
    if (!a.project_name && !a.project_id) problems.push(`${label('project_name')}: is required (or ${label('project_id')})`);
    auth = {
      type: 'password',
      user: a.user_id ? { id: a.user_id } : { name: a.username ?? '', domain: domainOf(a.user_domain_id, a.user_domain_name) },
      password,
      project: a.project_id ? { id: a.project_id } : { name: a.project_name ?? '', domain: domainOf(a.project_domain_id, a.project_domain_name) },
    };
  }
  if (!iface) return null;
  return { authUrl: authUrl ? v3Url(authUrl) : '', auth, interface: iface, ...(cloud.region ? { region: cloud.region } : {}) };
};

const optional = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** The variables read; anything else in the environment is ignored. */
export const openStackEnvSchema = z.object({
  OS_CLOUD: optional,
  OS_CLIENT_CONFIG_FILE: optional,
  OS_AUTH_TYPE: optional,
  OS_REGION_NAME: optional,
  OS_INTERFACE: optional,
  ...Object.fromEntries(AUTH_FIELDS.map((field) => [`OS_${field.toUpperCase()}`, optional])),
  OPENSTACK_IMAGE: optional,
  OPENSTACK_EXTERNAL_NETWORK: optional,
  OPENSTACK_KEY_NAME: optional,
  OPENSTACK_LOGIN_USER: optional,
});

export interface ReadOptions {
  /** How clouds.yaml is found and read; the real file system by default. */
  files?: CloudsYamlFiles;
}

/**
 * The settings from the environment: `OS_CLOUD` and its clouds.yaml when set (the `OS_*` login
 * variables are then not read, as the OpenStack client does), the `OS_*` variables otherwise.
 * Throws ConfigError listing every problem.
 */
export const openStackSettingsFromEnv = (env: NodeJS.ProcessEnv = process.env, options: ReadOptions = {}): OpenStackSettings => {
  const vars: Record<string, string | undefined> = openStackEnvSchema.parse(env);
  const problems: string[] = [];
  let cloud: CloudFields;
  let label: FieldLabel;
  if (vars.OS_CLOUD) {
    ({ cloud, label } = cloudFromYaml(vars.OS_CLOUD, vars.OS_CLIENT_CONFIG_FILE, options.files));
  } else {
    const auth = Object.fromEntries(AUTH_FIELDS.flatMap((field) => (vars[`OS_${field.toUpperCase()}`] ? [[field, vars[`OS_${field.toUpperCase()}`]]] : [])));
    cloud = {
      auth,
      ...(vars.OS_AUTH_TYPE ? { authType: vars.OS_AUTH_TYPE } : {}),
      ...(vars.OS_REGION_NAME ? { region: vars.OS_REGION_NAME } : {}),
      ...(vars.OS_INTERFACE ? { interface: vars.OS_INTERFACE } : {}),
    };
    label = (field) => (field === 'auth_url' && !vars.OS_AUTH_URL ? 'OS_AUTH_URL (or OS_CLOUD)' : `OS_${field.toUpperCase()}`);
  }
  const settings = cloudSettings(cloud, label, problems);
  if (!vars.OPENSTACK_IMAGE) problems.push('OPENSTACK_IMAGE: is required: the image (name or id) of nodes whose spec names none');
  const loginUser = vars.OPENSTACK_LOGIN_USER ?? 'debian';
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(loginUser)) problems.push('OPENSTACK_LOGIN_USER: must be a user name');
  if (!settings || !vars.OPENSTACK_IMAGE || problems.length > 0) throw new ConfigError(`invalid openstack provider settings: ${problems.join('; ')}`);
  return {
    ...settings,
    image: vars.OPENSTACK_IMAGE,
    ...(vars.OPENSTACK_EXTERNAL_NETWORK ? { externalNetwork: vars.OPENSTACK_EXTERNAL_NETWORK } : {}),
    ...(vars.OPENSTACK_KEY_NAME ? { keyName: vars.OPENSTACK_KEY_NAME } : {}),
    loginUser,
  };
};
