/**
 * Generated hostile requests (test/support/hostile-requests.ts) against the local stack over real
 * HTTP, with a fixed seed and a bounded number of cases. Whatever comes in: never a 5xx; what the
 * gateway answers itself (401, 403 for no route, 413 over 10 MiB) in API Gateway's own bodies;
 * every other 4xx in the service's envelope, naming the field or parameter; the process alive;
 * nothing created.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_STATUSES } from '#domain/model';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ROUTES } from '../../infra/routes.ts';
import { listQuerySchema } from '../../functions/read-clusters/index.ts';
import { startTestStack } from '../support/stack.ts';
import { rawRequest, type RawResponse } from '../support/raw-http.ts';
import { CREATE_ROUTES, hostileRequest, QUERY_PARAMETERS, type HostileRequest } from '../support/hostile-requests.ts';

/** Fixed, so a run is repeatable; a failure prints the seed and path that replay it. */
const SEED = 20_240_817;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const ALL_ROUTES = [
  ...ROUTES.map((route) => ({ method: route.method, path: route.path, authorize: route.caller !== 'node', byNode: route.caller === 'node' })),
  { method: 'POST', path: '/_local/events', authorize: false },
  { method: 'GET', path: '/_local/events', authorize: false },
  { method: 'GET', path: '/_local/cloud/servers', authorize: false },
  { method: 'GET', path: '/_local/configuration-bundle.zip', authorize: false },
];

/** The route the gateway matches, read as the gateway reads the request line. */
const matchRoute = (method: string, rawPath: string) => {
  const url = new URL(rawPath, 'http://localhost');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  for (const route of ALL_ROUTES) {
    const pattern = new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}$`);
    const match = route.method === method ? pattern.exec(path) : null;
    if (match) return { route, values: match.slice(1), params: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ''), search: url.searchParams };
  }
  return null;
};

const undecodable = (value: string) => {
  try {
    decodeURIComponent(value);
    return false;
  } catch {
    return true;
  }
};

interface Envelope {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

const expectEnvelope = (response: RawResponse): Envelope => {
  const body = response.json as Envelope;
  expect(body, response.text.slice(0, 300)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) } });
  for (const detail of body.error.details) expect(detail).toMatchObject({ path: expect.any(String), message: expect.any(String) });
  return body;
};

const detailPaths = (response: RawResponse) => expectEnvelope(response).error.details.map((detail) => detail.path);

/** What the service must answer to one hostile request, checked against what it did answer. */
const checkAnswer = (request: HostileRequest, response: RawResponse) => {
  const context = `${request.raw.method} ${request.raw.path} (${request.auth}) → ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, context).toBeLessThan(500);

  const matched = matchRoute(request.raw.method, request.raw.path);
  if (!matched) {
    expect(response.status, context).toBe(403);
    if (request.raw.method !== 'HEAD') expect(response.json, context).toEqual({ message: 'Missing Authentication Token' });
    return;
  }
  const badParameter = matched.params.find((_, i) => undecodable(matched.values[i] ?? ''));
  if (badParameter) {
    expect(response.status, context).toBe(400);
    expect(detailPaths(response), context).toEqual([badParameter]);
    return;
  }
  if (matched.route.authorize && !['token', 'api-key'].includes(request.auth)) {
    expect(response.status, context).toBe(401);
    expect(response.json, context).toEqual({ message: 'Unauthorized' });
    return;
  }
  // A node's route: no request here carries a cluster's node secret, so the function refuses each, before reading it.
  if ('byNode' in matched.route && matched.route.byNode) {
    expect(response.status, context).toBe(401);
    expect(expectEnvelope(response).error.code, context).toBe('Unauthorized');
    return;
  }

  // The handler answered.
  const key = `${matched.route.method} ${matched.route.path}`;
  // Every body a create route gets is invalid somehow.
  if (CREATE_ROUTES.has(key)) expect(response.status, `nothing may be created: ${context}`).toBeGreaterThanOrEqual(400);
  if (response.status < 400) return;
  const paths = detailPaths(response);
  if ([400, 413, 415].includes(response.status)) expect(paths.length, context).toBeGreaterThan(0);
  if (matched.route.path.startsWith('/_local/')) return;

  const known = QUERY_PARAMETERS[key] ?? [];
  const names = [...new Set(matched.search.keys())];
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    expect(response.status, context).toBe(400);
    expect(paths, context).toEqual(expect.arrayContaining(unknown));
    return;
  }
  // No token the service made can be among the generated ones: a 400 naming it, once the rest of the query is valid.
  if (names.includes('nextToken')) {
    const others = Object.fromEntries([...matched.search].filter(([name]) => name !== 'nextToken'));
    if (listQuerySchema.omit({ nextToken: true }).partial().safeParse(others).success) {
      expect(response.status, context).toBe(400);
      expect(paths, context).toContain('nextToken');
    }
  }
};

const send = async (request: HostileRequest) => {
  const response = await rawRequest(stack.url, request.raw);
  // Deliveries the request set off end before the next one, so any harm they do shows here.
  await stack.events.idle();
  return response;
};

describe('hostile requests against the local stack (property-based)', () => {
  it('never answer 5xx, and every refusal names what is wrong', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileRequest(stack.token),
        async (request) => checkAnswer(request, await send(request)),
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answer a body over API Gateway’s 10 MiB with its 413, on any route', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.integer({ min: 1, max: 64 * 1024 }), async (route, extra) => {
        const path = route.path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
        const response = await send({
          raw: { method: route.method, path, headers: [['Authorization', `Token ${stack.token}`], ['Content-Type', 'application/json']], body: Buffer.alloc(10 * 1024 * 1024 + extra, 0x7b) },
          auth: 'token',
          route: { ...route, local: false },
        });

        expect(response.status).toBe(413);
        expect(response.json).toEqual({ message: 'Request Too Long' });
      }),
      { seed: SEED, numRuns: 3 },
    );
  });

  it('leave nothing behind: no cluster in any project, no server in the cloud, and the service still answers', async () => {
    await stack.events.idle();

    const list = await rawRequest(stack.url, { method: 'GET', path: '/v1/clusters', headers: [['Authorization', `Token ${stack.token}`]] });
    const inventory = await rawRequest(stack.url, { method: 'GET', path: '/_local/cloud/servers' });

    expect(list.status).toBe(200);
    expect(list.json).toEqual({ items: [] });
    expect(inventory.json).toEqual({ items: [] });
    expect(await stack.stores.clusters.findClustersByStatus(CLUSTER_STATUSES)).toEqual([]);
  });
});
