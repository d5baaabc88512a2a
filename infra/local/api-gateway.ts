/**
 * API Gateway REST emulation on node:http: the same routes as the CDK stack, the real REQUEST
 * authorizer first, handlers called with proxy events, their results mapped back to HTTP.
 * What API Gateway itself answers (401 Unauthorized, 403 Missing Authentication Token for an
 * unknown route, 413 over its payload limit, 500 when the authorizer breaks) is answered with
 * API Gateway's own bodies; a path parameter that is not valid percent-encoding is a 400 in the
 * service's envelope naming the parameter (docs/decisions.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { errorBody } from '#lib/http';
import { logger } from '#lib/logger';
import { invokeLocally } from './invocations.ts';

const API_ID = 'local';
const STAGE = 'prod';
/** API Gateway's own payload limit; handlers enforce the service's smaller one. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** API Gateway's integration timeout. */
const INTEGRATION_TIMEOUT_MS = 29_000;
const AUTHORIZER_TIMEOUT_MS = 5_000;

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type RequestAuthorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export interface LocalRoute {
  method: string;
  /** Resource path with `{name}` parameters, as in API Gateway. */
  path: string;
  functionName: string;
  handler: ProxyHandler;
  /** false only for the local-only inspection routes. */
  authorize: boolean;
}

interface CompiledRoute extends LocalRoute {
  pattern: RegExp;
  params: string[];
}

const compile = (route: LocalRoute): CompiledRoute => {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      if (!param?.[1]) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      params.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}$`), params };
};

const awsMessage = (res: ServerResponse, statusCode: number, message: string | null, headers: Record<string, string> = {}) => {
  res.writeHead(statusCode, { 'Content-Type': 'application/json', 'x-amzn-RequestId': randomUUID(), ...headers });
  res.end(JSON.stringify({ message }));
};

/**
 * The body, or null when it is over API Gateway's limit. Past the limit the rest is still read
 * (and dropped): a client still sending would otherwise have its connection reset before it
 * reads the 413.
 */
const readBody = (req: IncomingMessage): Promise<Buffer | null> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });

// Names are the client's: maps without a prototype keep `__proto__` or `constructor` an
// ordinary key, as it is in the JSON event API Gateway sends to Lambda.
const emptyMap = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

const headerMaps = (req: IncomingMessage) => {
  const headers = emptyMap<string>();
  const multiValueHeaders = emptyMap<string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
};

const queryMaps = (url: URL) => {
  const single = emptyMap<string>();
  const multi = emptyMap<string[]>();
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  return Object.keys(single).length > 0 ? { single, multi } : { single: null, multi: null };
};

/** The path's parameters decoded, or the name of the first one that is not valid percent-encoding. */
const decodeParameters = (names: string[], values: string[]): { parameters: Record<string, string> } | { invalid: string } => {
  const parameters = emptyMap<string>();
  for (const [i, name] of names.entries()) {
    try {
      parameters[name] = decodeURIComponent(values[i] ?? '');
    } catch {
      return { invalid: name };
    }
  }
  return { parameters };
};

export interface LocalApiOptions {
  routes: LocalRoute[];
  authorizer: RequestAuthorizer;
  /** Requests that match no route (after the API's own), e.g. the console's static pages. */
  fallback?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

export const createLocalApi = (options: LocalApiOptions): Server => {
  const routes = options.routes.map(compile);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // API Gateway REST routes `/a/b/` to the resource `/a/b`.
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    let matched: { route: CompiledRoute; values: string[] } | null = null;
    for (const route of routes) {
      const match = route.method === method ? route.pattern.exec(path) : null;
      if (match) {
        matched = { route, values: match.slice(1) };
        break;
      }
    }
    if (!matched) {
      if (options.fallback && (await options.fallback(req, res, url))) return;
      // What API Gateway answers for a path or method it has no resource for.
      awsMessage(res, 403, 'Missing Authentication Token');
      return;
    }
    const { route } = matched;
    const body = await readBody(req);
    if (body === null) {
      awsMessage(res, 413, 'Request Too Long');
      return;
    }
    const decoded = decodeParameters(route.params, matched.values);
    if ('invalid' in decoded) {
      // A request the gateway cannot read is refused before anyone is asked who sent it.
      res.writeHead(400, { 'Content-Type': 'application/json', 'x-amzn-RequestId': randomUUID() });
      res.end(JSON.stringify(errorBody('ValidationError', `the path parameter ${decoded.invalid} is not valid percent-encoding`, [{ path: decoded.invalid, message: 'is not valid percent-encoding' }])));
      return;
    }
    const pathParameters = decoded.parameters;
    const { headers, multiValueHeaders } = headerMaps(req);
    const query = queryMaps(url);
    const requestId = randomUUID();
    const methodArn = `arn:aws:execute-api:local:000000000000:${API_ID}/${STAGE}/${method}${path}`;
    const started = Date.now();

    let authorizerContext: Record<string, unknown> | null = null;
    if (route.authorize) {
      let result: APIGatewayAuthorizerResult;
      try {
        result = await invokeLocally('authorizer', AUTHORIZER_TIMEOUT_MS, () => options.authorizer({
          type: 'REQUEST',
          methodArn,
          resource: route.path,
          path,
          httpMethod: method,
          headers,
          multiValueHeaders,
          pathParameters,
          queryStringParameters: query.single,
          multiValueQueryStringParameters: query.multi,
          stageVariables: null,
          requestContext: { requestId, stage: STAGE, apiId: API_ID, resourcePath: route.path, httpMethod: method } as APIGatewayRequestAuthorizerEvent['requestContext'],
        }));
      } catch (error) {
        if (error instanceof Error && error.message === 'Unauthorized') {
          awsMessage(res, 401, 'Unauthorized');
        } else {
          logger.error('authorizer failed', { error });
          awsMessage(res, 500, null, { 'x-amzn-ErrorType': 'AuthorizerConfigurationException' });
        }
        return;
      }
      const allowed = result.policyDocument.Statement.some((statement) => {
        if (statement.Effect !== 'Allow' || !('Resource' in statement)) return false;
        const resources = ([] as string[]).concat(statement.Resource as string | string[]);
        return resources.some((resource) => new RegExp(`^${resource.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(methodArn));
      });
      if (!allowed) {
        awsMessage(res, 403, 'User is not authorized to access this resource with an explicit deny');
        return;
      }
      authorizerContext = { ...(result.context ?? {}), principalId: result.principalId, integrationLatency: Date.now() - started };
    }

    const event = {
      resource: route.path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: query.single,
      multiValueQueryStringParameters: query.multi,
      pathParameters: route.params.length > 0 ? pathParameters : null,
      stageVariables: null,
      requestContext: {
        accountId: '000000000000',
        apiId: API_ID,
        authorizer: authorizerContext,
        domainName: req.headers.host ?? 'localhost',
        httpMethod: method,
        identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? null },
        path: `/${STAGE}${path}`,
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
        requestTimeEpoch: started,
        resourceId: route.path,
        resourcePath: route.path,
        stage: STAGE,
      },
      body: body.length > 0 ? body.toString('utf8') : null,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEvent;

    const result = await invokeLocally(route.functionName, INTEGRATION_TIMEOUT_MS, async (context) => {
      try {
        return await route.handler(event, context);
      } catch (error) {
        logger.error('handler failed', { error, route: route.path });
        return null;
      }
    });
    if (!result) {
      // A Lambda that throws instead of answering: API Gateway's 502.
      awsMessage(res, 502, 'Internal server error');
      return;
    }
    const responseHeaders: Record<string, string | string[]> = { 'x-amzn-RequestId': requestId };
    for (const [name, value] of Object.entries(result.headers ?? {})) responseHeaders[name] = String(value);
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) responseHeaders[name] = values.map(String);
    res.writeHead(result.statusCode, responseHeaders);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  };

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('local API failed', { error });
      if (!res.headersSent) awsMessage(res, 500, 'Internal server error');
      else res.end();
    });
  });
};
