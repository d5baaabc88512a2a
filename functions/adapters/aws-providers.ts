/**
 * The cloud adapters a deployed function has, from the environment the CDK stack sets. The `ec2`
 * provider exists when the stack was given a VPC, subnets and an AMI; SSM configuration profiles
 * come as JSON (`EC2_CONFIGURATION_PROFILES`), since none fits every deployment (docs/ec2-provider.md).
 */
import { z } from 'zod';
import type { CloudProvider } from '#domain/provider';
import { readEnv } from '#lib/config';
import { Ec2Provider } from './ec2-provider.ts';

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
  return [
    new Ec2Provider({
      ...(settings.AWS_REGION ? { region: settings.AWS_REGION } : {}),
      vpcId: settings.EC2_VPC_ID,
      subnetIds: settings.EC2_SUBNET_IDS ?? [],
      imageId: settings.EC2_IMAGE_ID ?? '',
      instanceProfileArn: settings.EC2_INSTANCE_PROFILE_ARN ?? '',
      ...(settings.EC2_KEY_NAME ? { keyName: settings.EC2_KEY_NAME } : {}),
      ...(settings.SERVICE_TAG ? { serviceTag: settings.SERVICE_TAG } : {}),
      ...(settings.EC2_CONFIGURATION_PROFILES ? { configuration: { profiles: settings.EC2_CONFIGURATION_PROFILES as never } } : {}),
    }),
  ];
};
