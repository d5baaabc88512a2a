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

/** The environment without anything that would send the CLI to a deployed table or change the local quota defaults. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const { TABLE_NAME: _table, DYNAMODB_PORT: _port, QUOTA_MAX_VCPUS: _vcpus, QUOTA_MAX_SERVERS: _servers, QUOTA_MAX_CLUSTERS: _clusters, ...env } = process.env;
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
    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: true, project: 'p1' });
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

  it('sets a project’s limit below its usage with a warning on stderr, exit 0, and shows it as JSON', async () => {
    // Prepare
    const target = ['--endpoint', table.dynamodb.endpoint];
    await table.quotas.reserve('child-quota', { vcpus: 8, servers: 2, clusters: 1 }, { vcpus: 100, servers: 100, clusters: 100 });

    // Act
    const set = await runReal(['quotas', 'set', '--project', 'child-quota', '--servers', '1', ...target]);
    const shown = await runReal(['quotas', 'show', '--project', 'child-quota', '--json', ...target]);

    // Assess
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('limits of project child-quota now: vcpus default, servers 1, clusters default\n');
    expect(set.stderr).toMatch(/^warning: the servers limit 1 is below the current usage of project child-quota \(2\)/);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ project: 'child-quota', servers: { used: 2, limit: 1, source: 'project' } });
  });

  it('exits 2 with the usage on stderr when given no arguments', async () => {
    const result = await runReal([]);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^usage:/);
    expect(result.stderr).toContain('tokens create --project NAME');
    expect(result.stderr).toContain('quotas set --project NAME');
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
    expect(result.stdout).toContain('quotas show --project NAME [--json]');
    expect(result.stdout).toContain('quotas set --project NAME [--vcpus N] [--servers N] [--clusters N] [--reset RESOURCE[,RESOURCE]]');
    expect(result.stdout).toContain('--table NAME');
  });

  it('prints a quotas command’s own usage for `quotas set --help`', async () => {
    const result = await runHere(['quotas', 'set', '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run cli -- quotas set --project NAME/);
    expect(result.stdout).toContain('--reset RESOURCE');
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
    [['clusters'], /unknown command "clusters": tokens or quotas/],
    [['quotas'], /quotas needs a command: show or set/],
    [['quotas', 'list'], /unknown quotas command "list": show or set/],
    [['quotas', 'show'], /--project is required/],
    [['quotas', 'show', '--project', 'a', '--vcpus', '3'], /--vcpus is not an option of quotas show/],
    [['quotas', 'set', '--project', 'a'], /quotas set needs at least one of --vcpus, --servers, --clusters or --reset/],
    [['quotas', 'set', '--project', 'a', '--vcpus', '-1'], /--vcpus needs a value, and "-1" reads as an option \(if it is the value, write --vcpus=-1\)/],
    [['quotas', 'set', '--project', 'a', '--vcpus=-1'], /--vcpus must be a whole number from 0 to 1000000 \(got "-1"\)/],
    [['quotas', 'set', '--project', 'a', '--servers', '2.5'], /--servers must be a whole number/],
    [['quotas', 'set', '--project', 'a', '--clusters', '3', '--clusters', '4'], /--clusters is given more than once/],
    [['quotas', 'set', '--project', 'a', '--reset', 'cpus'], /--reset takes vcpus, servers or clusters, comma-separated \(got "cpus"\)/],
    [['quotas', 'set', '--project', 'a', '--reset', 'vcpus', '--vcpus', '3'], /--reset vcpus and --vcpus contradict each other/],
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
    expect(await authorizeToken(table.tokens, token)).toEqual({ ok: false, reason: 'revoked' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no token has an id starting with ffffffff00');
  });
});

describe('the quotas commands end to end', () => {
  it('set, show, set another, reset: each keeps the limits it does not name', async () => {
    // Prepare
    const target = ['--endpoint', table.dynamodb.endpoint];
    await table.quotas.reserve('round-trip', { vcpus: 12, servers: 3, clusters: 1 }, { vcpus: 100, servers: 100, clusters: 100 });

    // Act
    const first = await runHere(['quotas', 'set', '--project', 'round-trip', '--vcpus', '64', '--clusters', '5', ...target]);
    const second = await runHere(['quotas', 'set', '--project', 'round-trip', '--servers', '10', ...target]);
    const shown = await runHere(['quotas', 'show', '--project', 'round-trip', ...target]);
    const reset = await runHere(['quotas', 'set', '--project', 'round-trip', '--reset', 'vcpus,clusters', ...target]);
    const after = await runHere(['quotas', 'show', '--project', 'round-trip', '--json', ...target]);

    // Assess
    expect([first.code, second.code, shown.code, reset.code, after.code]).toEqual([0, 0, 0, 0, 0]);
    expect([first.stderr, second.stderr, shown.stderr, reset.stderr, after.stderr]).toEqual(['', '', '', '', '']);
    expect(second.stdout).toBe('limits of project round-trip now: vcpus 64, servers 10, clusters 5\n');
    expect(shown.stdout.split('\n').slice(1, 5)).toEqual(['RESOURCE  USED  LIMIT', 'vcpus     12    64', 'servers   3     10', 'clusters  1     5']);
    expect(reset.stdout).toBe('limits of project round-trip now: vcpus default, servers 10, clusters default\n');
    expect(JSON.parse(after.stdout)).toEqual({
      project: 'round-trip',
      vcpus: { used: 12, limit: 4096, source: 'default' },
      servers: { used: 3, limit: 10, source: 'project' },
      clusters: { used: 1, limit: 2000, source: 'default' },
    });
  });

  it('shows the local stack’s defaults as this environment sets them, and none for a deployed table', async () => {
    // Prepare
    const port = new URL(table.dynamodb.endpoint).port;
    const env = cleanEnv({ DYNAMODB_PORT: port, QUOTA_MAX_SERVERS: '50' });

    // Act
    const local = await runHere(['quotas', 'show', '--project', 'defaults', '--json'], env);
    // A deployed table takes the default AWS chain, which reads the process's own environment: a child's.
    const deployed = await runReal(
      ['quotas', 'show', '--project', 'defaults', '--json', '--table', 'cluster-service', '--endpoint', table.dynamodb.endpoint],
      { ...env, AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    );

    // Assess
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({ vcpus: { limit: 4096, source: 'default' }, servers: { limit: 50, source: 'default' } });
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ vcpus: { limit: null, source: 'default' }, servers: { limit: null, source: 'default' } });
  });

  it('exits 2 naming QUOTA_MAX_VCPUS when the local defaults it would show are not numbers', async () => {
    const port = new URL(table.dynamodb.endpoint).port;

    const result = await runHere(['quotas', 'show', '--project', 'defaults'], cleanEnv({ DYNAMODB_PORT: port, QUOTA_MAX_VCPUS: 'many' }));

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('QUOTA_MAX_VCPUS');
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
