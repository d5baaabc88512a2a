/**
 * The service's REST API: every route of `infra/routes.ts` behind the token authorizer, on one
 * throttled and logged `prod` stage.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RequestBodyName } from '../../../functions/lib/openapi.ts';
import { ROUTES, type RouteDefinition } from '../../routes.ts';
import { acknowledge, acknowledgeManagedPolicy } from '../nag.ts';
import { requestModelSchema } from '../request-models.ts';

const STAGE_NAME = 'prod';

export interface ServiceApiProps {
  /** The authorizer and the function behind each route. */
  readonly functions: Readonly<Record<'authorizer' | RouteDefinition['function'], lambda.IFunction>>;
  /**
   * Retention of the API's access and execution logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Steady-state requests per second each method accepts before answering 429.
   *
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests a method accepts at once above the steady rate.
   *
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
}

/**
 * The authorizer and the log groups are made beside the API, as `<id>Authorizer`,
 * `<id>AccessLogGroup` and `<id>ExecutionLogGroup`: the first two before it, since its props
 * name them, and the execution log group after it, since its name holds the API's id. They are
 * where they were before the API was a construct of its own: the execution log group is named,
 * and a named group cannot be made a second time under a new logical id.
 */
export class ServiceApi extends apigateway.RestApi {
  public readonly authorizer: apigateway.RequestAuthorizer;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly executionLogGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: ServiceApiProps) {
    const { functions } = props;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    // Tokens arrive in `Authorization` or in `x-api-key`. API Gateway answers 401 without calling
    // the authorizer when any listed identity source is absent, so listing either header would lock
    // out callers using the other; with no sources caching must be off, and every request is
    // authorized afresh (a revoked token stops working at once).
    const authorizer = new apigateway.RequestAuthorizer(scope, `${id}Authorizer`, {
      handler: functions.authorizer,
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    const accessLogGroup = new logs.LogGroup(scope, `${id}AccessLogGroup`, { retention: logRetention });

    super(scope, id, {
      restApiName: 'cluster-service',
      description: 'Cluster provisioning API (compat /backend and native /v1)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Access and execution logging need the account-level CloudWatch role; it is one setting per account and region.
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE_NAME,
        tracingEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        // Errors only: the access log already has a line per request. No data trace, which would log
        // the headers, tokens included.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
      // On every method, so a route added later cannot be left open by omission.
      defaultMethodOptions: { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM },
    });
    this.authorizer = authorizer;
    this.accessLogGroup = accessLogGroup;
    // API Gateway writes execution logs to a group of this name, and makes it with no retention if
    // it is missing: made here first, with one.
    this.executionLogGroup = new logs.LogGroup(scope, `${id}ExecutionLogGroup`, {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApiId}/${STAGE_NAME}`,
      retention: logRetention,
      // Named after the API's id, so nothing else can want the name once the API is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deploymentStage.node.addDependency(this.executionLogGroup);

    const models = new Map<RequestBodyName, apigateway.Model>();
    const modelOf = (name: RequestBodyName): apigateway.Model => {
      const model = models.get(name) ?? this.addModel(`${name}Model`, { modelName: name, contentType: 'application/json', schema: requestModelSchema(name) });
      models.set(name, model);
      return model;
    };
    for (const route of ROUTES) {
      const byNode = route.caller === 'node';
      const method = this.root.resourceForPath(route.path).addMethod(route.method, new apigateway.LambdaIntegration(functions[route.function]), {
        ...(route.body ? { requestModels: { 'application/json': modelOf(route.body) } } : {}),
        // A node holds no project token: its function checks the cluster's node secret itself.
        // (NONE without an authorizer is what leaves the default one off.)
        ...(byNode ? { authorizationType: apigateway.AuthorizationType.NONE } : {}),
      });
      if (byNode) {
        acknowledge(
          method,
          'APIG4',
          'called by a cluster\'s nodes, which hold no project token: the function checks the cluster\'s node secret (HMAC of the cluster id, constant-time) before it reads anything',
        );
      }
      acknowledge(
        method,
        'COG4',
        byNode
          ? 'called by a cluster\'s nodes with their node secret, checked by the function; there are no Cognito users'
          : 'callers present the service\'s own tokens (Authorization: Token, or x-api-key), checked by the REQUEST authorizer; there are no Cognito users',
      );
    }

    acknowledge(
      this,
      'APIG2',
      'bodies are validated by the handlers, with the zod schemas the models are made from: a gateway validator would answer {"message": "Invalid request body"} ' +
        'instead of the documented error envelope naming each field, and 400 where the contract says 415 or 413 (docs/decisions.md, "cdk-nag")',
    );
    acknowledgeManagedPolicy(
      this,
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      'the account-level role API Gateway logs through, shared by every REST API of the account and region: narrowed to this stack\'s log groups, it would cut the others\' logs',
    );
    acknowledge(
      this.deploymentStage,
      'APIG3',
      'every request is authorized by token and throttled per method; a WAF web ACL is an account\'s choice (and cost), associated with the stage\'s ARN after deployment',
    );
  }

  /** The stage's base URL from the API's id alone, with no dependency on its deployment. */
  public stageUrl(): string {
    return `https://${this.restApiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${STAGE_NAME}`;
  }
}
