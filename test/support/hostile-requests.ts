/**
 * Generators (fast-check) of requests no client should send: wrong types, huge and deep values,
 * prototype names as keys, header, query and path-encoding abuse, odd methods, oversize bodies.
 * Every generated create body is invalid in at least one way, so a service that answers them
 * rightly creates nothing. Request lines and headers stay under Node's 16 KB, past which its
 * HTTP parser answers 431 before any of the service's code runs.
 */
import { METHODS } from 'node:http';
import fc from 'fast-check';
import { DETAIL_TYPES } from '#domain/events';
import { ROUTES } from '../../infra/routes.ts';
import { seedRequest } from './clusters.ts';
import { nativeBody } from './http.ts';
import type { RawRequest } from './raw-http.ts';

/** Names that are properties of every plain object. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

/** The query parameters each route takes; any other is a 400 naming it. */
export const QUERY_PARAMETERS: Record<string, string[]> = {
  'POST /v1/clusters': ['dryRun'],
  'GET /v1/clusters': ['limit', 'nextToken', 'status'],
  'GET /backend/lambda-instances': ['limit', 'nextToken'],
};

/** The local-only routes: no token, no query of their own. */
const LOCAL_ROUTES = [
  { method: 'POST', path: '/_local/events' },
  { method: 'GET', path: '/_local/events' },
  { method: 'GET', path: '/_local/cloud/servers' },
];

export const CREATE_ROUTES = new Set(['POST /v1/clusters', 'POST /backend/create_lambda_instance']);

export type Auth = 'token' | 'api-key' | 'none' | 'garbage' | 'twice';

export interface HostileRequest {
  raw: RawRequest;
  auth: Auth;
  /** The route it was made for (the method may have been changed since). */
  route: { method: string; path: string; local: boolean };
}

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
const identifier = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/);

/** Percent-encoding no decoder can read. */
export const BAD_ENCODINGS = ['%', '%zz', '%E0%A4%A', '%FF%FE', '%C0%AF', '%e2%82', 'a%', '%%41'];

/** A JSON array nested `depth` levels. */
export const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const deepJson = fc.integer({ min: 50, max: 30_000 }).map(nested);

/**
 * A value nested too deep for JSON.stringify (of this test, not only of the service) stands in
 * the generated value as a marker, and is spelled out in the JSON text (`toJson`).
 */
const deepValue = fc.integer({ min: 50, max: 30_000 }).map((depth) => `__nested_${depth}__`);

/** The JSON text of a generated value, deep markers spelled out. */
export const toJson = (value: unknown): string => JSON.stringify(value).replace(/"__nested_(\d+)__"/g, (_, depth: string) => nested(Number(depth)));

/** Values no scalar field, list of objects or strict object of the schemas accepts. */
const nonScalar: fc.Arbitrary<unknown> = fc.oneof(
  deepValue,
  fc.constantFrom(...PROTOTYPE_NAMES).map((name) => Object.defineProperty({}, name, { value: { polluted: true }, enumerable: true })),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 })),
);

/** An object with an own key `name`, even `__proto__` (which an object literal would make the prototype). */
const withKey = (target: Record<string, unknown>, name: string, value: unknown) => {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  return target;
};

type Mutation = (body: Record<string, unknown>) => void;

/** Changes that make a create body invalid, whatever else it holds. */
const breakingMutation = (fields: string[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES, 'dryrun', 'color'), identifier.map((name) => `x_${name}`)), fc.jsonValue({ maxDepth: 3 })).map(
      ([name, value]): Mutation =>
        (body) => withKey(body, name, value),
    ),
    fc.tuple(fc.constantFrom(...fields), nonScalar).map(([field, value]): Mutation => (body) => withKey(body, field, value)),
    fc.constantFrom(...fields).map((field): Mutation => (body) => void delete body[field]),
  );

/** Nested strict objects of the native body get unknown keys too. */
const nestedMutation: fc.Arbitrary<Mutation> = fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), fc.jsonValue({ maxDepth: 2 })).map(
  ([name, value]): Mutation =>
    (body) => {
      const groups = body.nodeGroups;
      if (Array.isArray(groups) && groups[0] && typeof groups[0] === 'object') withKey(groups[0] as Record<string, unknown>, name, value);
    },
);

/** Create bodies as text: a valid body broken at least once, or no object at all. */
const createBody = (compat: boolean): fc.Arbitrary<string> => {
  const base = () => (compat ? (seedRequest() as unknown as Record<string, unknown>) : nativeBody(1));
  const fields = Object.keys(base());
  const broken = fc
    .tuple(breakingMutation(fields), fc.array(compat ? breakingMutation(fields) : fc.oneof(breakingMutation(fields), nestedMutation), { maxLength: 2 }))
    .map(([first, more]) => {
      const body = base();
      for (const mutate of [first, ...more]) mutate(body);
      return toJson(body);
    });
  return fc.oneof(
    { arbitrary: broken, weight: 6 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).filter((value) => value === null || typeof value !== 'object' || Array.isArray(value)).map((value) => JSON.stringify(value)), weight: 1 },
    { arbitrary: deepJson, weight: 1 },
    { arbitrary: fc.constantFrom('', '{', '{"name": ', 'null', '[]', '{}', '\u0000\u00ff', '{"a":1}{"b":2}'), weight: 1 },
    // Over the service's 64 KiB: a 413 from the handler, in the envelope.
    { arbitrary: fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }).map((size) => JSON.stringify({ ...base(), name: 'x'.repeat(size) })), weight: 1 },
  );
};

/** A Detail: JSON objects, deep or huge text, or no JSON at all. */
const detail: fc.Arbitrary<string> = fc.oneof(
  fc.object({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.integer({ min: 1, max: 6000 }).map((depth) => `{"project":"local","a":${nested(depth)}}`),
  fc.integer({ min: 250 * 1024, max: 300 * 1024 }).map((size) => JSON.stringify({ project: 'local', a: 'x'.repeat(size) })),
  fc.constantFrom('', '{not json', '[]', '5', 'null', '{"project":"local","__proto__":{"x":1}}'),
);

const entry: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(null, 5, 'entry', [], true), weight: 1 },
  {
    arbitrary: fc
      .record(
        {
          Source: fc.oneof(fc.constantFrom('acme', ''), nonScalar),
          DetailType: fc.oneof(fc.constantFrom(DETAIL_TYPES.createRequested, 'Something Else', ''), nonScalar),
          Detail: fc.oneof({ arbitrary: detail, weight: 4 }, { arbitrary: nonScalar, weight: 1 }),
          EventBusName: fc.oneof(fc.constantFrom('cluster-service', 'default', 'nope'), nonScalar),
          Resources: fc.oneof(fc.array(printable, { maxLength: 3 }), nonScalar),
          Time: fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }), fc.constantFrom(-1, 1e300, 'now')),
          TraceHeader: fc.oneof(printable, fc.constant('x'.repeat(600))),
        },
        { requiredKeys: ['Source', 'DetailType'] },
      )
      .chain((fields) =>
        fc
          .oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), fc.jsonValue({ maxDepth: 2 })), weight: 1 })
          .map((extra) => (extra ? withKey({ ...fields }, extra[0], extra[1]) : fields)),
      ),
    weight: 5,
  },
);

/** PutEvents bodies: well-formed and not, entries of every shape. */
export const putEventsBody: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.array(entry, { minLength: 1, maxLength: 3 }).map((entries) => toJson({ Entries: entries })), weight: 6 },
  { arbitrary: fc.constantFrom(0, 11).map((count) => JSON.stringify({ Entries: Array.from({ length: count }, () => ({ Source: 'x', DetailType: 'x', Detail: '{}' })) })), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES, 'EndpointId'), fc.jsonValue({ maxDepth: 2 })).map(([name, value]) => toJson(withKey({ Entries: [] }, name, value))), weight: 1 },
  { arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)), deepJson, fc.constantFrom('', '{', '{"Entries":')), weight: 2 },
);

/** Values for a path parameter: ordinary ids, names and encodings no decoder can read. */
const parameterValue: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.constantFrom(...BAD_ENCODINGS),
  fc.constantFrom(...PROTOTYPE_NAMES, '..', '%2e%2e', '%2F', '%00', 'null', 'undefined'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.integer({ min: 300, max: 2000 }).map((length) => 'a'.repeat(length)),
);

/** Garbage page tokens: none was made by the service, so each is a 400 naming nextToken. */
export const garbageNextToken: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('e30', 'eyJwayI6IkNMVVNURVIjeCJ9', 'null', '', 'x'.repeat(3000), '%zz'),
  fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value)).toString('base64url')),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
);

const queryValue: Record<string, fc.Arbitrary<string>> = {
  limit: fc.constantFrom('5', '0', '-1', '101', '1e400', 'NaN', 'abc', ' 5', '5.5', '0x10', ''),
  status: fc.constantFrom('ACTIVE', 'active', 'NOPE', '', '__proto__'),
  dryRun: fc.constantFrom('true', 'false', 'TRUE', '1', ''),
  nextToken: garbageNextToken,
};

/** A query string of known parameters (hostile values) and unknown ones (hostile names). */
const query = (known: string[]): fc.Arbitrary<[string, string][]> =>
  fc
    .tuple(
      fc.subarray(known).chain((names) => fc.tuple(...names.map((name) => (queryValue[name] ?? printable).map((value): [string, string] => [name, value])))),
      fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES, 'dryrun', 'Limit', 'next_token', '%zz', 'a%', ''), identifier), fc.oneof(printable, fc.constantFrom(...BAD_ENCODINGS))),
        { maxLength: 3 },
      ),
    )
    .map(([knownPairs, unknown]) => [...knownPairs, ...unknown]);

/** Pairs as a query string: names and values encoded, except the raw hostile encodings. */
const queryString = (pairs: [string, string][]) =>
  pairs.map(([name, value]) => [name, value].map((part) => (BAD_ENCODINGS.includes(part) ? part : encodeURIComponent(part))).join('=')).join('&');

const hostileHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.tuple(
    // Framing headers (Content-Length, Expect, Host…) are left alone: they change what HTTP reads, not what the service does.
    fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES, 'Idempotency-Key', 'X-Forwarded-For', 'Accept'), identifier.map((name) => `X-${name}`)),
    fc.oneof(printable, fc.constant('v'.repeat(1000)), fc.constantFrom(...PROTOTYPE_NAMES)),
  ),
  { maxLength: 4 },
);

const contentType = fc.oneof(
  { arbitrary: fc.constant<string | null>('application/json'), weight: 6 },
  { arbitrary: fc.constantFrom<string | null>(null, 'text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', '__proto__'), weight: 1 },
);

const authHeaders = (auth: Auth, token: string): [string, string][] =>
  ({
    token: [['Authorization', `Token ${token}`]],
    'api-key': [['x-api-key', token]],
    none: [],
    garbage: [['Authorization', 'Token wrongwrongwrongwrongwrong']],
    twice: [
      ['Authorization', `Token ${token}`],
      ['Authorization', `Token ${token}`],
    ],
  })[auth] as [string, string][];

const auth = fc.oneof(
  { arbitrary: fc.constant<Auth>('token'), weight: 7 },
  { arbitrary: fc.constantFrom<Auth>('api-key', 'none', 'garbage', 'twice'), weight: 3 },
);

/** Mostly none; else a method the HTTP parser knows, in place of the route's (CONNECT opens a tunnel instead). */
const oddMethod = fc.oneof(
  { arbitrary: fc.constant(null), weight: 6 },
  { arbitrary: fc.constantFrom(...METHODS.filter((method) => method !== 'CONNECT')), weight: 1 },
);

/** Every route; the lists, which take the most parameters, twice as often. */
const anyRoute = fc.constantFrom(
  ...[...ROUTES, ...ROUTES.filter((route) => route.method === 'GET' && !route.path.includes('{'))].map((route) => ({ method: route.method as string, path: route.path, local: false })),
  ...LOCAL_ROUTES.map((route) => ({ ...route, local: true })),
);

/** A request for any route, the service's or local mode's, made hostile in several ways at once. */
export const hostileRequest = (token: string): fc.Arbitrary<HostileRequest> =>
  fc
    .tuple(anyRoute, auth, oddMethod, fc.boolean(), hostileHeaders, contentType, parameterValue)
    .chain(([route, who, method, trailingSlash, headers, type, value]) => {
      const key = `${route.method} ${route.path}`;
      const body = route.path === '/_local/events' ? putEventsBody : CREATE_ROUTES.has(key) ? createBody(key.startsWith('POST /backend')) : fc.option(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), { freq: 2 });
      return fc.tuple(body, route.local ? fc.constant([] as [string, string][]) : query(QUERY_PARAMETERS[key] ?? [])).map(([text, pairs]): HostileRequest => {
        const path = route.path.replace(/\{\w+\}/g, value);
        const search = queryString(pairs);
        return {
          raw: {
            method: method ?? route.method,
            path: `${path}${trailingSlash ? '/' : ''}${search ? `?${search}` : ''}`,
            headers: [...authHeaders(who, token), ...(type ? [['Content-Type', type] as [string, string]] : []), ...headers],
            ...(text !== null ? { body: text } : {}),
          },
          auth: who,
          route,
        };
      });
    });
