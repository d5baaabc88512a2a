/**
 * API tokens: generated at random, stored only as their SHA-256, each bound to one project.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRecord, TokenStore } from '#domain/token-store';

/** What a token looks like; anything else is refused before any lookup. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const generateToken = (): string => randomBytes(32).toString('base64url');

/**
 * The token a request carries: `Authorization: Token <t>` (as the seed service) or `x-api-key: <t>`.
 * A present but malformed Authorization header refuses the request even if x-api-key is set.
 */
export const extractToken = (headers: Record<string, string | undefined> | null | undefined): string | null => {
  const lower = new Map(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const authorization = lower.get('authorization');
  if (authorization !== undefined) {
    const match = /^Token ([^\s]+)$/.exec(authorization.trim());
    return match?.[1] && TOKEN_PATTERN.test(match[1]) ? match[1] : null;
  }
  const apiKey = lower.get('x-api-key')?.trim();
  return apiKey && TOKEN_PATTERN.test(apiKey) ? apiKey : null;
};

export type AuthorizeOutcome = { ok: true; project: string } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

export const authorizeToken = async (tokens: TokenStore, token: string, now = new Date()): Promise<AuthorizeOutcome> => {
  const hash = hashToken(token);
  const record = await tokens.get(hash);
  // The lookup is by hash already; the constant-time comparison keeps any later change of the
  // lookup (prefix scans, caches) from turning into a timing oracle.
  if (!record || !timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))) return { ok: false, reason: 'unknown' };
  if (record.revoked) return { ok: false, reason: 'revoked' };
  if (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, project: record.project };
};

/** Registers a token for a project; returns the token in clear (the only time it exists). */
export const issueToken = async (
  tokens: TokenStore,
  input: { project: string; token?: string; expiresAt?: string | null; description?: string },
): Promise<{ token: string; record: TokenRecord }> => {
  const token = input.token ?? generateToken();
  if (!TOKEN_PATTERN.test(token)) throw new Error('a token is 16 to 256 characters of letters, digits, - and _');
  const record: TokenRecord = {
    hash: hashToken(token),
    project: input.project,
    createdAt: new Date().toISOString(),
    expiresAt: input.expiresAt ?? null,
    revoked: false,
    ...(input.description ? { description: input.description } : {}),
  };
  await tokens.put(record);
  return { token, record };
};
