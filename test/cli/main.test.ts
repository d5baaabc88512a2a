import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeToken, hashToken } from '#use-cases/tokens';
import { resolveTarget, runCli, type CliIo } from '../../infra/cli/main.ts';
import { UsageError } from '../../infra/cli/tokens.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.stop();
});

/** The environment without anything that would send the CLI to a deployed table. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const { TABLE_NAME: _table, DYNAMODB_PORT: _port, ...env } = process.env;
  return { ...env, ...extra };
};

/** `npm run cli -- …` without npm: the same tsx entry, as a child process. */
const runReal = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, 'infra/cli/main.ts', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

/** The same entry in this process, for the argument handling that needs no child. */
const runHere = async (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) => {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
};

/** A loopback port nobody listens on. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
};

const lastWord = (text: string): string => text.trim().split(/\s+/).at(-1) ?? '';

describe('the CLI as a child process', () => {
  it('creates a token whose last word of output authorizes for project p1 against the same table', async () => {
    // Act
    const result = await runReal(['tokens', 'create', '--project', 'p1', '--endpoint', table.dynamodb.endpoint]);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const token = lastWord(result.stdout);
    expect(await authorizeToken(table.store, token)).toEqual({ ok: true, project: 'p1' });
  });

  it('targets the local stack’s DynamoDB on DYNAMODB_PORT when no endpoint is given', async () => {
    // Prepare
    const port = new URL(table.dynamodb.endpoint).port;
    const created = await runReal(['tokens', 'create', '--project', 'via-port'], cleanEnv({ DYNAMODB_PORT: port }));

    // Act
    const listed = await runReal(['tokens', 'list', '--project', 'via-port', '--json'], cleanEnv({ DYNAMODB_PORT: port }));

    // Assess
    expect(created.code).toBe(0);
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { id: string }[]).map((view) => view.id);
    expect(ids).toEqual([hashToken(lastWord(created.stdout)).slice(0, 12)]);
  });

  it('exits 2 with the usage on stderr when given no arguments', async () => {
    const result = await runReal([]);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^usage:/);
    expect(result.stderr).toContain('tokens create --project NAME');
  });

  it('exits 1 with a plain message, not a stack, when nothing listens on the endpoint', async () => {
    // Prepare
    const endpoint = `http://127.0.0.1:${await closedPort()}`;

    // Act
    const result = await runReal(['tokens', 'list', '--endpoint', endpoint]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`cannot reach DynamoDB at ${endpoint}: is \`npm start\` running?`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('the CLI’s arguments', () => {
  it('prints the usage on stdout and exits 0 for --help', async () => {
    const result = await runHere(['--help']);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('tokens revoke ID');
    expect(result.stdout).toContain('--table NAME');
  });

  it('prints a command’s own usage for `tokens create --help`', async () => {
    const result = await runHere(['tokens', 'create', '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run cli -- tokens create --project NAME/);
    expect(result.stdout).toContain('--expires-in');
  });

  it.each([
    [['tokens', 'list', '--verbose'], /unknown option --verbose/],
    [['tokens', 'list', '--expires-in', '3d'], /--expires-in is not an option of tokens list/],
    [['tokens', 'create', '--project'], /--project needs a value/],
    [['tokens', 'create', '--project', 'a', '--project', 'b'], /--project is given more than once/],
    [['tokens', 'create', '--project', 'a b'], /--project must be/],
    [['tokens', 'create', '--project', 'a', '--expires-in', '2w'], /--expires-in must be/],
    [['tokens', 'revoke'], /ID is required/],
    [['tokens', 'revoke', 'abcdef12', 'extra'], /unexpected argument "extra"/],
    [['tokens', 'list', '--json=yes'], /--json takes no value/],
    [['tokens', 'list', '--endpoint', 'not a url'], /--endpoint must be/],
    [['tokens', 'list', '--table', 'x'], /--table must be/],
    [['tokens'], /tokens needs a command/],
    [['tokens', 'delete'], /unknown tokens command "delete"/],
    [['clusters'], /unknown command "clusters"/],
  ])('exits 2 for %j with a message naming what is wrong', async (args, message) => {
    const result = await runHere(args, cleanEnv({ DYNAMODB_PORT: String(await closedPort()) }));

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage:');
  });

  it('exits 2 naming DYNAMODB_PORT when it is not a port', async () => {
    const result = await runHere(['tokens', 'list'], cleanEnv({ DYNAMODB_PORT: 'eighty' }));

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DYNAMODB_PORT');
  });

  it('runs create, list and revoke end to end, and exits 1 naming the prefix no token has', async () => {
    // Prepare
    const target = ['--endpoint', table.dynamodb.endpoint];
    const created = await runHere(['tokens', 'create', '--project', 'here', '--expires-in', '30d', ...target]);
    const token = lastWord(created.stdout);
    const id = hashToken(token).slice(0, 12);

    // Act
    const listed = await runHere(['tokens', 'list', '--project', 'here', ...target]);
    const revoked = await runHere(['tokens', 'revoke', id, ...target]);
    const unknown = await runHere(['tokens', 'revoke', 'ffffffff00', ...target]);

    // Assess
    expect([created.code, listed.code, revoked.code]).toEqual([0, 0, 0]);
    expect(listed.stdout).toContain(`${id}  here`);
    expect(listed.stdout).not.toContain(token);
    expect(revoked.stdout).toContain(`revoked token ${id}`);
    expect(await authorizeToken(table.store, token)).toEqual({ ok: false, reason: 'revoked' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no token has an id starting with ffffffff00');
  });
});

describe('the target', () => {
  it('is the local stack by default: loopback DynamoDB on port 8000, table cluster-service, the fixed local credentials', () => {
    const target = resolveTarget({}, {});

    expect(target).toMatchObject({ kind: 'local', tableName: 'cluster-service', endpoint: 'http://127.0.0.1:8000' });
    expect(target.clientConfig).toMatchObject({ endpoint: 'http://127.0.0.1:8000', region: 'local', credentials: { accessKeyId: 'local' } });
  });

  it('follows DYNAMODB_PORT for the local stack', () => {
    expect(resolveTarget({}, { DYNAMODB_PORT: '8123' }).endpoint).toBe('http://127.0.0.1:8123');
  });

  it('is a deployed table with --table: no endpoint, no fixed credentials or region, so the default AWS chain applies', () => {
    const target = resolveTarget({ table: 'ClusterService-Table-1ABC' }, { DYNAMODB_PORT: '8123' });

    expect(target).toEqual({ kind: 'deployed', tableName: 'ClusterService-Table-1ABC', clientConfig: {} });
  });

  it('is the deployed table TABLE_NAME names, unless --table names another', () => {
    expect(resolveTarget({}, { TABLE_NAME: 'from-env' })).toMatchObject({ kind: 'deployed', tableName: 'from-env' });
    expect(resolveTarget({ table: 'from-flag' }, { TABLE_NAME: 'from-env' })).toMatchObject({ tableName: 'from-flag' });
  });

  it('takes --endpoint for either target', () => {
    const endpoint = 'http://127.0.0.1:4566';

    expect(resolveTarget({ endpoint }, {}).clientConfig).toMatchObject({ endpoint, region: 'local' });
    expect(resolveTarget({ endpoint, table: 'deployed' }, {}).clientConfig).toEqual({ endpoint });
  });

  it('refuses a TABLE_NAME that is no table name, naming the variable', () => {
    expect(() => resolveTarget({}, { TABLE_NAME: 'a b' })).toThrow(UsageError);
    expect(() => resolveTarget({}, { TABLE_NAME: 'a b' })).toThrow(/TABLE_NAME/);
  });
});
