/**
 * The emulated cloud's behaviour, one `LOCAL_CLOUD_*` variable per knob (docs/configuration.md),
 * validated by the reader every other setting goes through.
 */
import { z } from 'zod';
import { readEnv } from '#lib/config';

/** Inclusive bounds in milliseconds; each use draws uniformly between them. */
export interface MsRange {
  min: number;
  max: number;
}

export interface LocalCloudSettings {
  /** `LOCAL_CLOUD_BOOT_MS`: BUILD → ACTIVE time, drawn per server. */
  bootMs: MsRange;
  /** `LOCAL_CLOUD_CONFIG_MS`: duration of a configuration run, drawn per run. */
  configMs: MsRange;
  /**
   * `LOCAL_CLOUD_AGENT_MS`: how long after a server is ACTIVE its configuration agent comes
   * online (as SSM's registers on ec2), drawn per server; what `describeConfigurationAgents`
   * reports, and so what the workflow waits for.
   */
  agentMs: MsRange;
  /** `LOCAL_CLOUD_DELETE_MS`: time a deleted server stays DELETING, drawn per server. */
  deleteMs: MsRange;
  /** `LOCAL_CLOUD_POWER_MS`: time a server takes to stop (STOPPING) or to start again (BUILD), drawn per call. */
  powerMs: MsRange;
  /** `LOCAL_CLOUD_API_LATENCY_MS`: added to every API call, drawn per call. */
  apiLatencyMs: MsRange;
  /** `LOCAL_CLOUD_MAX_VCPUS`: vCPUs over all live servers. */
  maxVcpus: number;
  /** `LOCAL_CLOUD_MAX_SERVERS`: live servers. */
  maxServers: number;
  /** `LOCAL_CLOUD_FAIL_PATTERN`: servers whose name matches boot into ERROR. */
  failPattern: RegExp | null;
  /** `LOCAL_CLOUD_CONFIG_FAIL_PATTERN`: a configuration run with a matching node name fails. */
  configFailPattern: RegExp | null;
  /** `LOCAL_CLOUD_API_ERROR_RATE`: probability (0..1) that a call is throttled before it does anything. */
  apiErrorRate: number;
}

export const DEFAULT_LOCAL_CLOUD_SETTINGS: Readonly<LocalCloudSettings> = {
  bootMs: { min: 1500, max: 4000 },
  configMs: { min: 1000, max: 3000 },
  agentMs: { min: 0, max: 0 },
  deleteMs: { min: 100, max: 400 },
  powerMs: { min: 300, max: 1200 },
  apiLatencyMs: { min: 2, max: 10 },
  maxVcpus: 4096,
  maxServers: 2000,
  failPattern: null,
  configFailPattern: null,
  apiErrorRate: 0,
};

/** An empty variable counts as unset, as shells and `.env` files make those easily. */
const orDefault = <T extends z.ZodType, F = z.output<T>>(schema: T, fallback: () => F) =>
  z
    .preprocess((value) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined), schema.optional())
    .transform((value): z.output<T> | F => value ?? fallback());

/** Bad values are quoted back, so that a stray character from a shell or `.env` file shows. */
const given = (issue: { input?: unknown }): string => String(issue.input);

const RANGE = /^(\d+)(?:\s*-\s*(\d+))?$/;

const msRange = (fallback: MsRange) =>
  orDefault(
    z
      .string()
      .regex(RANGE, { error: (issue) => `must be milliseconds, "min-max" or a single number (e.g. 1500-4000); got "${given(issue)}"` })
      .transform((raw): MsRange => {
        const [, min = '', max = min] = RANGE.exec(raw) ?? [];
        return { min: Number(min), max: Number(max) };
      })
      .refine((range) => range.min <= range.max, {
        error: (issue) => {
          const range = issue.input as MsRange;
          return `the minimum ${range.min} is above the maximum ${range.max}`;
        },
      }),
    () => ({ ...fallback }),
  );

const count = (fallback: number) =>
  orDefault(
    z
      .string()
      .regex(/^\d+$/, { error: (issue) => `must be a whole number ≥ 0; got "${given(issue)}"` })
      .transform(Number),
    () => fallback,
  );

const rate = (fallback: number) =>
  orDefault(
    z
      .string()
      .regex(/^\d*\.?\d+$/, { error: (issue) => `must be a probability between 0 and 1; got "${given(issue)}"` })
      .transform(Number)
      .refine((value) => value <= 1, { error: (issue) => `must be a probability between 0 and 1; got "${given(issue)}"` }),
    () => fallback,
  );

const pattern = () =>
  orDefault(
    z.string().transform((raw, context) => {
      try {
        return new RegExp(raw);
      } catch (error) {
        context.addIssue({ code: 'custom', message: `is not a valid regular expression: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
    () => null,
  );

const defaults = DEFAULT_LOCAL_CLOUD_SETTINGS;

export const localCloudEnvSchema = z.object({
  LOCAL_CLOUD_BOOT_MS: msRange(defaults.bootMs),
  LOCAL_CLOUD_CONFIG_MS: msRange(defaults.configMs),
  LOCAL_CLOUD_AGENT_MS: msRange(defaults.agentMs),
  LOCAL_CLOUD_DELETE_MS: msRange(defaults.deleteMs),
  LOCAL_CLOUD_POWER_MS: msRange(defaults.powerMs),
  LOCAL_CLOUD_API_LATENCY_MS: msRange(defaults.apiLatencyMs),
  LOCAL_CLOUD_MAX_VCPUS: count(defaults.maxVcpus),
  LOCAL_CLOUD_MAX_SERVERS: count(defaults.maxServers),
  LOCAL_CLOUD_FAIL_PATTERN: pattern(),
  LOCAL_CLOUD_CONFIG_FAIL_PATTERN: pattern(),
  LOCAL_CLOUD_API_ERROR_RATE: rate(defaults.apiErrorRate),
});

export const localCloudSettingsOf = (env: z.infer<typeof localCloudEnvSchema>): LocalCloudSettings => ({
  bootMs: env.LOCAL_CLOUD_BOOT_MS,
  configMs: env.LOCAL_CLOUD_CONFIG_MS,
  agentMs: env.LOCAL_CLOUD_AGENT_MS,
  deleteMs: env.LOCAL_CLOUD_DELETE_MS,
  powerMs: env.LOCAL_CLOUD_POWER_MS,
  apiLatencyMs: env.LOCAL_CLOUD_API_LATENCY_MS,
  maxVcpus: env.LOCAL_CLOUD_MAX_VCPUS,
  maxServers: env.LOCAL_CLOUD_MAX_SERVERS,
  failPattern: env.LOCAL_CLOUD_FAIL_PATTERN,
  configFailPattern: env.LOCAL_CLOUD_CONFIG_FAIL_PATTERN,
  apiErrorRate: env.LOCAL_CLOUD_API_ERROR_RATE,
});

/** Reads and validates the `LOCAL_CLOUD_*` variables alone; the error names every bad one. */
export const readLocalCloudSettings = (env: NodeJS.ProcessEnv = process.env): LocalCloudSettings =>
  localCloudSettingsOf(readEnv(localCloudEnvSchema, env));

/** A caller may hand in a /g or /y pattern, whose `test` would otherwise depend on the previous call. */
export const matches = (pattern: RegExp | null, text: string): boolean => {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  return pattern.test(text);
};
