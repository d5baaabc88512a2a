/**
 * A cloud of a clouds.yaml, found where the OpenStack client looks for it: `OS_CLIENT_CONFIG_FILE`,
 * else ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml (the first that exists).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '#lib/config';

/** The auth fields of both sources, as clouds.yaml names them; `OS_` + upper case is the variable. */
export const AUTH_FIELDS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
] as const;
export type AuthFields = Partial<Record<(typeof AUTH_FIELDS)[number], string>>;

/** A cloud as either source describes it, before it is checked. */
export interface CloudFields {
  auth: AuthFields;
  authType?: string;
  region?: string;
  interface?: string;
}

/** Where each field came from, for messages: `OS_AUTH_URL`, or `clouds.yaml (path) clouds.x.auth.auth_url`. */
export type FieldLabel = (field: string) => string;

export interface CloudsYamlFiles {
  exists(file: string): boolean;
  read(file: string): string;
  cwd(): string;
  home(): string;
}

const realFiles: CloudsYamlFiles = {
  exists: (file) => existsSync(file),
  read: (file) => readFileSync(file, 'utf8'),
  cwd: () => process.cwd(),
  home: () => homedir(),
};

/** Where the OpenStack client looks, in its order. */
export const cloudsYamlCandidates = (files: CloudsYamlFiles): string[] => [
  path.join(files.cwd(), 'clouds.yaml'),
  path.join(files.home(), '.config', 'openstack', 'clouds.yaml'),
  '/etc/openstack/clouds.yaml',
];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** YAML may write a number or a boolean where a string is meant (`project_id: 1234`). */
const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;

const fail = (message: string): never => {
  throw new ConfigError(`invalid openstack provider settings: ${message}`);
};

/** The cloud `name` of the clouds.yaml the client would read, with labels naming its keys. */
export const cloudFromYaml = (name: string, configFile: string | undefined, files: CloudsYamlFiles = realFiles): { cloud: CloudFields; label: FieldLabel } => {
  let file: string;
  if (configFile) {
    if (!files.exists(configFile)) fail(`OS_CLIENT_CONFIG_FILE: ${configFile} does not exist`);
    file = configFile;
  } else {
    const candidates = cloudsYamlCandidates(files);
    file = candidates.find((candidate) => files.exists(candidate)) ?? fail(`OS_CLOUD: names cloud '${name}', but there is no clouds.yaml (looked for ${candidates.join(', ')}; OS_CLIENT_CONFIG_FILE names another)`);
  }
  let document: unknown;
  try {
    document = parseYaml(files.read(file));
  } catch (error) {
    fail(`clouds.yaml (${file}): not YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const clouds = isRecord(document) && isRecord(document.clouds) ? document.clouds : fail(`clouds.yaml (${file}): has no 'clouds' map`);
  const entry = clouds[name];
  if (!isRecord(entry)) fail(`OS_CLOUD: no cloud '${name}' in ${file} (it has ${Object.keys(clouds).join(', ') || 'none'})`);
  const cloud = entry as Record<string, unknown>;
  const auth = isRecord(cloud.auth) ? cloud.auth : {};
  const fields: AuthFields = Object.fromEntries(AUTH_FIELDS.flatMap((field) => (text(auth[field]) ? [[field, text(auth[field])]] : [])));
  const authType = text(cloud.auth_type);
  const region = text(cloud.region_name);
  const iface = text(cloud.interface);
  const label: FieldLabel = (field) => {
    const key = AUTH_FIELDS.includes(field as (typeof AUTH_FIELDS)[number]) ? `auth.${field}` : field;
    return `clouds.yaml (${file}) clouds.${name}.${key}`;
  };
  return {
    cloud: { auth: fields, ...(authType ? { authType } : {}), ...(region ? { region } : {}), ...(iface ? { interface: iface } : {}) },
    label,
  };
};
