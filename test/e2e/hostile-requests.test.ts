/**
 * Requests no client should send, each answered as a gateway and the service answer them: a 4xx
 * naming what is wrong, and the process still serving afterwards.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '#domain/events';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ROUTES } from '../../infra/routes.ts';
import { startTestStack } from '../support/stack.ts';
import { rawRequest, type RawResponse } from '../support/raw-http.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const auth = (): [string, string] => ['Authorization', `Token ${stack.token}`];
const jsonType: [string, string] = ['Content-Type', 'application/json'];

const putEvents = (body: string) => rawRequest(stack.url, { method: 'POST', path: '/_local/events', headers: [jsonType], body });

/** The paths of the error envelope's details. */
const detailPaths = (response: RawResponse) => (response.json as { error: { details: { path: string }[] } }).error.details.map((d) => d.path);

/** A JSON array nested `depth` levels. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** The service still answers, and its bus still lists what it kept. */
const expectServing = async () => {
  await stack.events.idle();
  expect((await rawRequest(stack.url, { method: 'GET', path: '/v1/clusters', headers: [auth()] })).status).toBe(200);
  expect((await rawRequest(stack.url, { method: 'GET', path: '/_local/events' })).status).toBe(200);
};

describe('POST /_local/events checks entries at the door, as EventBridge does', () => {
  it.each([DETAIL_TYPES.createRequested, 'Something Else'])(
    'refuses a %s entry whose Detail nests 5,000 arrays with a 400 naming Entries.0.Detail, and keeps serving',
    async (detailType) => {
      const detail = `{"project":"local","a":${nested(5000)}}`;

      const response = await putEvents(JSON.stringify({ Entries: [{ Source: 'x', DetailType: detailType, Detail: detail }] }));

      expect(response.status).toBe(400);
      expect(detailPaths(response)).toEqual(['Entries.0.Detail']);
      await expectServing();
    },
  );

  it('takes a Detail nested exactly as deep as EventBridge reads (1100 levels) and delivers it without harm', async () => {
    const detail = `{"project":"deep-but-allowed","a":${nested(1098)}}`;

    const response = await putEvents(JSON.stringify({ Entries: [{ Source: 'x', DetailType: DETAIL_TYPES.createRequested, Detail: detail }] }));

    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ FailedEntryCount: 0 });
    await expectServing();
    const rejected = stack.events.events().filter((e) => e['detail-type'] === DETAIL_TYPES.createRejected && (e.detail as { project?: string }).project === 'deep-but-allowed');
    expect(rejected).toHaveLength(1);
  });

  it.each([
    ['an entry that is null', '{"Entries":[null]}', 'Entries.0'],
    ['a Source that is not a string', '{"Entries":[{"Source":5,"DetailType":"x","Detail":"{}"}]}', 'Entries.0.Source'],
    ['a Detail that is an object, not a string', '{"Entries":[{"Source":"x","DetailType":"x","Detail":{}}]}', 'Entries.0.Detail'],
    ['an unknown member', '{"Entries":[{"Source":"x","DetailType":"x","Detail":"{}","constructor":1}]}', 'Entries.0.constructor'],
    ['a __proto__ member', '{"Entries":[{"Source":"x","DetailType":"x","Detail":"{}","__proto__":{"Source":1}}]}', 'Entries.0.__proto__'],
    ['eleven entries', JSON.stringify({ Entries: Array.from({ length: 11 }, () => ({ Source: 'x', DetailType: 'x', Detail: '{}' })) }), 'Entries'],
    ['an entry of more than 256 KB', JSON.stringify({ Entries: [{ Source: 'x', DetailType: 'x', Detail: JSON.stringify({ a: 'x'.repeat(256 * 1024) }) }] }), 'Entries.0'],
  ])('answers 400 naming the member for %s', async (_, body, path) => {
    const response = await putEvents(body);

    expect(response.status).toBe(400);
    expect(detailPaths(response)).toEqual([path]);
    await expectServing();
  });
});

/** Every route, with its path parameters filled by `value`. */
const everyRoute = (value: string) => ROUTES.map((route) => ({ method: route.method, path: route.path.replace(/\{\w+\}/g, value) }));

describe('client-chosen names such as __proto__ and constructor are ordinary names', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('answers 400 naming an unknown query parameter %s on the list', async (name) => {
    const response = await rawRequest(stack.url, { method: 'GET', path: `/v1/clusters?${name}=1`, headers: [auth()] });

    expect(response.status).toBe(400);
    expect(detailPaths(response)).toEqual([name]);
  });

  it.each(everyRoute(randomUUID()))('answers $method $path with __proto__ and constructor headers as without them', async ({ method, path }) => {
    const body = method === 'POST' ? '{}' : undefined;
    const plain = await rawRequest(stack.url, { method, path, headers: [auth(), jsonType], ...(body ? { body } : {}) });

    const hostile = await rawRequest(stack.url, {
      method,
      path,
      headers: [auth(), jsonType, ['constructor', 'x'], ['__proto__', 'x'], ['toString', 'x']],
      ...(body ? { body } : {}),
    });

    expect(plain.status).toBeLessThan(500);
    expect(hostile.status).toBe(plain.status);
  });
});

describe('a path parameter that is not valid percent-encoding', () => {
  const routes = ROUTES.filter((route) => route.path.includes('{'));

  it.each(routes.flatMap((route) => ['%E0%A4%A', '%', '%zz', '%FF%FE'].map((value) => ({ method: route.method, path: route.path, value }))))(
    'is a 400 naming the parameter: $method $path with $value',
    async ({ method, path, value }) => {
      const parameter = /\{(\w+)\}/.exec(path)?.[1];

      const response = await rawRequest(stack.url, { method, path: path.replace(/\{\w+\}/, value), headers: [auth()] });

      expect(response.status).toBe(400);
      expect(detailPaths(response)).toEqual([parameter]);
    },
  );

  it('is refused before authentication, as a gateway refuses a request it cannot read', async () => {
    const response = await rawRequest(stack.url, { method: 'GET', path: '/v1/clusters/%zz' });

    expect(response.status).toBe(400);
  });
});

describe('a body over API Gateway’s 10 MiB', () => {
  it('is answered 413 Request Too Long, which the client receives', async () => {
    const response = await rawRequest(stack.url, { method: 'POST', path: '/v1/clusters', headers: [auth(), jsonType], body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20) });

    expect(response.status).toBe(413);
    expect(response.json).toEqual({ message: 'Request Too Long' });
    await expectServing();
  });
});
