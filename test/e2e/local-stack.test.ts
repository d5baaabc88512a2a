import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '#use-cases/tokens';
import { readLocalConfig } from '../../infra/local/config.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/stack.ts';
import { seedRequest } from '../support/clusters.ts';
import { FAST_CLOUD } from '../support/workflow.ts';

/** Loopback only, every port chosen by the system. */
const config = (overrides: Record<string, string> = {}) =>
  readLocalConfig({ PORT: '0', DYNAMODB_PORT: '0', HOST: '127.0.0.1', LOCAL_POLL_MS: '20', POLL_INTERVAL_SECONDS: '1', ...overrides });

const waitForStatus = async (stack: LocalStack, token: string, id: string, statuses: string[], timeoutMs = 15_000) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${stack.url}/v1/clusters/${id}`, { headers: { Authorization: `Token ${token}` } });
    const body = (await response.json()) as { status: string; servers: { role: string; publicIp: string | null }[] };
    if (statuses.includes(body.status) || Date.now() > until) return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The seed's curl example: same headers, same body, trailing slash included. */
const seedCurl = (stack: LocalStack, token: string, body: object = seedRequest()) =>
  fetch(`${stack.url}/backend/create_lambda_instance/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Token ${token}` },
    body: JSON.stringify(body),
  });

describe('the local stack over real HTTP', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ config: config({ LOCAL_API_TOKEN: 'tJ3b3f32f23ceuqdoS_TH7m0d6yxmlWL1r2ralKcttR' }), cloud: FAST_CLOUD, inMemory: true, retryMs: 5, providerEnv: {} });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('takes the seed’s curl example to 202 {"uuid"} and then to ACTIVE with a master, the slaves and the master’s public IP', async () => {
    const response = await seedCurl(stack, stack.token, { ...seedRequest(), slaves: 2 });

    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('application/json');
    const text = await response.text();
    expect(text).toMatch(/^\{"uuid": "[0-9a-f-]{36}"\}$/);
    const { uuid } = JSON.parse(text) as { uuid: string };
    const cluster = await waitForStatus(stack, stack.token, uuid, ['ACTIVE', 'FAILED']);
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.servers.map((s) => s.role)).toEqual(['master', 'worker', 'worker']);
    expect(cluster.servers[0]?.publicIp).not.toBeNull();
    const inventory = (await (await fetch(`${stack.url}/_local/cloud/servers`)).json()) as { items: { clusterId: string; state: string }[] };
    expect(inventory.items.filter((s) => s.clusterId === uuid).map((s) => s.state)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
  });

  it('serves the create route without the trailing slash too', async () => {
    const response = await fetch(`${stack.url}/backend/create_lambda_instance`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-api-key': stack.token },
      body: JSON.stringify(seedRequest()),
    });

    expect(response.status).toBe(202);
  });

  it.each([
    ['a wrong token', { Authorization: 'Token wrongwrongwrongwrongwrong' }],
    ['no token', {} as Record<string, string>],
    ['the wrong scheme', { Authorization: 'Bearer tJ3b3f32f23ceuqdoS_TH7m0d6yxmlWL1r2ralKcttR' }],
  ])('answers 401 {"message":"Unauthorized"} to %s, and creates nothing', async (_, headers) => {
    const before = (await stack.stores.clusters.listClusters('local', { limit: 100 })).items.length;

    const response = await fetch(`${stack.url}/backend/create_lambda_instance/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(seedRequest()),
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized' });
    expect((await stack.stores.clusters.listClusters('local', { limit: 100 })).items.length).toBe(before);
  });

  it('answers 400 naming the field for a bad body', async () => {
    const response = await seedCurl(stack, stack.token, { ...seedRequest(), ip_allocation: 'everything' });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { details: { path: string }[] } };
    expect(body.error.details.map((d) => d.path)).toEqual(['ip_allocation']);
  });

  it('hides a cluster from another project’s token (404)', async () => {
    const { uuid } = (await (await seedCurl(stack, stack.token)).json()) as { uuid: string };
    const other = await issueToken(stack.stores.tokens, { project: 'someone-else' });

    const response = await fetch(`${stack.url}/v1/clusters/${uuid}`, { headers: { Authorization: `Token ${other.token}` } });

    expect(response.status).toBe(404);
  });

  it('answers 403 Missing Authentication Token for a route it does not have, as API Gateway does', async () => {
    const response = await fetch(`${stack.url}/backend/no_such_route`, { headers: { Authorization: `Token ${stack.token}` } });

    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});

describe('the local stack across a restart', () => {
  it('keeps its data and its token, and resumes a cluster that was provisioning when it stopped', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cluster-service-'));
    try {
      const settings = { config: config({ LOCAL_DATA_DIR: dataDir }), cloud: { ...FAST_CLOUD, bootMs: { min: 800, max: 800 } }, retryMs: 5, providerEnv: {} };
      const first = await startLocalStack(settings);
      const { uuid } = (await (await seedCurl(first, first.token, { ...seedRequest(), slaves: 2 })).json()) as { uuid: string };
      for (let i = 0; i < 200 && first.cloud.listServers().length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      await first.stop();

      const second = await startLocalStack(settings);
      try {
        expect(second.token).toBe(first.token);
        expect(second.resumed).toEqual([uuid]);
        const cluster = await waitForStatus(second, second.token, uuid, ['ACTIVE', 'FAILED']);
        expect(cluster.status).toBe('ACTIVE');
        expect(second.cloud.listServers().filter((s) => s.clusterId === uuid)).toHaveLength(3);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
