/**
 * The service's REST API: every route of `infra/routes.ts` behind the token authorizer, on one
 * throttled and logged `prod` stage.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RequestBodyName } from '../../functions/lib/openapi.ts';
import { ROUTES, type RouteDefinition } from '../routes.ts';
import { acknowledge, acknowledgeManagedPolicy } from './nag.ts';
import { requestModelSchema } from './request-models.ts';

const STAGE_NAME = 'prod';

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
    // Access and execution logging need the account-level CloudWatch role; it is one setting per account and region.
    cloudWatchRole: true,
    deployOptions: {
      stageName: STAGE_NAME,
      tracingEnabled: true,
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      // Errors only: the access log already has a line per request. No data trace, which would log
      // the headers, tokens included.
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
    },
    // On every method, so a route added later cannot be left open by omission.
    defaultMethodOptions: { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM },
  });
  // API Gateway writes execution logs to a group of this name, and makes it with no retention if
  // it is missing: made here first, with one.
  const executionLogs = new logs.LogGroup(scope, 'ApiExecutionLogGroup', {
    logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${STAGE_NAME}`,
    retention: props.logRetention,
    // Named after the API's id, so nothing else can want the name once the API is gone.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  api.deploymentStage.node.addDependency(executionLogs);

  const models = new Map<RequestBodyName, apigateway.Model>();
  const modelOf = (name: RequestBodyName): apigateway.Model => {
    const model = models.get(name) ?? api.addModel(`${name}Model`, { modelName: name, contentType: 'application/json', schema: requestModelSchema(name) });
    models.set(name, model);
    return model;
  };
  for (const route of ROUTES) {
    const method = api.root.resourceForPath(route.path).addMethod(route.method, new apigateway.LambdaIntegration(functions[route.function]), {
      ...(route.body ? { requestModels: { 'application/json': modelOf(route.body) } } : {}),
    });
    acknowledge(method, 'COG4', 'callers present the service\'s own tokens (Authorization: Token, or x-api-key), checked by the REQUEST authorizer; there are no Cognito users');
  }

  acknowledge(
    api,
    'APIG2',
    'bodies are validated by the handlers, with the zod schemas the models are made from: a gateway validator would answer {"message": "Invalid request body"} ' +
      'instead of the documented error envelope naming each field, and 400 where the contract says 415 or 413 (docs/decisions.md, "cdk-nag")',
  );
  acknowledgeManagedPolicy(
    api,
    iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
    'the account-level role API Gateway logs through, shared by every REST API of the account and region: narrowed to this stack\'s log groups, it would cut the others\' logs',
  );
  acknowledge(
    api.deploymentStage,
    'APIG3',
    'every request is authorized by token and throttled per method; a WAF web ACL is an account\'s choice (and cost), associated with the stage\'s ARN after deployment',
  );
  return api;
};
