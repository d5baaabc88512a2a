/**
 * Crash safety of `npm start`: the real entry point in its own process, killed with SIGKILL
 * while it provisions, then started again on the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seedRequest } from '../support/clusters.ts';
import { api, waitForCluster } from '../support/http.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TOKEN = 'crash-test-token-0123456789abcdef';

/** A port nobody uses now, on loopback. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

const children: ChildProcess[] = [];

/** SIGKILL to the whole process group, as a machine crash or `kill -9 -<pgid>` does. */
const killGroup = (child: ChildProcess) => {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

afterEach(() => {
  for (const child of children.splice(0)) killGroup(child);
});

/** Starts `tsx infra/local/main.ts` (what `npm start` runs) and resolves once it listens. */
const startService = (env: Record<string, string>): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'infra/local/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: tsx runs the service in a child process, and a crash takes both.
      detached: true,
    });
    children.push(child);
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code}:\n${output}`));
    });
  });

const killed = async (child: ChildProcess, port: string): Promise<void> => {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child);
  await exited;
  // The service's own process is tsx's child: wait until its port is free, i.e. it is gone too.
  for (let i = 0; i < 100; i++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(Number(port), '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} is still in use after the kill`);
};

describe('kill -9 of the local service during provisioning', () => {
  it('reaches ACTIVE after a restart with exactly the servers it asked for', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cluster-crash-'));
    try {
      const env = {
        PORT: String(await freePort()),
        DYNAMODB_PORT: String(await freePort()),
        HOST: '127.0.0.1',
        LOCAL_DATA_DIR: dataDir,
        LOCAL_API_TOKEN: TOKEN,
        LOCAL_POLL_MS: '50',
        LOCAL_CLOUD_BOOT_MS: '1200',
        LOCAL_CLOUD_CONFIG_MS: '300',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      };
      const stack = { url: `http://127.0.0.1:${env.PORT}` };
      const first = await startService(env);
      const created = await api<{ uuid: string }>(stack, TOKEN, 'POST', '/backend/create_lambda_instance/', { body: { ...seedRequest(), slaves: 5 } });
      expect(created.status).toBe(202);
      const inventory = async () =>
        (await api<{ items: { clusterId: string; id: string }[] }>(stack, TOKEN, 'GET', '/_local/cloud/servers')).body.items.filter(
          (server) => server.clusterId === created.body.uuid,
        );
      // Kill it while the servers exist but are still booting.
      for (let i = 0; i < 300 && (await inventory()).length < 6; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await inventory()).length).toBe(6);
      await killed(first, env.PORT);

      await startService(env);
      const cluster = await waitForCluster(stack, TOKEN, created.body.uuid, ['ACTIVE', 'FAILED'], 30_000);
      const servers = await inventory();

      expect(cluster.status).toBe('ACTIVE');
      expect(cluster.servers).toHaveLength(6);
      expect(servers).toHaveLength(6);
      expect(new Set(servers.map((s) => s.id))).toEqual(new Set(cluster.servers.map((s) => s.id)));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
