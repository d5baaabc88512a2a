/**
 * Environment configuration, read once and validated: a missing or bad variable is a clear
 * error naming it at start, never an `undefined` deep inside a request.
 */
import { z } from 'zod';
import { CONFIGURATION_RUNNERS } from '#domain/model';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `env` with `schema`; the error lists every bad variable by name. */
export const readEnv = <T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> => {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
};

export const PROVIDER_NAMES = ['local', 'ec2', 'openstack', 'hyperstack', 'lightsail'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Settings of the provision workflow's steps. */
export const workflowEnvSchema = z.object({
  DEFAULT_PROVIDER: z.enum(PROVIDER_NAMES).default('local'),
  /** How long servers may take to be running before the cluster fails with ServersBootTimeout. */
  SERVER_BOOT_TIMEOUT_SECONDS: seconds(900),
  /**
   * How long after the servers run their configuration agents (SSM's on ec2) may take to come
   * online before ConfigurationAgentsOffline; only for providers whose configuration has agents.
   */
  CONFIGURATION_AGENT_TIMEOUT_SECONDS: seconds(600),
  /** How long a configuration run may take before ConfigurationTimeout. */
  CONFIGURATION_TIMEOUT_SECONDS: seconds(3600),
  /** Polling interval after the first (boot-time sized) wait. */
  POLL_INTERVAL_SECONDS: seconds(5),
  /** The configuration runner of compat requests, and of native ones that name none. */
  DEFAULT_CONFIGURATION_RUNNER: z.enum(CONFIGURATION_RUNNERS).default('ssm'),
  /** Whether this deployment has the configuration container (ECS); without it the container runner fails fast. */
  CONTAINER_RUNNER_ENABLED: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** The configuration container task's subnets and security groups (comma-separated ids). */
  CONFIGURATION_SUBNETS: z.string().default(''),
  CONFIGURATION_SECURITY_GROUPS: z.string().default(''),
});
export type WorkflowConfig = z.infer<typeof workflowEnvSchema>;

/** Per-project quota limits for projects that have none of their own (design.md §10 QUOTA#). */
export const quotaEnvSchema = z.object({
  QUOTA_MAX_VCPUS: z.coerce.number().int().min(0).default(4096),
  QUOTA_MAX_SERVERS: z.coerce.number().int().min(0).default(2000),
  QUOTA_MAX_CLUSTERS: z.coerce.number().int().min(0).default(2000),
});

export const quotaDefaultsOf = (env: z.infer<typeof quotaEnvSchema>) => ({
  vcpus: env.QUOTA_MAX_VCPUS,
  servers: env.QUOTA_MAX_SERVERS,
  clusters: env.QUOTA_MAX_CLUSTERS,
});

export const tableEnvSchema = z.object({
  TABLE_NAME: z.string().min(1, 'is required'),
});

const stateMachineArn = z.string().startsWith('arn:', 'must be a state machine ARN');

/** The state machines a function starts or stops executions of. */
export const workflowsEnvSchema = z.object({
  PROVISION_STATE_MACHINE_ARN: stateMachineArn,
  DESTROY_STATE_MACHINE_ARN: stateMachineArn,
});
