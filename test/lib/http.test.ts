import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NotFound } from '#domain/errors';
import { httpHandler, json, MAX_BODY_BYTES } from '#lib/http';

const context = { functionName: 'test', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

const event = (overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent =>
  ({
    httpMethod: 'POST',
    resource: '/things',
    path: '/things',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { authorizer: { project: 'alpha' } },
    body: null,
    isBase64Encoded: false,
    ...overrides,
  }) as unknown as APIGatewayProxyEvent;

const body = (response: { body: string }) => JSON.parse(response.body) as { error: { code: string; message: string; details: { path: string }[] } };

const bodySchema = z.strictObject({ name: z.string().min(1), size: z.number().int().optional() });
const querySchema = z.strictObject({ verbose: z.enum(['true', 'false']).optional() });
const echo = httpHandler<z.infer<typeof bodySchema>, z.infer<typeof querySchema>>(
  async (request) => json(200, { body: request.body, query: request.query }),
  { body: bodySchema, query: querySchema },
);
const noQuery = httpHandler(async () => json(200, {}));

describe('the shared HTTP handler chain', () => {
  it('hands the handler the parsed body and the validated query', async () => {
    const response = await echo(event({ body: '{"name":"a","size":2}', queryStringParameters: { verbose: 'true' } }), context);

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ body: { name: 'a', size: 2 }, query: { verbose: 'true' } });
  });

  it('answers 400 naming every field the body gets wrong, missing ones as required', async () => {
    const response = await echo(event({ body: '{"size":"big","colour":"red"}' }), context);

    expect(response.statusCode).toBe(400);
    expect(body(response).error.code).toBe('ValidationError');
    expect(body(response).error.details.map((d) => d.path).sort()).toEqual(['colour', 'name', 'size']);
  });

  it.each([
    ['a parameter the route does not take', { verbos: 'true' }, 'verbos'],
    ['a bad value', { verbose: 'yes' }, 'verbose'],
    ['a prototype name', JSON.parse('{"__proto__":"x"}') as Record<string, string>, '__proto__'],
  ])('answers 400 naming the query parameter for %s', async (_case, query, path) => {
    const response = await echo(event({ body: '{"name":"a"}', queryStringParameters: query }), context);

    expect(response.statusCode).toBe(400);
    expect(body(response).error.details.map((d) => d.path)).toEqual([path]);
  });

  it('refuses any query parameter on a route that declares none', async () => {
    const response = await noQuery(event({ httpMethod: 'GET', queryStringParameters: { limit: '1' } }), context);

    expect(response.statusCode).toBe(400);
    expect(body(response).error.details.map((d) => d.path)).toEqual(['limit']);
  });

  it('answers 413 naming the body past the size limit, before parsing it', async () => {
    const response = await echo(event({ body: `{"name":"${'a'.repeat(MAX_BODY_BYTES)}"}` }), context);

    expect(response.statusCode).toBe(413);
    expect(body(response).error.details.map((d) => d.path)).toEqual(['(body)']);
  });

  it('answers 415 naming Content-Type for a body that is not declared JSON', async () => {
    const response = await echo(event({ headers: { 'Content-Type': 'text/plain' }, body: '{"name":"a"}' }), context);

    expect(response.statusCode).toBe(415);
    expect(body(response).error.details.map((d) => d.path)).toEqual(['Content-Type']);
  });

  it('answers 400 MalformedJson for a body that is not JSON', async () => {
    const response = await echo(event({ body: '{"name":' }), context);

    expect(response.statusCode).toBe(400);
    expect(body(response).error.code).toBe('MalformedJson');
  });

  it('answers a domain error with its own status and code', async () => {
    const handler = httpHandler(async () => {
      throw new NotFound('cluster x not found');
    });

    const response = await handler(event({ httpMethod: 'GET' }), context);

    expect(response.statusCode).toBe(404);
    expect(body(response).error).toEqual({ code: 'NotFound', message: 'cluster x not found', details: [] });
  });

  it('answers anything else as a 500 with a generic message, never the cause', async () => {
    const handler = httpHandler(async () => {
      throw new Error('connection string postgres://secret@db');
    });

    const response = await handler(event({ httpMethod: 'GET' }), context);

    expect(response.statusCode).toBe(500);
    expect(body(response).error.code).toBe('InternalError');
    expect(response.body).not.toContain('secret');
  });
});
