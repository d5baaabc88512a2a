/**
 * `npm run cli -- …`: administration of the service's table (API tokens, project quotas). By
 * default it talks to the running local stack (`npm start`); `--table` (or TABLE_NAME) points it
 * at a deployed table instead.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbQuotaStore } from '#adapters/dynamodb/quotas';
import { DynamoDbTokenStore } from '#adapters/dynamodb/tokens';
import type { QuotaAmounts, QuotaStore } from '#domain/quota-store';
import type { TokenStore } from '#domain/token-store';
import { ConfigError, quotaDefaultsOf, quotaEnvSchema, readEnv } from '#lib/config';
import { localEnvSchema } from '../local/config.ts';
import { LOCAL_AWS, LOCAL_TABLE_NAME } from '../local/dynamodb.ts';
import { MAX_LIMIT, setQuota, showQuota, type QuotaOutput } from './quotas.ts';
import { CommandError, createToken, listTokens, revokeToken, UsageError } from './tokens.ts';

const TARGET_HELP = `target (every command):
  by default the running local stack (\`npm start\`): DynamoDB at http://127.0.0.1:$DYNAMODB_PORT
  (default 8000), table ${LOCAL_TABLE_NAME}, the local fixed credentials
  --table NAME          a deployed table instead (or env TABLE_NAME): no endpoint override,
                        the default AWS credential chain and region (AWS_PROFILE, AWS_REGION, …)
  --endpoint URL        another DynamoDB endpoint, for either target
  -h, --help            show the usage

exit codes: 0 ok, 1 failure, 2 usage error`;

interface CommandSpec {
  synopsis: string;
  help: string;
  options: readonly OptionName[];
  arguments: number;
}

const GROUPS = {
  tokens: {
    create: {
      synopsis: 'tokens create --project NAME [--expires-in 30d] [--description TEXT]',
      help: `  --project NAME        the project the token is for: 1-128 of A-Z a-z 0-9 . _ -
  --expires-in N{d|h|m} refuse the token after N days, hours or minutes (at most 3650d);
                        without it the token does not expire
  --description TEXT    a note shown by \`tokens list\`

The token is printed once, as the last word of the output; only its SHA-256 is stored.`,
      options: ['project', 'expires-in', 'description'],
      arguments: 0,
    },
    list: {
      synopsis: 'tokens list [--project NAME] [--json]',
      help: `  --project NAME        only this project's tokens
  --json                a JSON array of {id, project, created, expires, status, description?}

One line per token: id (the first 12 hex characters of its SHA-256), project, created,
expires (or never), status (active | revoked | expired), description. Never a token itself.`,
      options: ['project', 'json'],
      arguments: 0,
    },
    revoke: {
      synopsis: 'tokens revoke ID',
      help: `  ID                    8 or more hex characters: the start of an id as \`tokens list\` shows it;
                        it must match exactly one token`,
      options: [],
      arguments: 1,
    },
  },
  quotas: {
    show: {
      synopsis: 'quotas show --project NAME [--json]',
      help: `  --project NAME        the project: 1-128 of A-Z a-z 0-9 . _ -
  --json                a JSON object {project, vcpus, servers, clusters}, each resource
                        {used, limit, source}: source project | default

One line per resource: what the project's live clusters hold (USED) and its LIMIT. A resource
without a limit of the project's own shows \`default\`: the deployment's QUOTA_MAX_* applies,
which is not in the table, so a deployed table shows no number (JSON limit null). For the
local stack the number is shown: QUOTA_MAX_* as this environment sets them, which is what
\`npm start\` uses when started from it.`,
      options: ['project', 'json'],
      arguments: 0,
    },
    set: {
      synopsis: 'quotas set --project NAME [--vcpus N] [--servers N] [--clusters N] [--reset RESOURCE[,RESOURCE]]',
      help: `  --project NAME        the project: 1-128 of A-Z a-z 0-9 . _ -
  --vcpus N             the project's own limit of vCPUs, servers or clusters across its live
  --servers N           clusters: a whole number from 0 to ${MAX_LIMIT}
  --clusters N
  --reset RESOURCE[,…]  remove the project's own limit of vcpus, servers and/or clusters, so the
                        deployment's default (QUOTA_MAX_*) applies again

At least one of them. Limits not named are kept. A limit below the current usage is set, with a
warning: the project's clusters keep running, new creates are refused (403 QuotaExceeded).`,
      options: ['project', 'vcpus', 'servers', 'clusters', 'reset'],
      arguments: 0,
    },
  },
} as const satisfies Record<string, Record<string, CommandSpec>>;

type GroupName = keyof typeof GROUPS;
type CommandOf<G extends GroupName> = keyof (typeof GROUPS)[G] & string;

const isGroup = (name: string | undefined): name is GroupName => name !== undefined && Object.hasOwn(GROUPS, name);
const commandsOf = (group: GroupName): Record<string, CommandSpec> => GROUPS[group];

/** `a, b or c` */
const orList = (words: readonly string[]): string => (words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? ''));
const commandList = (group: GroupName): string => orList(Object.keys(GROUPS[group]));

const synopses = (specs: readonly CommandSpec[]): string => specs.map((spec) => `  npm run cli -- ${spec.synopsis}`).join('\n');

/** The full text for --help and a bare `npm run cli`; the short one follows a usage error. */
interface Usage {
  full: string;
  short: string;
}

const ALL_SPECS = Object.values(GROUPS).flatMap((group) => Object.values(group) as CommandSpec[]);

const MAIN_USAGE: Usage = {
  full: `usage:\n${synopses(ALL_SPECS)}\n\n${TARGET_HELP}`,
  short: `usage:\n${synopses(ALL_SPECS)}\n(--help for the options)`,
};

const groupUsage = (group: GroupName): Usage => {
  const specs = Object.values(commandsOf(group));
  return {
    full: `usage:\n${synopses(specs)}\n\n${TARGET_HELP}`,
    short: `usage:\n${synopses(specs)}\n(npm run cli -- ${group} COMMAND --help for the options)`,
  };
};

const commandUsage = (group: GroupName, name: string, spec: CommandSpec): Usage => ({
  full: `usage: npm run cli -- ${spec.synopsis}\n\n${spec.help}\n\n${TARGET_HELP}`,
  short: `usage: npm run cli -- ${spec.synopsis}\n(npm run cli -- ${group} ${name} --help for the options)`,
});

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  table: { type: 'string' },
  endpoint: { type: 'string' },
  project: { type: 'string' },
  'expires-in': { type: 'string' },
  description: { type: 'string' },
  json: { type: 'boolean' },
  vcpus: { type: 'string' },
  servers: { type: 'string' },
  clusters: { type: 'string' },
  reset: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL_OPTIONS: readonly OptionName[] = ['help', 'table', 'endpoint'];

type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** parseArgs' own messages suggest `-- --flag`, which `npm run` would swallow. */
const usageFromParseError = (error: unknown, argv: readonly string[]): UsageError => {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? 'an option';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option ${flag}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(message)) return new UsageError(`${flag} takes no value`);
    // A value starting with '-' (`--vcpus -1`) reads as an option: say which, and how to pass it.
    const next = argv[argv.indexOf(flag) + 1];
    if (/ambiguous/.test(message) && next !== undefined) {
      return new UsageError(`${flag} needs a value, and ${JSON.stringify(next)} reads as an option (if it is the value, write ${flag}=${next})`);
    }
    return new UsageError(`${flag} needs a value`);
  }
  return new UsageError(message);
};

export interface Target {
  /** The local stack (fixed credentials) or a deployed table (the default credential chain). */
  kind: 'local' | 'deployed';
  tableName: string;
  /** Set for the local stack and whenever --endpoint is given. */
  endpoint?: string;
  clientConfig: DynamoDBClientConfig;
}

const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

export const resolveTarget = (values: { table?: string; endpoint?: string }, env: NodeJS.ProcessEnv): Target => {
  const [tableName, tableSource] = values.table !== undefined ? [values.table, '--table'] : [env.TABLE_NAME || undefined, 'TABLE_NAME'];
  if (tableName !== undefined && !TABLE_NAME_PATTERN.test(tableName)) {
    throw new UsageError(`${tableSource} must be a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . - (got ${JSON.stringify(tableName)})`);
  }
  const endpoint = values.endpoint;
  if (endpoint !== undefined && !(URL.canParse(endpoint) && /^https?:$/.test(new URL(endpoint).protocol))) {
    throw new UsageError(`--endpoint must be an http(s) URL like http://127.0.0.1:8000 (got ${JSON.stringify(endpoint)})`);
  }

  if (tableName !== undefined) {
    return { kind: 'deployed', tableName, ...(endpoint ? { endpoint } : {}), clientConfig: endpoint ? { endpoint } : {} };
  }
  // Only the port: a setting that only the server reads (LOCAL_API_TOKEN, …) must not stop the CLI.
  const { DYNAMODB_PORT } = readEnv(localEnvSchema.pick({ DYNAMODB_PORT: true }), env);
  const localEndpoint = endpoint ?? `http://127.0.0.1:${DYNAMODB_PORT}`;
  return { kind: 'local', tableName: LOCAL_TABLE_NAME, endpoint: localEndpoint, clientConfig: { ...LOCAL_AWS, endpoint: localEndpoint } };
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/** Node reports a failed connect as the error itself, its cause, or (happy eyeballs) an AggregateError. */
const networkCode = (error: unknown): string | undefined => {
  if (!error || typeof error !== 'object') return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (Array.isArray(errors)) return errors.map(networkCode).find(Boolean);
  return networkCode(cause);
};

/** A failure in words a person can act on, instead of an SDK stack. */
const explainFailure = async (error: unknown, target: Target, client: DynamoDBClient): Promise<string> => {
  const where = target.endpoint ? `at ${target.endpoint}` : `in region ${await client.config.region().catch(() => '(none configured)')}`;
  const code = networkCode(error);
  if (code) {
    return target.kind === 'local'
      ? `cannot reach DynamoDB ${where}: is \`npm start\` running? (${code})`
      : `cannot reach DynamoDB ${where} (${code})`;
  }
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ResourceNotFoundException') {
    return target.kind === 'local'
      ? `table ${target.tableName} not found ${where}: is that the local stack's DynamoDB (\`npm start\`)?`
      : `table ${target.tableName} not found ${where}: check --table / TABLE_NAME, AWS_REGION and the profile`;
  }
  if (name === 'CredentialsProviderError') return `no AWS credentials for table ${target.tableName}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${message})`;
  if (/region is missing/i.test(message)) return `no AWS region for table ${target.tableName}: set AWS_REGION or a profile with a region`;
  return `${name || 'Error'}: ${message}`;
};

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

interface RunContext {
  tokens: TokenStore;
  quotas: QuotaStore;
  values: Values;
  /** The positional arguments after the command. */
  args: readonly string[];
  out: QuotaOutput;
  target: Target;
  env: NodeJS.ProcessEnv;
}

/**
 * The defaults a local stack started from this environment applies; a deployed stack's are in its
 * functions' environment, out of the CLI's reach.
 */
const knownQuotaDefaults = (target: Target, env: NodeJS.ProcessEnv): QuotaAmounts | null =>
  target.kind === 'local' ? quotaDefaultsOf(readEnv(quotaEnvSchema, env)) : null;

type Runner = (context: RunContext) => Promise<unknown>;

const RUNNERS: { [G in GroupName]: Record<CommandOf<G>, Runner> } = {
  tokens: {
    create: ({ tokens, values, out }) => createToken(tokens, { project: values.project, expiresIn: values['expires-in'], description: values.description }, out),
    list: ({ tokens, values, out }) => listTokens(tokens, { project: values.project, json: values.json }, out),
    revoke: ({ tokens, args, out }) => revokeToken(tokens, args[0], out),
  },
  quotas: {
    show: ({ quotas, values, out, target, env }) => showQuota(quotas, { project: values.project, json: values.json }, out, knownQuotaDefaults(target, env)),
    set: ({ quotas, values, out }) =>
      setQuota(quotas, { project: values.project, vcpus: values.vcpus, servers: values.servers, clusters: values.clusters, reset: values.reset }, out),
  },
};

const findCommand = (group: GroupName, name: string): { spec: CommandSpec; run: Runner } | undefined => {
  const spec = commandsOf(group)[name];
  const run = (RUNNERS[group] as Record<string, Runner | undefined>)[name];
  return spec && run ? { spec, run } : undefined;
};

/** Runs one command line; answers the exit code. */
export const runCli = async (argv: readonly string[], io: CliIo = processIo): Promise<number> => {
  let usage = MAIN_USAGE;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
    } catch (error) {
      throw usageFromParseError(error, argv);
    }
    const values = parsed.values as Values;
    const [group, command, ...rest] = parsed.positionals;

    if (group !== undefined && !isGroup(group)) throw new UsageError(`unknown command ${JSON.stringify(group)}: ${orList(Object.keys(GROUPS))}`);
    let found: ReturnType<typeof findCommand>;
    if (group !== undefined) {
      usage = groupUsage(group);
      if (command !== undefined) {
        found = findCommand(group, command);
        if (!found) throw new UsageError(`unknown ${group} command ${JSON.stringify(command)}: ${commandList(group)}`);
        usage = commandUsage(group, command, found.spec);
      }
    }

    if (values.help) {
      io.stdout(`${usage.full}\n`);
      return 0;
    }
    if (group === undefined) {
      io.stderr(`${usage.full}\n`);
      return 2;
    }
    if (!found) throw new UsageError(`${group} needs a command: ${commandList(group)}`);

    const { spec, run } = found;
    const given = parsed.tokens.flatMap((token) => (token.kind === 'option' ? [token] : []));
    for (const option of given) {
      const name = option.name as OptionName;
      if (!GLOBAL_OPTIONS.includes(name) && !spec.options.includes(name)) {
        throw new UsageError(`${option.rawName} is not an option of ${group} ${command}`);
      }
      if (given.filter((other) => other.name === name).length > 1) throw new UsageError(`${option.rawName} is given more than once`);
    }
    const extra = rest[spec.arguments];
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);

    const target = resolveTarget(values, io.env);
    const client = new DynamoDBClient(target.clientConfig);
    const table = dynamoDbTable({ tableName: target.tableName, client });
    const out: QuotaOutput = { line: (text) => io.stdout(`${text}\n`), warn: (text) => io.stderr(`warning: ${text}\n`) };
    try {
      await run({ tokens: new DynamoDbTokenStore(table), quotas: new DynamoDbQuotaStore(table), values, args: rest, out, target, env: io.env });
    } catch (error) {
      if (error instanceof UsageError || error instanceof CommandError || error instanceof ConfigError) throw error;
      io.stderr(`error: ${await explainFailure(error, target, client)}\n`);
      return 1;
    } finally {
      client.destroy();
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr(`error: ${error.message}\n${usage.short}\n`);
      return 2;
    }
    if (error instanceof CommandError) {
      io.stderr(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
};

/** Run as `tsx infra/cli/main.ts`, not imported (the tests import `runCli`). */
const invokedDirectly = (): boolean => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};

if (invokedDirectly()) process.exitCode = await runCli(process.argv.slice(2));
