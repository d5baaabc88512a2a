/** Local mode's settings (docs/configuration.md), the emulated cloud's among them, validated once at start. */
import { z } from 'zod';
import { PROVIDER_NAMES } from '#domain/providers';
import { quotaEnvSchema, readEnv, workflowEnvSchema } from '#lib/config';
import { localCloudEnvSchema } from './cloud/index.ts';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

export const localEnvSchema = workflowEnvSchema.extend(quotaEnvSchema.shape).extend(localCloudEnvSchema.shape).extend({
  /** The provider of requests that name none (design: `PROVIDER=openstack npm start`); wins over DEFAULT_PROVIDER. */
  PROVIDER: z.enum(PROVIDER_NAMES).optional(),
  /**
   * The service's URL as the cloud-init runner's nodes reach it (their reports, the configuration
   * bundle); the local URL when unset, which only servers on this machine reach.
   */
  SERVICE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The SSH private key that opens a real cloud's nodes, for the container runner's stand-in
   * (it runs run-profile.sh here); the nodes get its public half from their key pair.
   */
  LOCAL_CONFIGURATION_SSH_KEY_FILE: z.string().min(1).optional(),
  PORT: port(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DYNAMODB_PORT: port(8000),
  LOCAL_DATA_DIR: z.string().min(1).default('.local'),
  LOCAL_API_TOKEN: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16 to 256 letters, digits, - or _').optional(),
  /** How long each Wait state pauses locally, instead of its seconds. */
  LOCAL_POLL_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  /** How often clusters past their ttlHours are looked for (the deployed stack: every 5 minutes). */
  LOCAL_EXPIRY_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
});

export type LocalConfig = z.infer<typeof localEnvSchema>;

export const readLocalConfig = (env: NodeJS.ProcessEnv = process.env): LocalConfig => {
  const config = readEnv(localEnvSchema, env);
  return config.PROVIDER ? { ...config, DEFAULT_PROVIDER: config.PROVIDER } : config;
};
