/**
 * The service's REST API: every route of `infra/routes.ts` behind the token authorizer, on one
 * throttled and logged `prod` stage.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ROUTES, type RouteDefinition } from '../routes.ts';

export interface ServiceApiProps {
  /** The authorizer and the function behind each route. */
  readonly functions: Readonly<Record<'authorizer' | RouteDefinition['function'], lambda.IFunction>>;
  /** Retention of the API's log groups. */
  readonly logRetention: logs.RetentionDays;
  /** Steady-state requests per second each method accepts before answering 429. */
  readonly throttlingRateLimit: number;
  /** Requests a method accepts at once above the steady rate. */
  readonly throttlingBurstLimit: number;
}

/**
 * Builds the API directly in `scope` (the stack) rather than in a construct of its own: a parent
 * construct would change the logical ids, and a new RestApi resource is a new URL.
 */
export const serviceApi = (scope: Construct, props: ServiceApiProps): apigateway.RestApi => {
  const { functions } = props;
  // Tokens arrive in `Authorization` or in `x-api-key`. API Gateway answers 401 without calling
  // the authorizer when any listed identity source is absent, so listing either header would lock
  // out callers using the other; with no sources caching must be off, and every request is
  // authorized afresh (a revoked token stops working at once).
  const authorizer = new apigateway.RequestAuthorizer(scope, 'ApiAuthorizer', {
    handler: functions.authorizer,
    identitySources: [],
    resultsCacheTtl: Duration.seconds(0),
  });

  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogGroup', { retention: props.logRetention });
  const api = new apigateway.RestApi(scope, 'Api', {
    restApiName: 'cluster-service',
    description: 'Cluster provisioning API (compat /backend and native /v1)',
    endpointTypes: [apigateway.EndpointType.REGIONAL],
    // Access logging needs the account-level CloudWatch role; it is one setting per account and region.
    cloudWatchRole: true,
    deployOptions: {
      stageName: 'prod',
      tracingEnabled: true,
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
    },
    // On every method, so a route added later cannot be left open by omission.
    defaultMethodOptions: { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM },
  });

  for (const route of ROUTES) {
    api.root.resourceForPath(route.path).addMethod(route.method, new apigateway.LambdaIntegration(functions[route.function]));
  }
  return api;
};
