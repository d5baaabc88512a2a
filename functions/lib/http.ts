/**
 * The REST handlers' shared middy chain and error envelope (docs/api.md, "Errors"):
 * `{"error": {"code", "message", "details": [{"path", "message"}]}}`.
 *
 * Order: header normalizer → query validation → body size limit → JSON body parser → schema
 * validation → logger context → error envelope (attached last, so it answers first on error).
 * Every route validates its query string, so a parameter no route knows (a misspelt `dryrun`)
 * is a 400 naming it, never silently ignored.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { issuesToDetails } from '#domain/validation';
import {
  DomainError,
  MalformedJson,
  PayloadTooLarge,
  UnsupportedMediaType,
  ValidationError,
  type ErrorDetail,
} from '#domain/errors';
import { logger } from './logger.ts';
import { flushMetrics } from './metrics.ts';
import { traceInvocations } from './tracer.ts';

export const MAX_BODY_BYTES = 64 * 1024;

/** A request after the chain: `body` parsed and validated, `query` the validated query string. */
export type ApiEvent<TBody = unknown, TQuery = Record<string, never>> = Omit<APIGatewayProxyEvent, 'body'> & { body: TBody; query: TQuery };
export type ApiHandler<TBody = unknown, TQuery = Record<string, never>> = (
  event: ApiEvent<TBody, TQuery>,
  context: Context,
) => Promise<APIGatewayProxyResult>;

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export const errorBody = (code: string, message: string, details: ErrorDetail[] = []) => ({
  error: { code, message, details },
});

class Unauthenticated extends DomainError {
  override readonly statusCode = 401;
}

/** The project the authorizer put into the request context. */
export const projectOf = (event: Pick<APIGatewayProxyEvent, 'requestContext'>): string => {
  const project: unknown = event.requestContext?.authorizer?.project;
  if (typeof project !== 'string' || project.length === 0) throw new Unauthenticated('no project in the authorizer context');
  return project;
};

const bodyLimit = (maxBytes: number): MiddlewareObj<APIGatewayProxyEvent> => ({
  before: ({ event }) => {
    if (event.body == null) return;
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLarge(`the body is ${bytes} bytes; the limit is ${maxBytes}`, [{ path: '(body)', message: `must not be larger than ${maxBytes} bytes` }]);
  },
});

/** `input` as `schema` parses it, or a 400 whose details name each offending field or parameter. */
const validated = (schema: z.ZodType, input: unknown, what: 'request' | 'query'): unknown => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = issuesToDetails(result.error.issues, input);
  throw new ValidationError(`invalid ${what}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
};

const validateBody = (schema: z.ZodType): MiddlewareObj<ApiEvent> => ({
  before: (request) => {
    request.event.body = validated(schema, request.event.body, 'request');
  },
});

/** A route's query schema: strict, so an unknown parameter is named in the 400. */
const NO_QUERY = z.strictObject({});

const validateQuery = (schema: z.ZodType): MiddlewareObj<ApiEvent> => ({
  before: (request) => {
    // API Gateway sends null for no query; a prototype-less copy keeps `__proto__` an ordinary key.
    const input: Record<string, unknown> = Object.assign(Object.create(null) as object, request.event.queryStringParameters ?? {});
    request.event.query = validated(schema, input, 'query') as Record<string, never>;
  },
});

/** Maps every error to the envelope; anything that is not a known error is a 500 with a generic message. */
const errorEnvelope = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    const error = request.error as (Error & { statusCode?: number; expose?: boolean }) | null | undefined;
    if (!error) return;
    let mapped: DomainError | null = null;
    if (error instanceof DomainError) mapped = error;
    else if (error.statusCode === 415) {
      mapped = new UnsupportedMediaType('the body must be JSON (Content-Type: application/json)', [{ path: 'Content-Type', message: 'must be application/json' }]);
    } else if (error.statusCode === 422) mapped = new MalformedJson('the body is not valid JSON', [{ path: '(body)', message: 'is not valid JSON' }]);
    if (mapped) {
      if (mapped.statusCode >= 500) logger.error('request failed', { error: mapped });
      request.response = json(mapped.statusCode, errorBody(mapped.name, mapped.message, mapped.details));
      return;
    }
    logger.error('unexpected error', { error });
    request.response = json(500, errorBody('InternalError', 'the service could not complete the request'));
  },
});

export interface HttpHandlerOptions<TQuery> {
  /** Parses and validates a JSON body with this schema. */
  body?: z.ZodType;
  /** Validates the query string with this (strict) schema; @default no parameters at all. */
  query?: z.ZodType<TQuery>;
  /**
   * For a route no authorizer is in front of: throws (an Unauthorized) before anything of the
   * request is read, so a caller without credentials learns nothing, not even what a body should be.
   */
  authenticate?: (headers: Record<string, string | undefined>) => void;
}

/** Wraps a plain handler in the service's middy chain. */
export const httpHandler = <TBody = unknown, TQuery = Record<string, never>>(
  handler: ApiHandler<TBody, TQuery>,
  options: HttpHandlerOptions<TQuery> = {},
) => {
  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(httpHeaderNormalizer());
  const { authenticate } = options;
  if (authenticate) chain.use({ before: (request) => authenticate(request.event.headers ?? {}) });
  chain.use(validateQuery(options.query ?? NO_QUERY) as MiddlewareObj<APIGatewayProxyEvent>);
  if (options.body) {
    chain
      .use(bodyLimit(MAX_BODY_BYTES))
      .use(httpJsonBodyParser())
      .use(validateBody(options.body) as MiddlewareObj<APIGatewayProxyEvent>);
  }
  chain.use(traceInvocations()).use(injectLambdaContext(logger, { resetKeys: true })).use(flushMetrics());
  return chain
    .use(errorEnvelope())
    .handler(handler as unknown as (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>);
};
