/**
 * The stack's settings from its props and CDK context (`-c key=value`), checked at synth: a bad
 * value stops the synth with a message naming the context key.
 */
import type { Construct } from 'constructs';
import { PROVIDER_NAMES, type ProviderName } from '../../functions/domain/providers.ts';
import { CONFIGURATION_RUNNERS, type ConfigurationRunner } from '../../functions/domain/model.ts';
import type { Ec2ProviderSettings } from './constructs/ec2-provider-access.ts';
import type { ConfigurationContainerSettings } from './constructs/configuration-container.ts';
import type { LightsailProviderSettings } from './constructs/lightsail-provider-access.ts';

/** Per-project limits for projects without their own. */
export type QuotaDefaults = Partial<Record<'vcpus' | 'servers' | 'clusters', number>>;

/** The `ec2` settings from CDK context (`-c ec2VpcId=vpc-… -c ec2SubnetIds=subnet-a,subnet-b -c ec2ImageId=ami-…`). */
export const ec2SettingsFromContext = (scope: Construct): Ec2ProviderSettings | undefined => {
  const context = (key: string): string | undefined => {
    const value: unknown = scope.node.tryGetContext(key);
    return typeof value === 'string' && value.length > 0 ? value : Array.isArray(value) ? value.join(',') : undefined;
  };
  const vpcId = context('ec2VpcId');
  if (!vpcId) return undefined;
  const subnetIds = (context('ec2SubnetIds') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const imageId = context('ec2ImageId');
  if (subnetIds.length === 0 || !imageId) throw new Error('ec2VpcId needs ec2SubnetIds and ec2ImageId in the context too');
  const keyName = context('ec2KeyName');
  const serviceTag = context('serviceTag');
  const loginUser = context('ec2LoginUser');
  return { vpcId, subnetIds, imageId, ...(keyName ? { keyName } : {}), ...(serviceTag ? { serviceTag } : {}), ...(loginUser ? { loginUser } : {}) };
};

/** A context value given as a non-empty string, else undefined. */
const contextString = (scope: Construct, key: string): string | undefined => {
  const value: unknown = scope.node.tryGetContext(key);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

export interface OpenStackSettings {
  /** The Secrets Manager secret with the credentials: a clouds.yaml document, or a JSON object of OS_* variables. */
  readonly credentialsSecretArn: string;
  readonly image: string;
  readonly cloud?: string;
  readonly externalNetwork?: string;
  readonly keyName?: string;
  readonly loginUser?: string;
}

/** The openstack provider from CDK context (`-c openstackCredentialsSecretArn=… -c openstackImage=…`). */
export const openstackSettingsFromContext = (scope: Construct): OpenStackSettings | undefined => {
  const context = (key: string) => contextString(scope, key);
  const credentialsSecretArn = context('openstackCredentialsSecretArn');
  if (!credentialsSecretArn) return undefined;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(credentialsSecretArn)) {
    throw new Error('openstackCredentialsSecretArn must be the ARN of a Secrets Manager secret');
  }
  const image = context('openstackImage');
  if (!image) throw new Error('openstackCredentialsSecretArn needs openstackImage (the image, by name or id, of nodes whose spec names none) in the context too');
  const optional = { cloud: context('openstackCloud'), externalNetwork: context('openstackExternalNetwork'), keyName: context('openstackKeyName'), loginUser: context('openstackLoginUser') };
  return { credentialsSecretArn, image, ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) };
};

export interface HyperstackSettings {
  /** The Secrets Manager secret with the Infrahub API key: the key alone, or `{"HYPERSTACK_API_KEY": "…"}`. */
  readonly apiKeySecretArn: string;
  readonly environment: string;
  readonly image: string;
  readonly keyName: string;
  /** @default https://infrahub-api.nexgencloud.com/v1 */
  readonly apiUrl?: string;
}

/** The hyperstack provider from CDK context (`-c hyperstackApiKeySecretArn=… -c hyperstackEnvironment=… -c hyperstackImage=… -c hyperstackKeyName=…`). */
export const hyperstackSettingsFromContext = (scope: Construct): HyperstackSettings | undefined => {
  const context = (key: string) => contextString(scope, key);
  const apiKeySecretArn = context('hyperstackApiKeySecretArn');
  if (!apiKeySecretArn) return undefined;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(apiKeySecretArn)) {
    throw new Error('hyperstackApiKeySecretArn must be the ARN of a Secrets Manager secret');
  }
  const [environment, image, keyName] = [context('hyperstackEnvironment'), context('hyperstackImage'), context('hyperstackKeyName')];
  const missing = Object.entries({ hyperstackEnvironment: environment, hyperstackImage: image, hyperstackKeyName: keyName })
    .filter(([, value]) => value === undefined)
    .map(([key]) => key);
  if (missing.length > 0 || !environment || !image || !keyName) {
    throw new Error(`hyperstackApiKeySecretArn needs ${missing.join(', ')} (the Infrahub environment, image and key pair the servers are made with) in the context too`);
  }
  const apiUrl = context('hyperstackApiUrl');
  if (apiUrl !== undefined && !/^https:\/\/[^\s/]+/.test(apiUrl)) throw new Error('hyperstackApiUrl must be an https URL');
  return { apiKeySecretArn, environment, image, keyName, ...(apiUrl ? { apiUrl } : {}) };
};

/** The configuration container from CDK context (`-c configurationImage=… -c configurationSshKeySecretArn=…`). */
export const configurationContainerFromContext = (scope: Construct): ConfigurationContainerSettings | undefined => {
  const context = (key: string) => contextString(scope, key);
  const image = context('configurationImage');
  if (!image) return undefined;
  const sshKeySecretArn = context('configurationSshKeySecretArn');
  if (!sshKeySecretArn) throw new Error('configurationImage needs configurationSshKeySecretArn (the Secrets Manager secret with the nodes\' SSH key) in the context too');
  return { image, sshKeySecretArn };
};

const QUOTA_CONTEXT = { vcpus: ['quotaMaxVcpus', 'QUOTA_MAX_VCPUS'], servers: ['quotaMaxServers', 'QUOTA_MAX_SERVERS'], clusters: ['quotaMaxClusters', 'QUOTA_MAX_CLUSTERS'] } as const;

/** The quota defaults given (props, else context), as the functions' variables; a bad value stops the synth. */
export const resolveQuotaDefaults = (given: QuotaDefaults | undefined, scope: Construct): Record<string, number> => {
  const variables: Record<string, number> = {};
  for (const [resource, [contextKey, variable]] of Object.entries(QUOTA_CONTEXT) as [keyof typeof QUOTA_CONTEXT, (typeof QUOTA_CONTEXT)[keyof typeof QUOTA_CONTEXT]][]) {
    const value: unknown = given?.[resource] ?? scope.node.tryGetContext(contextKey);
    if (value === undefined) continue;
    const number = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
      throw new Error(`${contextKey} must be a whole number ≥ 0; got ${JSON.stringify(value)}`);
    }
    variables[variable] = number;
  }
  return variables;
};

/** The boot, agents, configuration and rollback limits together fit the provision workflow's TimeoutSeconds (2 h). */
const MAX_AGENT_TIMEOUT_SECONDS = 900;

export const resolveAgentTimeoutSeconds = (value: unknown): number => {
  const given = value ?? 600;
  const seconds = typeof given === 'string' && /^[0-9]+$/.test(given) ? Number(given) : given;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_AGENT_TIMEOUT_SECONDS) {
    throw new Error(`configurationAgentTimeoutSeconds must be whole seconds from 1 to ${MAX_AGENT_TIMEOUT_SECONDS}; got ${JSON.stringify(value)}`);
  }
  return seconds;
};

export const resolveDefaultRunner = (value: unknown, hasContainer: boolean): ConfigurationRunner => {
  const runner = value ?? (hasContainer ? 'container' : 'ssm');
  if (typeof runner !== 'string' || !(CONFIGURATION_RUNNERS as readonly string[]).includes(runner)) {
    throw new Error(`defaultConfigurationRunner must be one of ${CONFIGURATION_RUNNERS.join(', ')}; got ${JSON.stringify(runner)}`);
  }
  if (runner === 'container' && !hasContainer) {
    throw new Error('defaultConfigurationRunner container needs the configuration container (configurationImage, configurationSshKeySecretArn)');
  }
  return runner as ConfigurationRunner;
};

export const resolveDefaultProvider = (value: unknown): ProviderName => {
  const provider = value ?? 'ec2';
  // The emulated cloud lives inside one process; in Lambda its servers would vanish between steps.
  const deployable = PROVIDER_NAMES.filter((name) => name !== 'local');
  if (typeof provider !== 'string' || !(deployable as readonly string[]).includes(provider)) {
    throw new Error(`defaultProvider must be one of ${deployable.join(', ')}; got ${JSON.stringify(provider)}`);
  }
  return provider as ProviderName;
};

/**
 * The lightsail provider from CDK context: `-c lightsail=true` enables it, with `lightsailBlueprint`
 * (default debian_12), `lightsailZone`, `lightsailKeyPair` and the stack's `serviceTag`.
 */
export const lightsailSettingsFromContext = (scope: Construct): LightsailProviderSettings | undefined => {
  const enabled: unknown = scope.node.tryGetContext('lightsail');
  if (enabled === undefined || enabled === false || enabled === 'false') return undefined;
  if (enabled !== true && enabled !== 'true') throw new Error('lightsail must be true or false');
  const context = (key: string) => contextString(scope, key);
  const blueprint = context('lightsailBlueprint') ?? 'debian_12';
  if (!/^[a-z0-9_.-]{1,64}$/.test(blueprint)) throw new Error('lightsailBlueprint must be a Lightsail blueprint id, such as debian_12');
  const zone = context('lightsailZone');
  if (zone !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone)) throw new Error('lightsailZone must be an availability zone such as eu-west-2a');
  const keyPair = context('lightsailKeyPair');
  const serviceTag = context('serviceTag');
  return { blueprint, ...(zone ? { zone } : {}), ...(keyPair ? { keyPair } : {}), ...(serviceTag ? { serviceTag } : {}) };
};
