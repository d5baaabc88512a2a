/**
 * `tokens create | list | revoke`: plain functions over the token port and an output sink, so
 * the same code runs from the CLI entry and from tests.
 *
 * A token exists in clear only in `createToken`'s output; the table holds its SHA-256, and
 * everything else names a token by the first 12 hex characters of that hash. Twelve characters
 * identify a token among any realistic number of them, and stay shorter than a token can be
 * (TOKEN_PATTERN wants 16), so no id can be mistaken for, or replayed as, a credential.
 */
import type { TokenRecord, TokenStore } from '#domain/token-store';
import { issueToken } from '#use-cases/tokens';

/** Where a command writes its result, one line at a time (stdout in the CLI). */
export interface Output {
  line(text: string): void;
}

/** A bad flag or argument: the CLI exits 2 and shows the usage. The message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A well-formed command that cannot be carried out (no such token, ambiguous id): exit 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

const PROJECT_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const ID_LENGTH = 12;
const MIN_ID_PREFIX = 8;
const MAX_DESCRIPTION = 256;

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;
/** Ten years: far enough for any real credential, and keeps the date arithmetic finite. */
const MAX_EXPIRY_MS = 3650 * UNIT_MS.d;

export type TokenStatus = 'active' | 'revoked' | 'expired';

/** What `list` shows of a token: nothing that could authenticate. */
export interface TokenView {
  id: string;
  project: string;
  created: string;
  /** ISO time, null = never. */
  expires: string | null;
  status: TokenStatus;
  description?: string;
}

const tokenId = (hash: string): string => hash.slice(0, ID_LENGTH);

/** Revoked wins over expired: it is the deliberate act, and stays true whatever the clock says. */
const tokenStatus = (record: TokenRecord, now: Date): TokenStatus => {
  if (record.revoked) return 'revoked';
  if (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
};

const toView = (record: TokenRecord, now: Date): TokenView => ({
  id: tokenId(record.hash),
  project: record.project,
  created: record.createdAt,
  expires: record.expiresAt,
  status: tokenStatus(record, now),
  ...(record.description ? { description: record.description } : {}),
});

export const parseProject = (value: string | undefined, flag = '--project'): string => {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  if (!PROJECT_PATTERN.test(value)) {
    throw new UsageError(`${flag} must be 1 to 128 characters of letters, digits, '.', '_' and '-' (got ${JSON.stringify(value)})`);
  }
  return value;
};

/** `<n>d`, `<n>h` or `<n>m` from `now`, as an ISO time. */
const parseExpiresIn = (value: string, now: Date): string => {
  const match = /^([1-9][0-9]*)([dhm])$/.exec(value);
  const unit = match?.[2] as keyof typeof UNIT_MS | undefined;
  if (!match?.[1] || !unit) {
    throw new UsageError(`--expires-in must be a positive whole number of days, hours or minutes, like 30d, 12h or 45m (got ${JSON.stringify(value)})`);
  }
  const ms = Number(match[1]) * UNIT_MS[unit];
  if (ms > MAX_EXPIRY_MS) throw new UsageError(`--expires-in must be at most 3650d (got ${JSON.stringify(value)})`);
  return new Date(now.getTime() + ms).toISOString();
};

const parseDescription = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (value.trim() === '' || value.length > MAX_DESCRIPTION || /[\r\n]/.test(value)) {
    throw new UsageError(`--description must be one line of 1 to ${MAX_DESCRIPTION} characters`);
  }
  return value;
};

export interface CreateTokenInput {
  project?: string;
  expiresIn?: string;
  description?: string;
}

/**
 * Issues a token and prints it as the last word of the output, where scripts (and people) can
 * take it from behind `npm run`'s own banner lines.
 */
export const createToken = async (tokens: TokenStore, input: CreateTokenInput, out: Output, now = new Date()): Promise<TokenView> => {
  const project = parseProject(input.project);
  const expiresAt = input.expiresIn === undefined ? null : parseExpiresIn(input.expiresIn, now);
  const description = parseDescription(input.description);
  const { token, record } = await issueToken(tokens, { project, expiresAt, ...(description ? { description } : {}) });
  out.line(`token for project ${project} (id ${tokenId(record.hash)}, expires ${expiresAt ?? 'never'}): ${token}`);
  return toView(record, now);
};

export interface ListTokensInput {
  project?: string;
  json?: boolean;
}

export const columns = (rows: string[][]): string[] => {
  const widths = rows.reduce<number[]>((acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
};

export const listTokens = async (tokens: TokenStore, input: ListTokensInput, out: Output, now = new Date()): Promise<TokenView[]> => {
  const project = input.project === undefined ? undefined : parseProject(input.project);
  const views = (await tokens.list(project)).map((record) => toView(record, now));
  if (input.json) {
    out.line(JSON.stringify(views, null, 2));
  } else if (views.length === 0) {
    out.line(project ? `no tokens for project ${project}` : 'no tokens');
  } else {
    const rows = views.map((v) => [v.id, v.project, v.created, v.expires ?? 'never', v.status, v.description ?? '']);
    for (const line of columns([['ID', 'PROJECT', 'CREATED', 'EXPIRES', 'STATUS', 'DESCRIPTION'], ...rows])) out.line(line);
  }
  return views;
};

/** The shortest prefix, at least ID_LENGTH long, that tells each of `hashes` apart. */
const distinguishingIds = (hashes: string[]): string[] => {
  let length = ID_LENGTH;
  while (length < 64 && new Set(hashes.map((hash) => hash.slice(0, length))).size < hashes.length) length++;
  return hashes.map((hash) => hash.slice(0, length));
};

export const revokeToken = async (tokens: TokenStore, id: string | undefined, out: Output, now = new Date()): Promise<TokenView> => {
  if (id === undefined) throw new UsageError('ID is required: the token id that `tokens list` shows');
  const prefix = id.toLowerCase();
  if (!/^[0-9a-f]+$/.test(prefix) || prefix.length < MIN_ID_PREFIX || prefix.length > 64) {
    throw new UsageError(`ID must be ${MIN_ID_PREFIX} to 64 hex characters, the start of a token id as \`tokens list\` shows it (got ${JSON.stringify(id)})`);
  }
  const matches = (await tokens.list()).filter((record) => record.hash.startsWith(prefix));
  const [match] = matches;
  if (!match) throw new CommandError(`no token has an id starting with ${prefix}`);
  if (matches.length > 1) {
    const ids = distinguishingIds(matches.map((record) => record.hash));
    const candidates = matches.map((record, i) => `  ${ids[i]}  project ${record.project}, ${tokenStatus(record, now)}`);
    throw new CommandError([`${matches.length} tokens have an id starting with ${prefix}; give more of the id:`, ...candidates].join('\n'));
  }
  const view = toView(match, now);
  if (match.revoked) {
    out.line(`token ${view.id} (project ${view.project}) was already revoked`);
    return view;
  }
  // The token may vanish between the scan and the update (DynamoDB's TTL removes expired ones).
  if (!(await tokens.revoke(match.hash))) throw new CommandError(`token ${view.id} no longer exists`);
  out.line(`revoked token ${view.id} (project ${view.project}, created ${view.created}${view.status === 'expired' ? ', already expired' : ''})`);
  return { ...view, status: 'revoked' };
};
