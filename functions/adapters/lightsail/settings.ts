/**
 * Provider `lightsail`'s settings (docs/lightsail-provider.md, "Settings"), checked when the provider
 * is made: a bad one is a ConfigError naming the option. Credentials and region are the AWS SDK's own.
 */
import { z } from 'zod';
import type { ProviderTimings } from '#domain/provider';
import { ConfigError } from '#lib/config';

export const DEFAULT_BLUEPRINT = 'debian_12';

const settingsSchema = z.object({
  region: z.string().min(1).optional(),
  /** LIGHTSAIL_BLUEPRINT */
  blueprintId: z.string().regex(/^[a-z0-9_.-]{1,64}$/, 'must be a Lightsail blueprint id').default(DEFAULT_BLUEPRINT),
  /** LIGHTSAIL_ZONE; unset, the region's first zone (`<region>a`). */
  zone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an availability zone such as us-east-1a').optional(),
  /** LIGHTSAIL_KEY_PAIR */
  keyPairName: z.string().min(1).max(255).optional(),
  /** AWS_ENDPOINT_URL_LIGHTSAIL */
  endpoint: z.url().optional(),
  serviceTag: z
    .string()
    .regex(/^[A-Za-z0-9._+=@-]{1,40}$/, 'must be 1-40 letters, digits or ._+=@-')
    .default('cluster-service'),
  /** Servers per batch: with the cloud-init runner each server has its own user data, so its own CreateInstances call; 10 keeps a batch's calls few. */
  maxBatchSize: z.int().min(1).max(20).default(10),
  /** The blueprint's login user, for runners that reach the nodes over SSH. */
  loginUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name').default('admin'),
  timings: z
    .object({ expectedBootSeconds: z.number().positive(), expectedConfigurationSeconds: z.number().positive() })
    .partial()
    .default({}),
});

export type LightsailSettingsInput = z.input<typeof settingsSchema>;
export type LightsailSettings = z.infer<typeof settingsSchema>;

export const DEFAULT_TIMINGS: ProviderTimings = { expectedBootSeconds: 60, expectedConfigurationSeconds: 300 };

export const lightsailSettings = (data: LightsailSettingsInput): LightsailSettings => {
  const parsed = settingsSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
    throw new ConfigError(`invalid lightsail provider settings: ${problems.join('; ')}`);
  }
  return parsed.data;
};

/** The settings from the environment (LIGHTSAIL_*, AWS_ENDPOINT_URL_LIGHTSAIL, AWS_REGION). */
export const lightsailSettingsFromEnv = (env: NodeJS.ProcessEnv): LightsailSettings =>
  lightsailSettings({
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.LIGHTSAIL_BLUEPRINT ? { blueprintId: env.LIGHTSAIL_BLUEPRINT } : {}),
    ...(env.LIGHTSAIL_ZONE ? { zone: env.LIGHTSAIL_ZONE } : {}),
    ...(env.LIGHTSAIL_KEY_PAIR ? { keyPairName: env.LIGHTSAIL_KEY_PAIR } : {}),
    ...(env.AWS_ENDPOINT_URL_LIGHTSAIL ? { endpoint: env.AWS_ENDPOINT_URL_LIGHTSAIL } : {}),
    ...(env.SERVICE_TAG ? { serviceTag: env.SERVICE_TAG } : {}),
  });

/** The variables whose presence makes a deployment (or local mode) have the lightsail provider. */
export const LIGHTSAIL_TRIGGERS = ['LIGHTSAIL_BLUEPRINT', 'LIGHTSAIL_ZONE', 'LIGHTSAIL_KEY_PAIR', 'AWS_ENDPOINT_URL_LIGHTSAIL'] as const;

export const lightsailConfigured = (env: NodeJS.ProcessEnv): boolean => LIGHTSAIL_TRIGGERS.some((name) => (env[name] ?? '').trim() !== '');
