/**
 * The cloud adapters a deployed function has, from the environment the CDK stack sets. The `ec2`
 * provider exists when the stack was given a VPC, subnets and an AMI; the `openstack` provider
 * when it was given the Secrets Manager secret of its credentials, the `hyperstack` provider the
 * secret of its API key (deployedProviders). With the configuration
 * bundle and the inputs bucket, its SSM runner has the built-in `lambda` and `script` profiles
 * (the master as Ansible controller); `EC2_CONFIGURATION_PROFILES` (JSON) adds or replaces
 * profiles by name (docs/ec2-provider.md).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { CloudProvider } from '#domain/provider';
import { readEnv } from '#lib/config';
import { logger } from '#lib/logger';
import { HyperstackProvider } from './hyperstack/index.ts';
import { hyperstackSettingsFromSecret } from './hyperstack/api-key-secret.ts';
import { lightsailProviderFromEnv } from './lightsail/index.ts';
import { OpenStackProvider } from './openstack/index.ts';
import { openStackSettingsFromSecret } from './openstack/credentials-secret.ts';
import { Ec2Provider, type SsmConfigurationOptions } from './ec2/index.ts';
import { S3ConfigurationInputs } from './s3-configuration-inputs.ts';
import { s3PresignGet } from './s3-presigned-urls.ts';

const list = z.string().transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

export const ec2EnvSchema = z.object({
  EC2_VPC_ID: z.string().min(1).optional(),
  EC2_SUBNET_IDS: list.optional(),
  EC2_IMAGE_ID: z.string().min(1).optional(),
  EC2_INSTANCE_PROFILE_ARN: z.string().min(1).optional(),
  EC2_KEY_NAME: z.string().min(1).optional(),
  SERVICE_TAG: z.string().min(1).optional(),
  /** Set by Lambda: the provider's one region, so a spec naming another is refused at create. */
  AWS_REGION: z.string().min(1).optional(),
  /** The login user of the image (`ansible_user` of both runners); `admin` when unset. */
  EC2_LOGIN_USER: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name').optional(),
  /** `s3://<bucket>/<key>` of the configuration bundle (the stack's asset of configuration/). */
  CONFIGURATION_BUNDLE_S3_URI: z.string().regex(/^s3:\/\/[^/]+\/.+$/, 'must be s3://<bucket>/<key>').optional(),
  /** The bucket of the runs' inventories and extra vars. */
  CONFIGURATION_INPUTS_BUCKET: z.string().min(1).optional(),
  EC2_CONFIGURATION_PROFILES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .optional(),
});

export const awsProvidersFromEnv = (env: NodeJS.ProcessEnv = process.env): CloudProvider[] => {
  const settings = readEnv(ec2EnvSchema, env);
  if (!settings.EC2_VPC_ID) return [];
  const configuration: SsmConfigurationOptions = {
    ...(settings.EC2_CONFIGURATION_PROFILES ? { profiles: settings.EC2_CONFIGURATION_PROFILES as never } : {}),
    ...(settings.CONFIGURATION_BUNDLE_S3_URI && settings.CONFIGURATION_INPUTS_BUCKET
      ? {
          controller: {
            bundleUri: settings.CONFIGURATION_BUNDLE_S3_URI,
            inputs: new S3ConfigurationInputs(settings.CONFIGURATION_INPUTS_BUCKET),
            // Not traced: signing is local, there is no call to trace.
            presign: s3PresignGet(new S3Client({ ...(settings.AWS_REGION ? { region: settings.AWS_REGION } : {}) })),
          },
        }
      : {}),
  };
  return [
    new Ec2Provider({
      ...(settings.AWS_REGION ? { region: settings.AWS_REGION } : {}),
      ...(settings.EC2_LOGIN_USER ? { loginUser: settings.EC2_LOGIN_USER } : {}),
      vpcId: settings.EC2_VPC_ID,
      subnetIds: settings.EC2_SUBNET_IDS ?? [],
      imageId: settings.EC2_IMAGE_ID ?? '',
      instanceProfileArn: settings.EC2_INSTANCE_PROFILE_ARN ?? '',
      ...(settings.EC2_KEY_NAME ? { keyName: settings.EC2_KEY_NAME } : {}),
      ...(settings.SERVICE_TAG ? { serviceTag: settings.SERVICE_TAG } : {}),
      configuration,
    }),
  ];
};

/**
 * The `openstack` provider, when `OPENSTACK_CREDENTIALS_SECRET_ARN` names its credentials: read
 * once, when the function's container starts, and connected (a login, the flavors). A cloud that
 * cannot be reached then is left out of this container, with the reason in the log: a request
 * naming openstack is refused (ProviderUnavailable) instead of every request failing.
 */
export const openStackProviderFromSecret = async (
  env: NodeJS.ProcessEnv = process.env,
  secrets: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
): Promise<CloudProvider[]> => {
  const secretId = env.OPENSTACK_CREDENTIALS_SECRET_ARN;
  if (!secretId) return [];
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!SecretString) throw new Error(`secret ${secretId} has no string value`);
    const settings = openStackSettingsFromSecret(SecretString, env);
    return [await OpenStackProvider.connect(settings, env.SERVICE_TAG ? { serviceTag: env.SERVICE_TAG } : {})];
  } catch (error) {
    logger.error('the openstack provider could not be made: requests naming it are refused', { error });
    return [];
  }
};

/**
 * The `hyperstack` provider, when `HYPERSTACK_API_KEY_SECRET_ARN` names its API key: read once,
 * when the function's container starts, and connected (its environment, the flavors). As with
 * openstack, an Infrahub that cannot be reached then leaves the provider out of this container.
 */
export const hyperstackProviderFromSecret = async (
  env: NodeJS.ProcessEnv = process.env,
  secrets: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
): Promise<CloudProvider[]> => {
  const secretId = env.HYPERSTACK_API_KEY_SECRET_ARN;
  if (!secretId) return [];
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!SecretString) throw new Error(`secret ${secretId} has no string value`);
    const settings = hyperstackSettingsFromSecret(SecretString, env);
    return [await HyperstackProvider.connect(settings, env.SERVICE_TAG ? { serviceTag: env.SERVICE_TAG } : {})];
  } catch (error) {
    logger.error('the hyperstack provider could not be made: requests naming it are refused', { error });
    return [];
  }
};

/**
 * The `lightsail` provider, when the stack set its `LIGHTSAIL_*` settings (docs/lightsail-provider.md);
 * credentials are the function's role. Wrong settings leave it out, with the reason in the log.
 */
export const lightsailProvidersFromEnv = (env: NodeJS.ProcessEnv = process.env): CloudProvider[] => {
  try {
    const provider = lightsailProviderFromEnv(env);
    return provider ? [provider] : [];
  } catch (error) {
    logger.error('the lightsail provider could not be made: requests naming it are refused', { error });
    return [];
  }
};

/** Every provider this deployment was configured for. */
export const deployedProviders = async (env: NodeJS.ProcessEnv = process.env): Promise<CloudProvider[]> => [
  ...awsProvidersFromEnv(env),
  ...(await openStackProviderFromSecret(env)),
  ...(await hyperstackProviderFromSecret(env)),
  ...lightsailProvidersFromEnv(env),
];
