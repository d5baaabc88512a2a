import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenRecord } from '#domain/token-store';
import { authorizeToken, hashToken, TOKEN_PATTERN } from '#use-cases/tokens';
import { CommandError, createToken, listTokens, revokeToken, UsageError, type Output, type TokenView } from '../../infra/cli/tokens.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.stop();
});

const DAY_MS = 86_400_000;

/** The tests share one table: each works in projects of its own. */
const newProject = () => `p-${randomBytes(4).toString('hex')}`;

const capture = () => {
  const lines: string[] = [];
  const out: Output = { line: (text) => lines.push(...text.split('\n')) };
  return { lines, out, text: () => lines.join('\n') };
};

const lastWord = (text: string): string => text.trim().split(/\s+/).at(-1) ?? '';

/** Creates a token and answers it in clear, as a user would copy it from the output. */
const create = async (project: string, options: { expiresIn?: string; description?: string } = {}) => {
  const output = capture();
  const view = await createToken(table.tokens, { project, ...options }, output.out);
  return { token: lastWord(output.text()), view, output };
};

/** A stored token whose hash starts with `prefix`: the only way to make two ids collide on purpose. */
const tokenWithHash = (hash: string, project: string): TokenRecord => ({
  hash,
  project,
  createdAt: new Date().toISOString(),
  expiresAt: null,
  revoked: false,
});

describe('tokens create', () => {
  it('prints a token as the last word of its output, and that token authorizes for the project', async () => {
    // Prepare
    const project = newProject();
    const output = capture();

    // Act
    await createToken(table.tokens, { project }, output.out);

    // Assess
    const token = lastWord(output.text());
    expect(token).toMatch(TOKEN_PATTERN);
    expect(output.text()).toContain(`project ${project}`);
    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: true, project });
  });

  it('stores the token’s SHA-256 and nowhere the token itself', async () => {
    // Prepare
    const project = newProject();

    // Act
    const { token } = await create(project, { description: 'ci runner' });

    // Assess
    const { Items = [] } = await table.dynamodb.client.send(new ScanCommand({ TableName: 'cluster-service' }));
    const everything = JSON.stringify(Items);
    expect(everything).toContain(hashToken(token));
    expect(everything).not.toContain(token);
    expect(await table.tokens.get(hashToken(token))).toMatchObject({ project, revoked: false, description: 'ci runner' });
  });

  it.each([
    ['30d', 30 * DAY_MS],
    ['12h', 12 * 3_600_000],
    ['45m', 45 * 60_000],
  ])('sets the expiry --expires-in %s after now', async (expiresIn, ms) => {
    // Prepare
    const project = newProject();
    const before = Date.now();

    // Act
    const { token, output } = await create(project, { expiresIn });

    // Assess
    const stored = await table.tokens.get(hashToken(token));
    const expiresAt = Date.parse(stored?.expiresAt ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(before + ms);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + ms);
    expect(output.text()).toContain(`expires ${stored?.expiresAt}`);
  });

  it('makes a token that never expires when --expires-in is not given', async () => {
    const { token, output } = await create(newProject());

    expect((await table.tokens.get(hashToken(token)))?.expiresAt).toBeNull();
    expect(output.text()).toContain('expires never');
  });

  it.each(['30', '0d', '-1d', '1w', '1.5h', 'd', '30 d', '30D', '3651d'])(
    'refuses --expires-in %j with a usage error naming the flag, and stores nothing',
    async (expiresIn) => {
      // Prepare
      const project = newProject();
      const output = capture();

      // Act
      const attempt = createToken(table.tokens, { project, expiresIn }, output.out);

      // Assess
      await expect(attempt).rejects.toThrow(UsageError);
      await expect(attempt).rejects.toThrow(/--expires-in/);
      expect(output.lines).toEqual([]);
      expect(await table.tokens.list(project)).toEqual([]);
    },
  );

  it.each([
    ['empty', ''],
    ['with a space', 'has space'],
    ['with a slash', 'a/b'],
    ['of 129 characters', 'x'.repeat(129)],
    ['missing', undefined],
  ])('refuses a project name %s with a usage error naming --project', async (_, project) => {
    const attempt = createToken(table.tokens, { project }, capture().out);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/--project/);
  });

  it('accepts project names of up to 128 letters, digits, dots, underscores and hyphens', async () => {
    const long = `${'x'.repeat(120)}${randomBytes(4).toString('hex')}`;

    const created = [await create(long), await create(`A.b_c-9.${randomBytes(2).toString('hex')}`)];

    for (const { token, view } of created) expect(await authorizeToken(table.tokens, token)).toEqual({ ok: true, project: view.project });
  });
});

describe('tokens list', () => {
  it('shows each token’s id prefix, project, creation, expiry and status, and neither the token nor its full hash', async () => {
    // Prepare
    const project = newProject();
    const first = await create(project);
    const second = await create(project, { expiresIn: '30d' });
    const output = capture();

    // Act
    await listTokens(table.tokens, { project }, output.out);

    // Assess
    const [header, ...rows] = output.lines;
    expect(header).toMatch(/^ID\s+PROJECT\s+CREATED\s+EXPIRES\s+STATUS/);
    expect(rows).toHaveLength(2);
    for (const created of [first, second]) {
      const stored = await table.tokens.get(hashToken(created.token));
      const row = rows.find((line) => line.startsWith(`${created.view.id} `));
      expect(row?.split(/\s+/)).toEqual([
        hashToken(created.token).slice(0, 12),
        project,
        stored?.createdAt,
        stored?.expiresAt ?? 'never',
        'active',
      ]);
    }
    const text = output.text();
    for (const { token } of [first, second]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashToken(token).slice(0, 13));
    }
    expect(text.split(/\s+/).filter((word) => TOKEN_PATTERN.test(word))).toEqual([]);
  });

  it('with --project shows only that project’s tokens', async () => {
    // Prepare
    const mine = newProject();
    const theirs = newProject();
    const a = await create(mine);
    const b = await create(theirs);
    const c = await create(mine);

    // Act
    const views = await listTokens(table.tokens, { project: mine }, capture().out);
    const all = await listTokens(table.tokens, {}, capture().out);

    // Assess
    expect(views.map((v) => v.id).sort()).toEqual([a.view.id, c.view.id].sort());
    expect(views.every((v) => v.project === mine)).toBe(true);
    expect(all.map((v) => v.id)).toEqual(expect.arrayContaining([a.view.id, b.view.id, c.view.id]));
  });

  it('with --json prints an array of id, project, created, expires and status', async () => {
    // Prepare
    const project = newProject();
    const { view } = await create(project, { expiresIn: '1h', description: 'deploy bot' });
    const output = capture();

    // Act
    await listTokens(table.tokens, { project, json: true }, output.out);

    // Assess
    const parsed = JSON.parse(output.text()) as TokenView[];
    expect(parsed).toEqual([
      { id: view.id, project, created: view.created, expires: view.expires, status: 'active', description: 'deploy bot' },
    ]);
    expect(view.id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('says a token past its expiry is expired and a revoked one is revoked', async () => {
    // Prepare
    const project = newProject();
    const expiring = await create(project, { expiresIn: '1m' });
    const revoked = await create(project);
    await revokeToken(table.tokens, revoked.view.id, capture().out);
    const inTwoMinutes = new Date(Date.now() + 120_000);

    // Act
    const views = await listTokens(table.tokens, { project }, capture().out, inTwoMinutes);

    // Assess
    expect(Object.fromEntries(views.map((v) => [v.id, v.status]))).toEqual({
      [expiring.view.id]: 'expired',
      [revoked.view.id]: 'revoked',
    });
  });

  it('says so when a project has no tokens', async () => {
    const project = newProject();
    const output = capture();

    await listTokens(table.tokens, { project }, output.out);

    expect(output.lines).toEqual([`no tokens for project ${project}`]);
  });
});

describe('tokens revoke', () => {
  it('revokes the token an 8-character id prefix names, and the authorizer then refuses it', async () => {
    // Prepare
    const project = newProject();
    const { token, view } = await create(project);
    const other = await create(project);
    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: true, project });
    const output = capture();

    // Act
    await revokeToken(table.tokens, view.id.slice(0, 8), output.out);

    // Assess
    expect(output.text()).toContain(`revoked token ${view.id} (project ${project}`);
    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: false, reason: 'revoked' });
    expect(await authorizeToken(table.tokens, other.token)).toEqual({ ok: true, project });
    const views = await listTokens(table.tokens, { project }, capture().out);
    expect(views.find((v) => v.id === view.id)?.status).toBe('revoked');
  });

  it('accepts the id in capitals, as someone may paste it', async () => {
    const { token, view } = await create(newProject());

    await revokeToken(table.tokens, view.id.toUpperCase(), capture().out);

    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('fails naming the prefix when no token matches it', async () => {
    const prefix = randomBytes(8).toString('hex');

    const attempt = revokeToken(table.tokens, prefix, capture().out);

    await expect(attempt).rejects.toThrow(CommandError);
    await expect(attempt).rejects.toThrow(`no token has an id starting with ${prefix}`);
  });

  it('fails when several tokens share the prefix, listing each candidate’s id, and revokes none', async () => {
    // Prepare
    const project = newProject();
    const prefix = randomBytes(4).toString('hex');
    const hashes = [`${prefix}${'a'.repeat(56)}`, `${prefix}${'b'.repeat(56)}`];
    for (const hash of hashes) await table.tokens.put(tokenWithHash(hash, project));

    // Act
    const attempt = revokeToken(table.tokens, prefix, capture().out);

    // Assess
    await expect(attempt).rejects.toThrow(CommandError);
    const message = await attempt.catch((error: Error) => error.message);
    expect(message).toContain(`2 tokens have an id starting with ${prefix}`);
    for (const hash of hashes) {
      expect(message).toContain(hash.slice(0, 12));
      expect(message).not.toContain(hash);
      expect((await table.tokens.get(hash))?.revoked).toBe(false);
    }
  });

  it('lists candidates sharing their first 12 characters by ids long enough to tell them apart', async () => {
    const project = newProject();
    const shared = randomBytes(7).toString('hex');
    const hashes = [`${shared}0${'c'.repeat(49)}`, `${shared}1${'c'.repeat(49)}`];
    for (const hash of hashes) await table.tokens.put(tokenWithHash(hash, project));

    const message = await revokeToken(table.tokens, shared, capture().out).catch((error: Error) => error.message);

    expect(message).toContain(`${shared}0`);
    expect(message).toContain(`${shared}1`);
  });

  it.each([
    ['shorter than 8 characters', '1234567'],
    ['not hex', 'zzzzzzzz'],
    ['longer than a hash', 'a'.repeat(65)],
    ['missing', undefined],
  ])('refuses an ID %s with a usage error naming ID', async (_, id) => {
    const attempt = revokeToken(table.tokens, id, capture().out);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/\bID\b/);
  });

  it('says a token was already revoked and leaves it revoked', async () => {
    const { token, view } = await create(newProject());
    await revokeToken(table.tokens, view.id, capture().out);
    const output = capture();

    await revokeToken(table.tokens, view.id, output.out);

    expect(output.text()).toContain(`token ${view.id} (project ${view.project}) was already revoked`);
    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: false, reason: 'revoked' });
  });
});
