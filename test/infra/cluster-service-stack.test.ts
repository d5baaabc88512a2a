import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { REPO_ROOT } from '../../infra/aws/constructs/service-function.ts';
import { FUNCTIONS, ROUTES, STATE_MACHINES, type FunctionDefinition, type FunctionName, type FunctionSetting } from '../../infra/routes.ts';
import { WORKFLOW_KINDS, type WorkflowKind } from '../../functions/domain/workflow.ts';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/**
 * Actions IAM cannot scope to a resource; CDK adds them for X-Ray tracing, Step Functions logging
 * and reading a table's stream (ListStreams takes no resource).
 */
const UNSCOPABLE_ACTIONS = new Set([
  'dynamodb:ListStreams',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const aslFile = (kind: WorkflowKind) => path.join(REPO_ROOT, STATE_MACHINES[kind].file);

let app: App;
let stack: ClusterServiceStack;
let template: Template;

const idOf = (construct: IConstruct | undefined): string => stack.getLogicalId(construct?.node.defaultChild as CfnElement);
const logicalId = (name: FunctionName): string => idOf(stack.functions[name]);
const tableLogicalId = (): string => idOf(stack.table);
const stateMachineLogicalId = (kind: WorkflowKind = 'provision'): string => idOf(stack.stateMachines[kind]);

/** Every statement of the AWS::IAM::Policy resources attached to `roleId` (all of them when omitted). */
const policyStatements = (roleId?: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy') as Resources)
    .filter((policy) => {
      if (!roleId) return true;
      const roles = (policy.Properties?.Roles ?? []) as unknown[];
      return roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }));
    })
    .flatMap((policy) => (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);

const withoutUnscopable = (statements: Statement[]): Statement[] =>
  statements.filter((statement) => !asList(statement.Action).every((action) => UNSCOPABLE_ACTIONS.has(action)));

/**
 * The definition as deployed: the staged asset file with CloudFormation's substitutions applied
 * (each value rendered as its intrinsic, since only CloudFormation resolves it).
 */
const deployedDefinition = (kind: WorkflowKind): string => {
  const properties = (template.findResources('AWS::StepFunctions::StateMachine') as Resources)[idOf(stack.stateMachines[kind])]?.Properties;
  const location = properties?.DefinitionS3Location as { Key: string };
  const substitutions = (properties?.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  const staged = readFileSync(path.join(app.outdir, `asset.${location.Key}`), 'utf8');
  return staged.replace(/\$\{(\w+)\}/g, (placeholder, name: string) =>
    name in substitutions ? JSON.stringify(substitutions[name]).replaceAll('"', "'") : placeholder,
  );
};

/** Full resource paths of the API, rebuilt from each resource's PathPart and parent. */
const resourcePaths = (): Map<string, string> => {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Resources;
  const pathOf = (id: string): string => {
    const properties = resources[id]?.Properties as { PathPart: string; ParentId: { Ref?: string } };
    const parent = properties.ParentId.Ref;
    return `${parent && parent in resources ? pathOf(parent) : ''}/${properties.PathPart}`;
  };
  return new Map(Object.keys(resources).map((id) => [pathOf(id), id]));
};

beforeAll(() => {
  // The same feature flags and context as `cdk synth`, so the template under test is the deployed one.
  const { context } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  app = new App({ context });
  stack = new ClusterServiceStack(app, 'ClusterService');
  template = Template.fromStack(stack);
}, 120_000);

describe('API', () => {
  it('authorizes with a REQUEST authorizer backed by the authorizer function', () => {
    // Prepare
    const authorizerFunction = logicalId('authorizer');

    // Act
    const authorizers = template.findResources('AWS::ApiGateway::Authorizer') as Resources;

    // Assess
    expect(Object.values(authorizers)).toHaveLength(1);
    expect(Object.values(authorizers)[0]?.Properties?.Type).toBe('REQUEST');
    expect(JSON.stringify(Object.values(authorizers)[0]?.Properties?.AuthorizerUri)).toContain(authorizerFunction);
  });

  it('lets a request carrying only x-api-key reach the authorizer (no identity source, no caching)', () => {
    // Act
    const authorizer = Object.values(template.findResources('AWS::ApiGateway::Authorizer') as Resources)[0]?.Properties;

    // Assess
    expect(authorizer?.AuthorizerResultTtlInSeconds).toBe(0);
    expect(authorizer?.IdentitySource ?? '').toBe('');
  });

  it('puts the custom authorizer on every method other than OPTIONS and the nodes’ routes', () => {
    // Prepare
    const authorizerId = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0];

    // Act
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources)
      .map((method) => method.Properties ?? {})
      .filter((properties) => properties.HttpMethod !== 'OPTIONS' && properties.AuthorizationType !== 'NONE');

    // Assess
    expect(methods.length).toBe(ROUTES.filter((route) => route.caller !== 'node').length);
    for (const method of methods) {
      expect(method, `${String(method.HttpMethod)} ${JSON.stringify(method.ResourceId)}`).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    }
  });

  it('has the resource path of every route', () => {
    // Act
    const paths = resourcePaths();

    // Assess
    for (const route of ROUTES) expect([...paths.keys()]).toContain(route.path);
  });

  it('sends every route to its function through a Lambda proxy integration', () => {
    // Prepare
    const paths = resourcePaths();

    for (const route of ROUTES) {
      // Act
      const methods = template.findResources('AWS::ApiGateway::Method', {
        Properties: { HttpMethod: route.method, ResourceId: { Ref: paths.get(route.path) } },
      }) as Resources;

      // Assess
      const integration = Object.values(methods)[0]?.Properties?.Integration as { Type: string; Uri: unknown } | undefined;
      expect(integration?.Type, `${route.method} ${route.path}`).toBe('AWS_PROXY');
      expect(JSON.stringify(integration?.Uri), `${route.method} ${route.path}`).toContain(logicalId(route.function));
    }
  });

  it('logs access of the prod stage and throttles its methods', () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
    });
  });
});

describe.each(WORKFLOW_KINDS)('%s workflow', (kind) => {
  it('deploys the repository ASL file itself, as a STANDARD state machine with tracing and every state logged without its data', () => {
    // Prepare
    const definition = deployedDefinition(kind);

    // Act
    const states = Object.keys((JSON.parse(readFileSync(aslFile(kind), 'utf8')) as { States: Record<string, unknown> }).States);

    // Assess
    expect(states.length).toBeGreaterThan(0);
    for (const state of states) expect(definition).toContain(JSON.stringify(state));
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: false, Level: 'ALL' }),
    });
  });

  it('leaves no ${…} placeholder unresolved, and the workflow step ARN goes where the file asks', () => {
    // Act
    const definition = deployedDefinition(kind);

    // Assess
    expect(definition).not.toMatch(/\$\{\w+\}/);
    expect(definition).not.toContain('${WorkflowStepFunctionArn}');
    expect(definition).toContain(logicalId('workflowStep'));
  });

  it('lets the state machine role invoke exactly the workflow step function', () => {
    // Prepare
    const role = idOf(stack.stateMachines[kind].role);
    const others = (Object.keys(stack.functions) as FunctionName[]).filter((name) => name !== 'workflowStep').map(logicalId);

    // Act
    const invokes = policyStatements(role).filter((statement) => asList(statement.Action).includes('lambda:InvokeFunction'));

    // Assess
    expect(invokes.length).toBeGreaterThan(0);
    for (const resource of invokes.flatMap((statement) => asList(statement.Resource))) {
      expect(resource).not.toBe('*');
      expect(JSON.stringify(resource)).toContain(logicalId('workflowStep'));
      for (const other of others) expect(JSON.stringify(resource)).not.toContain(other);
    }
  });

  it('raises alarms on failed and on timed-out executions', () => {
    // Assess
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineLogicalId(kind) } }],
      });
    }
  });
});

describe('functions', () => {
  it('gives createCluster the state machine ARN, the table name and the default provider', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.createCluster.description,
      Environment: {
        Variables: Match.objectLike({
          PROVISION_STATE_MACHINE_ARN: { Ref: stateMachineLogicalId() },
          TABLE_NAME: { Ref: tableLogicalId() },
          DEFAULT_PROVIDER: 'ec2',
        }),
      },
    });
  });

  it('lets createCluster start executions of the provision state machine only', () => {
    // Prepare
    const role = idOf(stack.functions.createCluster.role);

    // Act
    const starts = policyStatements(role).filter((statement) => asList(statement.Action).includes('states:StartExecution'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(asList(starts[0]?.Resource)).toEqual([{ Ref: stateMachineLogicalId() }]);
  });

  it('lets changeCluster start every workflow and stop provision and power executions only', () => {
    // Prepare
    const role = idOf(stack.functions.changeCluster.role);
    const statements = policyStatements(role);

    // Act
    const starts = statements.filter((statement) => asList(statement.Action).includes('states:StartExecution'));
    const stops = statements.filter((statement) => asList(statement.Action).includes('states:StopExecution'));

    // Assess
    const started = starts.flatMap((s) => asList(s.Resource));
    expect(started).toHaveLength(3);
    expect(started).toEqual(
      expect.arrayContaining([{ Ref: stateMachineLogicalId('provision') }, { Ref: stateMachineLogicalId('destroy') }, { Ref: stateMachineLogicalId('power') }]),
    );
    const stopResources = JSON.stringify(stops.map((s) => s.Resource));
    expect(stopResources).toContain(':execution:');
    expect(stopResources).toContain(stateMachineLogicalId('provision'));
    expect(stopResources).toContain(stateMachineLogicalId('power'));
    expect(stopResources).not.toContain(stateMachineLogicalId('destroy'));
  });

  it('routes Cluster Create Requested from the service bus to a queue with a dead-letter queue, read by createTrigger', () => {
    // Prepare
    const queueId = idOf(stack.createRequests);
    const dlqId = idOf(stack.createRequestsDlq);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: idOf(stack.bus) },
      EventPattern: { 'detail-type': ['Cluster Create Requested'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: logicalId('createTrigger') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });

  it('feeds new status-change items of the table stream, and only those, to publishStatus', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [tableLogicalId(), 'StreamArn'] },
      FunctionName: { Ref: logicalId('publishStatus') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['event'] } } } }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(stack.statusChangesDlq), 'Arn'] } } },
    });
  });

  it('lets publishStatus put events on the service bus only', () => {
    const role = idOf(stack.functions.publishStatus.role);

    const puts = policyStatements(role).filter((statement) => asList(statement.Action).includes('events:PutEvents'));

    expect(puts).toHaveLength(1);
    expect(asList(puts[0]?.Resource)).toEqual([{ 'Fn::GetAtt': [idOf(stack.bus), 'Arn'] }]);
  });

  it('lets createTrigger put events on the service bus only', () => {
    // Prepare
    const role = idOf(stack.functions.createTrigger.role);

    // Act
    const puts = policyStatements(role).filter((statement) => asList(statement.Action).includes('events:PutEvents'));

    // Assess
    expect(puts).toHaveLength(1);
    expect(asList(puts[0]?.Resource)).toEqual([{ 'Fn::GetAtt': [idOf(stack.bus), 'Arn'] }]);
  });

  it('raises alarms on authorizer errors, API 5xx and both dead-letter queues, and draws a dashboard', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId('authorizer') } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Namespace: 'AWS/ApiGateway' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack.statusChangesDlq), 'QueueName'] } }],
    });
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard') as Resources);
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const metric of ['ClustersCreated', 'ClustersFailed', 'TimeToActive', 'ExecutionsFailed', '5XXError']) expect(body).toContain(metric);
  });

  it('runs expireClusters on a schedule', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: FUNCTIONS.expireClusters.schedule,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId('expireClusters'), 'Arn'] } })],
    });
  });

  it('gives the workflow step the default provider from the defaultProvider context', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.workflowStep.description,
      Environment: { Variables: Match.objectLike({ DEFAULT_PROVIDER: 'ec2', TABLE_NAME: { Ref: tableLogicalId() } }) },
    });
  });

  it('lets the authorizer do nothing but dynamodb:GetItem on the table', () => {
    // Prepare
    const role = idOf(stack.functions.authorizer.role);

    // Act
    const statements = withoutUnscopable(policyStatements(role));

    // Assess
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [tableLogicalId(), 'Arn'] } },
    ]);
  });

  it('lets readClusters read by key and query, but never write', () => {
    // Prepare
    const role = idOf(stack.functions.readClusters.role);

    // Act
    const actions = withoutUnscopable(policyStatements(role)).flatMap((statement) => asList(statement.Action));

    // Assess
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions.filter((action) => /Put|Update|Delete|Write/.test(action))).toEqual([]);
  });

  it('lets readClusters alone read the page-token secret, named by its variable', () => {
    // Prepare
    const resources = template.toJSON().Resources as Resources;
    const secretId = Object.keys(resources).find((id) => resources[id]?.Type === 'AWS::SecretsManager::Secret' && id.startsWith('PageTokenSecret'));
    const readsSecrets = (name: FunctionName) => {
      const fn = stack.functions[name];
      const statements = fn ? withoutUnscopable(policyStatements(idOf(fn.role))) : [];
      return statements.filter(
        (statement) => asList(statement.Action).some((action) => action.startsWith('secretsmanager:')) && JSON.stringify(statement.Resource).includes('PageTokenSecret'),
      );
    };

    // Act
    const readers = (Object.keys(stack.functions) as FunctionName[]).filter((name) => readsSecrets(name).length > 0);

    // Assess
    expect(secretId).toBeDefined();
    expect(readers).toEqual(['readClusters']);
    expect(readsSecrets('readClusters').map((statement) => statement.Resource)).toEqual([{ Ref: secretId }]);
    // And the reader reads no other secret.
    const everySecretOfReader = withoutUnscopable(policyStatements(idOf(stack.functions.readClusters?.role))).filter((statement) =>
      asList(statement.Action).some((action) => action.startsWith('secretsmanager:')),
    );
    expect(everySecretOfReader.map((statement) => statement.Resource)).toEqual([{ Ref: secretId }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.readClusters.description,
      Environment: { Variables: Match.objectLike({ PAGE_TOKEN_SECRET_ARN: { Ref: secretId } }) },
    });
  });

  it('tells every function that starts or stops executions the workflow-step timeout, the window a stopped step may still run in', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const stepTimeout = functions.find((fn) => fn.Properties?.Description === FUNCTIONS.workflowStep.description)?.Properties?.Timeout;
    const touchingExecutions = functions.filter((fn) => fn.Properties?.Environment?.Variables?.PROVISION_STATE_MACHINE_ARN !== undefined);

    // Act
    const timeouts = touchingExecutions.map((fn) => fn.Properties?.Environment?.Variables?.WORKFLOW_STEP_TIMEOUT_SECONDS);

    // Assess
    expect(stepTimeout).toBe(FUNCTIONS.workflowStep.timeoutSeconds);
    expect(touchingExecutions.length).toBeGreaterThanOrEqual(4);
    expect(new Set(timeouts)).toEqual(new Set([String(stepTimeout)]));
  });

  it('runs every function on nodejs22.x, arm64, with active tracing', () => {
    // Act
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);

    // Assess
    // Without the configuration container, the function that reads its logs does not exist.
    const expected = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => !('readsConfigurationLogs' in FUNCTIONS[name]));
    expect(Object.keys(stack.functions).sort()).toEqual(expected.sort());
    expect(functions).toHaveLength(expected.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
  });

  it('gives every function its own log group with a retention', () => {
    // Prepare
    const logGroups = template.findResources('AWS::Logs::LogGroup') as Resources;
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);

    // Act
    const groupIds = functions.map((fn) => (fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref);

    // Assess
    expect(new Set(groupIds).size).toBe(functions.length);
    for (const id of groupIds) {
      expect(id && logGroups[id]?.Properties?.RetentionInDays, `log group ${id}`).toEqual(expect.any(Number));
    }
  });

  it('lets each function write its own log group and no other, through a role with no managed policy', () => {
    // Prepare
    const roles = template.findResources('AWS::IAM::Role') as Resources;

    for (const [name, fn] of Object.entries(stack.functions)) {
      // Act
      const role = roles[idOf(fn.role)]?.Properties ?? {};
      const logGroup = idOf(fn.logGroup);

      // Assess
      expect(role.ManagedPolicyArns, name).toBeUndefined();
      expect(role.Policies, name).toEqual([
        {
          PolicyName: 'logs',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] } }],
          },
        },
      ]);
    }
  });

  it('ships each function as an ESM bundle with its source map and a require shim', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);

    for (const fn of functions) {
      // Act
      const key = (fn.Properties?.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      const bundle = path.join(app.outdir, `asset.${key}`);

      // Assess
      expect(readdirSync(bundle).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      expect(readFileSync(path.join(bundle, 'index.mjs'), 'utf8')).toContain('createRequire(import.meta.url)');
      expect(fn.Properties?.Environment).toMatchObject({ Variables: { NODE_OPTIONS: '--enable-source-maps' } });
    }
  });
});

describe('bundles', () => {
  it('keep class names, which are the error codes Retry and Catch match on', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);
    const bundles = functions.map((fn) => {
      const key = (fn.Properties?.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      return readFileSync(path.join(app.outdir, `asset.${key}`, 'index.mjs'), 'utf8');
    });

    // Act
    const stepBundle = bundles.find((code) => code.includes('ServersBootTimeout'));

    // Assess
    expect(stepBundle).toBeDefined();
    expect(stepBundle).toMatch(/["']ServersBootTimeout["']/);
  });
});

describe('table', () => {
  it('keeps its data: point-in-time recovery, retained on stack deletion, AWS-managed encryption', () => {
    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      }),
    });
  });

  it('has the keys, the ttl attribute and the byProject index the store uses', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byProject',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});

describe('IAM', () => {
  it('grants "*" resources only to actions that cannot be scoped (X-Ray, log delivery)', () => {
    // Act
    const wildcards = policyStatements().filter((statement) => asList(statement.Resource).includes('*'));

    // Assess
    expect(policyStatements().length).toBeGreaterThan(0);
    expect(withoutUnscopable(wildcards)).toEqual([]);
  });
});

describe('configuration', () => {
  it('refuses a default provider that cannot run in Lambda', () => {
    // Prepare
    const scope = new App({ context: { defaultProvider: 'local' } });

    // Act
    // The provider is checked before anything is bundled, so this stays fast.
    const build = () => new ClusterServiceStack(scope, 'ProviderProbe');

    // Assess
    expect(build).toThrow(/defaultProvider/);
  });

  it('gives every function that reserves or releases quota the quota defaults from the context', () => {
    // Prepare
    const scope = new App({ context: { 'aws:cdk:bundling-stacks': [], quotaMaxVcpus: '256', quotaMaxClusters: 10 } });

    // Act
    const probe = Template.fromStack(new ClusterServiceStack(scope, 'QuotaProbe'));
    const functions = Object.values(probe.findResources('AWS::Lambda::Function') as Resources);
    const variablesOf = (name: FunctionName) =>
      (functions.find((fn) => fn.Properties?.Description === FUNCTIONS[name].description)?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;

    // Assess
    for (const name of ['createCluster', 'createTrigger', 'changeCluster', 'expireClusters'] as const) {
      expect(variablesOf(name)).toMatchObject({ QUOTA_MAX_VCPUS: '256', QUOTA_MAX_CLUSTERS: '10' });
      expect(variablesOf(name)).not.toHaveProperty('QUOTA_MAX_SERVERS');
    }
    expect(variablesOf('readClusters')).not.toHaveProperty('QUOTA_MAX_VCPUS');
    expect(() => new ClusterServiceStack(new App({ context: { 'aws:cdk:bundling-stacks': [], quotaMaxServers: '-1' } }), 'BadQuota')).toThrow(/quotaMaxServers must be a whole number/);
  });

  it('gives each setting’s variables to exactly the functions whose definition in infra/routes.ts lists it', () => {
    // Prepare
    const scope = new App({ context: { 'aws:cdk:bundling-stacks': [], quotaMaxVcpus: '256', quotaMaxServers: '64', quotaMaxClusters: '10' } });
    const probe = Template.fromStack(new ClusterServiceStack(scope, 'SettingsProbe'));
    const functions = Object.values(probe.findResources('AWS::Lambda::Function') as Resources);
    const variablesOf = (name: FunctionName) =>
      (functions.find((fn) => fn.Properties?.Description === FUNCTIONS[name].description)?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    const variableOf: Record<Exclude<FunctionSetting, 'ec2Settings' | 'ec2Servers' | 'configurationContainer' | 'openstackSettings' | 'hyperstackSettings' | 'lightsailSettings'>, string> = {
      defaultProvider: 'DEFAULT_PROVIDER',
      defaultConfigurationRunner: 'DEFAULT_CONFIGURATION_RUNNER',
      quotaDefaults: 'QUOTA_MAX_SERVERS',
      configurationAgentTimeout: 'CONFIGURATION_AGENT_TIMEOUT_SECONDS',
      pageTokenSecret: 'PAGE_TOKEN_SECRET_ARN',
      nodeReportKey: 'NODE_REPORT_SECRET_ARN',
      serviceUrl: 'SERVICE_URL',
      configurationBundleUrl: 'CONFIGURATION_BUNDLE_S3_URI',
    };
    const withoutContainer = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => !('readsConfigurationLogs' in FUNCTIONS[name]));

    for (const [setting, variable] of Object.entries(variableOf) as [FunctionSetting, string][]) {
      // Act
      const having = withoutContainer.filter((name) => variable in variablesOf(name));

      // Assess
      const declaring = withoutContainer.filter((name) => (FUNCTIONS[name] as FunctionDefinition).settings?.includes(setting));
      expect(having, setting).toEqual(declaring);
      expect(having.length, setting).toBeGreaterThan(0);
    }
  });

  it('gives the workflow step the configuration agents’ time limit: 10 minutes, or the context’s, within the workflow’s 2 h', () => {
    // Prepare
    const app = (context: Record<string, unknown>) => new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
    const agentTimeoutOf = (stack: ClusterServiceStack) => {
      const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function') as Resources);
      const step = functions.find((fn) => fn.Properties?.Description === FUNCTIONS.workflowStep.description);
      return (step?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables.CONFIGURATION_AGENT_TIMEOUT_SECONDS;
    };

    // Act
    const byDefault = agentTimeoutOf(new ClusterServiceStack(app({}), 'AgentsDefault'));
    const fromContext = agentTimeoutOf(new ClusterServiceStack(app({ configurationAgentTimeoutSeconds: '900' }), 'AgentsContext'));

    // Assess
    expect(byDefault).toBe('600');
    expect(fromContext).toBe('900');
    expect(() => new ClusterServiceStack(app({ configurationAgentTimeoutSeconds: 3600 }), 'AgentsTooLong')).toThrow(/configurationAgentTimeoutSeconds must be whole seconds from 1 to 900/);
  });
});
