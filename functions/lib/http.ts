/**
 * The REST handlers' shared middy chain and error envelope (design.md §5):
 * `{"error": {"code", "message", "details": [{"path", "message"}]}}`.
 *
 * Order: header normalizer → body size limit → JSON body parser → schema validation →
 * logger context → error envelope (attached last, so it answers first on error).
 */
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
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

export type ApiEvent<TBody = unknown> = Omit<APIGatewayProxyEvent, 'body'> & { body: TBody };
export type ApiHandler<TBody = unknown> = (event: ApiEvent<TBody>, context: Context) => Promise<APIGatewayProxyResult>;

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

const valueAt = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), input);

/** zod issues as envelope details, one per offending field; `input` tells a missing field from a bad one. */
export const issuesToDetails = (issues: readonly z.core.$ZodIssue[], input?: unknown): ErrorDetail[] =>
  issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: base ? `${base}.${key}` : key, message: 'is not a known field' }));
    }
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return [{ path: base || '(body)', message: missing ? 'is required' : issue.message }];
  });

const bodyLimit = (maxBytes: number): MiddlewareObj<APIGatewayProxyEvent> => ({
  before: ({ event }) => {
    if (event.body == null) return;
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLarge(`the body is ${bytes} bytes; the limit is ${maxBytes}`, [{ path: '(body)', message: `must not be larger than ${maxBytes} bytes` }]);
  },
});

const validateBody = (schema: z.ZodType): MiddlewareObj<ApiEvent> => ({
  before: (request) => {
    const result = schema.safeParse(request.event.body);
    if (!result.success) {
      const details = issuesToDetails(result.error.issues, request.event.body);
      throw new ValidationError(`invalid request: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
    }
    request.event.body = result.data;
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

export interface HttpHandlerOptions {
  /** Parses and validates a JSON body with this schema. */
  body?: z.ZodType;
}

/** Wraps a plain handler in the service's middy chain. */
export const httpHandler = <TBody>(handler: ApiHandler<TBody>, options: HttpHandlerOptions = {}) => {
  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(httpHeaderNormalizer());
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
