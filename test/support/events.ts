/** API Gateway proxy events as API Gateway sends them behind the REQUEST authorizer. */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export const proxyEvent = (options: {
  method?: string;
  path?: string;
  /** The API Gateway resource the request matched (the route); `path` when absent. */
  resource?: string;
  query?: Record<string, string>;
  body?: string | null;
  headers?: Record<string, string>;
  project?: string | null;
  pathParameters?: Record<string, string> | null;
}): APIGatewayProxyEvent =>
  ({
    resource: options.resource ?? options.path ?? '/',
    path: options.path ?? '/',
    httpMethod: options.method ?? 'GET',
    headers: options.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    requestContext: { authorizer: options.project === null ? null : { project: options.project ?? 'alpha', principalId: 'project:alpha' } },
    body: options.body ?? null,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEvent;

export const lambdaContext = { functionName: 'test', awsRequestId: 'test-request', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
