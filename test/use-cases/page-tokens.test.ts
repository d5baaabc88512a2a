import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#domain/errors';
import { openPageToken, sealPageToken } from '#use-cases/page-tokens';

const key = randomBytes(32).toString('base64url');
const binding = { project: 'alpha', query: { status: 'ACTIVE' } };
const cursor = JSON.stringify({ pk: 'CLUSTER#1', sk: 'META', gsi1pk: 'PROJECT#alpha', gsi1sk: '2026-01-01T00:00:00.000Z' });

const refusal = (open: () => unknown) => {
  try {
    open();
  } catch (error) {
    return error;
  }
  return null;
};

describe('page tokens', () => {
  it('opens a sealed token to the cursor it carries, for the same project and query', () => {
    const token = sealPageToken(key, binding, cursor);

    expect(openPageToken(key, { project: 'alpha', query: { status: 'ACTIVE' } }, token)).toBe(cursor);
  });

  it('does not show the cursor in the token', () => {
    const token = sealPageToken(key, binding, cursor);

    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('CLUSTER#');
  });

  it.each([
    ['another project', { project: 'beta', query: { status: 'ACTIVE' } }],
    ['another status filter', { project: 'alpha', query: { status: 'FAILED' } }],
    ['no status filter', { project: 'alpha', query: {} }],
  ])('refuses a token presented for %s with a 400 naming nextToken', (_case, other) => {
    const token = sealPageToken(key, binding, cursor);

    const error = refusal(() => openPageToken(key, other, token));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).statusCode).toBe(400);
    expect((error as ValidationError).details.map((d) => d.path)).toEqual(['nextToken']);
  });

  it('refuses a token with any byte altered', () => {
    const bytes = Buffer.from(sealPageToken(key, binding, cursor), 'base64url');
    const refused = [...bytes.keys()].filter((i) => {
      const altered = Buffer.from(bytes);
      altered[i] = (altered[i] ?? 0) ^ 1;
      return refusal(() => openPageToken(key, binding, altered.toString('base64url'))) instanceof ValidationError;
    });

    expect(refused).toHaveLength(bytes.length);
  });

  it.each([['e30'], [''], ['%'], ['a.b'], [Buffer.from(cursor).toString('base64url')], ['A'.repeat(2048)]])(
    'refuses %j, which it never issued',
    (token) => {
      expect(refusal(() => openPageToken(key, binding, token))).toBeInstanceOf(ValidationError);
    },
  );

  it('refuses a secret shorter than 32 characters, which would make a guessable key', () => {
    expect(() => sealPageToken('short', binding, cursor)).toThrow(/at least 32/);
  });

  it('refuses a token sealed under another key', () => {
    const token = sealPageToken(randomBytes(32).toString('base64url'), binding, cursor);

    expect(refusal(() => openPageToken(key, binding, token))).toBeInstanceOf(ValidationError);
  });
});
