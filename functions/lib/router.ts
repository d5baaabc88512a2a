/**
 * One Lambda function serves several routes of a family; API Gateway tells which by the
 * method and the resource path it matched.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorBody, json } from './http.ts';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export const router =
  (routes: Record<string, ProxyHandler>): ProxyHandler =>
  async (event, context) => {
    const handler = routes[`${event.httpMethod} ${event.resource}`];
    if (!handler) return json(404, errorBody('NotFound', `no route for ${event.httpMethod} ${event.resource}`));
    return handler(event, context);
  };
