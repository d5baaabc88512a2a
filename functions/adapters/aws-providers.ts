/**
 * The cloud adapters a deployed function has, from the environment the CDK stack sets. The `ec2`
 * provider exists when the stack was given a VPC, subnets and an AMI. With the configuration
 * bundle and the inputs bucket, its SSM runner has the built-in `lambda` and `script` profiles
 * (the master as Ansible controller); `EC2_CONFIGURATION_PROFILES` (JSON) adds or replaces
 * profiles by name (docs/ec2-provider.md).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { CloudProvider } from '#domain/provider';
import { readEnv } from '#lib/config';
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
