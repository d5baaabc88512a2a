/**
 * Provider `ec2`'s settings (docs/ec2-provider.md, "Settings"), checked when the provider is made:
 * a bad one is a ConfigError naming the option, before any cluster depends on it.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import type { ProviderTimings } from '#domain/provider';
import { ConfigError } from '#lib/config';
import { DEFAULT_LOGIN_USER, type SsmConfigurationOptions } from './ssm/index.ts';

export interface Ec2ProviderOptions {
  /**
   * The one region the provider works in. Set, specs naming another region are refused when the
   * cluster is requested; unset, only when its servers are created (the client's region is
   * known only asynchronously). @default the SDK's (AWS_REGION)
   */
  region?: string;
  /** The VPC the security groups (private networks) are made in. */
  vpcId: string;
  /** Where instances go, spread round robin; private subnets with a route to SSM. */
  subnetIds: string[];
  /** The AMI of every node; arm64, like every instance type the provider resolves to. */
  imageId: string;
  /** An EC2 key pair for SSH; none by default (SSM Session Manager needs none). */
  keyName?: string;
  /** The instance profile the nodes run with; its role needs `AmazonSSMManagedInstanceCore`. */
  instanceProfileArn: string;
  /** Value of the `managed-by` tag on everything made. @default 'cluster-service' */
  serviceTag?: string;
  /** Servers per create call. @default 50 */
  maxBatchSize?: number;
  /** The image's login user, for runners that reach the nodes over SSH. @default 'admin' (Debian's AMIs) */
  loginUser?: string;
  /** Root volume of a server whose flavor was asked for by name. @default 20 */
  defaultDiskGb?: number;
  /** @default { expectedBootSeconds: 60, expectedConfigurationSeconds: 300 } */
  timings?: Partial<ProviderTimings>;
  /** Profiles and SSM options of the configuration runner. */
  configuration?: SsmConfigurationOptions;
  /** @default a client for `region`, adaptive retries */
  ec2?: EC2Client;
  /** @default a client for `region`, adaptive retries */
  ssm?: SSMClient;
}

const settingsSchema = z.object({
  region: z.string().min(1).optional(),
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-…)'),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id (subnet-…)')).min(1, 'needs at least one subnet'),
  imageId: z.string().regex(/^ami-[0-9a-f]+$/, 'must be an AMI id (ami-…)'),
  keyName: z.string().min(1).max(255).optional(),
  instanceProfileArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/, 'must be an instance profile ARN'),
  // It is a tag value, an IAM condition value and part of SSM command comments: keep it plain.
  serviceTag: z
    .string()
    .regex(/^[A-Za-z0-9._+=@-]{1,40}$/, 'must be 1-40 letters, digits or ._+=@-')
    .default('cluster-service'),
  maxBatchSize: z.int().min(1).max(100).default(50),
  /** The image's login user: what runners that connect over SSH log in as. */
  loginUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name').default(DEFAULT_LOGIN_USER),
  defaultDiskGb: z.int().min(1).max(16_384).default(20),
  timings: z
    .object({ expectedBootSeconds: z.number().positive(), expectedConfigurationSeconds: z.number().positive() })
    .partial()
    .default({}),
});

export type Ec2Settings = z.infer<typeof settingsSchema>;

export const DEFAULT_TIMINGS: ProviderTimings = { expectedBootSeconds: 60, expectedConfigurationSeconds: 300 };

/** The options' data with their defaults; the clients and the runner's options are the caller's. */
export const ec2Settings = (data: Omit<Ec2ProviderOptions, 'ec2' | 'ssm' | 'configuration'>): Ec2Settings => {
  const parsed = settingsSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
    throw new ConfigError(`invalid ec2 provider settings: ${problems.join('; ')}`);
  }
  return parsed.data;
};
