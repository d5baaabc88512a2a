import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/routes.ts';
import { asList, EC2_CONTEXT, synthesize, withAction, type Statement, type SynthesizedStack } from '../support/cdk.ts';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/cluster-configuration:2025.1';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cluster-ssh-key-AbCdEf';

/** For stacks whose functions' code no assertion reads: synth skips bundling it. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

let synthesized: SynthesizedStack;
let stack: ClusterServiceStack;
let template: Template;

const idOf = (construct: IConstruct | undefined): string => synthesized.idOf(construct);
/** The objects under the inputs prefix of the container's bucket, as the policies name them. */
const inputsObjects = () => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(stack.configurationContainer?.inputsBucket), 'Arn'] }, '/inputs/*']] });
const statementsOfRole = (role: IConstruct | undefined): Statement[] => synthesized.statementsOfRole(role);

beforeAll(() => {
  synthesized = synthesize('ClusterServiceContainer', { ...EC2_CONTEXT, configurationImage: IMAGE, configurationSshKeySecretArn: SECRET });
  ({ stack, template } = synthesized);
}, 120_000);

describe('the configuration container (context configurationImage, configurationSshKeySecretArn)', () => {
  it('defines a Fargate task whose container `configuration` runs the image, logs to a kept log group and gets the SSH key as a secret', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'configuration',
          Image: IMAGE,
          Secrets: [{ Name: 'SSH_PRIVATE_KEY', ValueFrom: SECRET }],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30, LogGroupName: Match.absent() });
  });

  it('lets the provision state machine run only this task definition’s family, on its cluster', () => {
    const runTask = withAction(statementsOfRole(stack.stateMachines.provision.role), 'ecs:RunTask');

    expect(runTask).toHaveLength(1);
    const resource = JSON.stringify(runTask[0]?.Resource);
    expect(resource).toContain(':task-definition/');
    expect(resource).toContain(':*');
    expect(resource).toContain(stack.configurationContainer?.taskDefinition.family);
    expect(JSON.stringify(runTask[0]?.Condition)).toContain(idOf(stack.configurationContainer?.cluster));
    expect(withAction(statementsOfRole(stack.stateMachines.destroy.role), 'ecs:RunTask')).toEqual([]);
  });

  it('lets it pass exactly the task and execution roles, and only to ECS tasks', () => {
    const passRole = withAction(statementsOfRole(stack.stateMachines.provision.role), 'iam:PassRole');

    expect(passRole).toHaveLength(1);
    expect(asList(passRole[0]?.Resource)).toHaveLength(2);
    expect(asList(passRole[0]?.Resource)).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [idOf(stack.configurationContainer?.taskRole), 'Arn'] },
        { 'Fn::GetAtt': [idOf(stack.configurationContainer?.executionRole), 'Arn'] },
      ]),
    );
    expect(passRole[0]?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  it('lets it follow the task (StopTask, DescribeTasks) and manage only Step Functions’ ECS rule', () => {
    const statements = statementsOfRole(stack.stateMachines.provision.role);

    expect(JSON.stringify(withAction(statements, 'ecs:StopTask')[0]?.Resource)).toContain(':task/');
    expect(JSON.stringify(withAction(statements, 'ecs:DescribeTasks')[0]?.Resource)).toContain(':task/');
    expect(JSON.stringify(withAction(statements, 'events:PutRule')[0]?.Resource)).toContain('rule/StepFunctionsGetEventsForECSTaskRule');
    expect(JSON.stringify(withAction(statements, 'events:PutTargets')[0]?.Resource)).toContain('rule/StepFunctionsGetEventsForECSTaskRule');
  });

  it('gives the task role nothing but s3:GetObject on the inputs prefix of its bucket', () => {
    expect(statementsOfRole(stack.configurationContainer?.taskRole)).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: inputsObjects() }]);
  });

  it('keeps the inputs in a bucket of their own: encrypted, never public, TLS only, expired after a week, kept with the stack’s data', () => {
    const bucket = idOf(stack.configurationContainer?.inputsBucket);

    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: 7 })] },
      },
    });
    // Besides the inputs, only the bucket their access logs go to.
    expect(Object.keys(template.findResources('AWS::S3::Bucket')).sort()).toEqual([bucket, idOf(stack.ec2Provider?.accessLogsBucket)].sort());
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('shares the ec2 provider’s inputs bucket: the workflow step writes (and signs reads of) the prefix, the task reads it', () => {
    const s3Statements = statementsOfRole(stack.functions.workflowStep.role).filter((statement) => asList(statement.Action).some((action) => action.startsWith('s3:')));
    const taskS3 = statementsOfRole(stack.configurationContainer?.taskRole).filter((statement) => asList(statement.Action).some((action) => action.startsWith('s3:')));

    expect(stack.configurationContainer?.inputsBucket).toBe(stack.ec2Provider?.inputsBucket);
    expect(s3Statements).toContainEqual({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: inputsObjects() });
    expect(taskS3).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: inputsObjects() }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.workflowStep.description,
      Environment: { Variables: Match.objectLike({ CONFIGURATION_INPUTS_BUCKET: { Ref: idOf(stack.configurationContainer?.inputsBucket) } }) },
    });
    template.hasOutput('ConfigurationInputsBucketName', { Value: { Ref: idOf(stack.configurationContainer?.inputsBucket) } });
    // The inputs bucket and its access logs' bucket: the container brings none of its own.
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it('has no bucket and no S3 rights without the ec2 settings', () => {
    const plain = synthesize('NoEc2Inputs', NO_BUNDLING);

    const statements = plain.statementsOfRole(plain.stack.functions.workflowStep.role);

    expect(Object.keys(plain.template.findResources('AWS::S3::Bucket'))).toEqual([]);
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((statement) => asList(statement.Action).some((action) => action.startsWith('s3:')))).toEqual([]);
  });

  it('tells the workflow step the container exists, with the task’s subnets and security group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CONTAINER_RUNNER_ENABLED: 'true',
          CONFIGURATION_SUBNETS: 'subnet-0a,subnet-0b',
          CONFIGURATION_SECURITY_GROUPS: { 'Fn::GetAtt': [idOf(stack.configurationContainer?.securityGroup), 'GroupId'] },
        }),
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0abc1234def567890',
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22 })]),
    });
  });

  it('subscribes the configuration-progress function to the container’s log group, for the COMPONENT lines only', () => {
    const logGroup = idOf(stack.configurationContainer?.logGroup);
    const progress = idOf(stack.functions.configurationProgress);

    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: { Ref: logGroup },
      // Space-delimited: the first field must be the marker, and a line has at least four.
      FilterPattern: '[marker = "COMPONENT", component, state, node, ...]',
      DestinationArn: { 'Fn::GetAtt': [progress, 'Arn'] },
    });
    expect(Object.keys(template.findResources('AWS::Logs::SubscriptionFilter'))).toHaveLength(1);
    // CloudWatch Logs may invoke it for that log group only.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [progress, 'Arn'] },
      Principal: 'logs.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logGroup, 'Arn'] },
    });
  });

  it('lets the configuration-progress function read and write cluster items, nothing else, and gives it its own log group', () => {
    const statements = statementsOfRole(stack.functions.configurationProgress?.role).filter((s) => !asList(s.Action).every((a) => a.startsWith('xray:')));

    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': [idOf(stack.table), 'Arn'] } },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.configurationProgress.description,
      Environment: { Variables: Match.objectLike({ TABLE_NAME: { Ref: idOf(stack.table) } }) },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });

  it('has no configuration-progress function, and no subscription, without the container', () => {
    const plain = synthesize('NoContainerProgress', { ...NO_BUNDLING, ...EC2_CONTEXT });

    expect(plain.stack.functions.configurationProgress).toBeUndefined();
    expect(Object.keys(plain.template.findResources('AWS::Logs::SubscriptionFilter'))).toEqual([]);
    const descriptions = Object.values(plain.template.findResources('AWS::Lambda::Function') as Record<string, { Properties: { Description?: string } }>).map(
      (fn) => fn.Properties.Description,
    );
    expect(descriptions).not.toContain(FUNCTIONS.configurationProgress.description);
  });

  it('makes the container the default runner of the create and workflow-step functions, unless the context names ssm', () => {
    const runnerOf = (t: Template, name: FunctionName) => {
      const fn = Object.values(t.findResources('AWS::Lambda::Function') as Record<string, { Properties: { Description?: string; Environment?: { Variables?: Record<string, unknown> } } }>).find(
        (resource) => resource.Properties.Description === FUNCTIONS[name].description,
      );
      return fn?.Properties.Environment?.Variables?.DEFAULT_CONFIGURATION_RUNNER;
    };
    const ssm = synthesize('ContainerSsmDefault', { ...NO_BUNDLING, ...EC2_CONTEXT, configurationImage: IMAGE, configurationSshKeySecretArn: SECRET, defaultConfigurationRunner: 'ssm' }).template;
    const plain = synthesize('NoContainer', { ...NO_BUNDLING, ...EC2_CONTEXT }).template;

    expect([runnerOf(template, 'createCluster'), runnerOf(template, 'workflowStep')]).toEqual(['container', 'container']);
    expect([runnerOf(ssm, 'createCluster'), runnerOf(ssm, 'workflowStep')]).toEqual(['ssm', 'ssm']);
    expect([runnerOf(plain, 'createCluster'), runnerOf(plain, 'workflowStep')]).toEqual(['ssm', 'ssm']);
    expect(() => synthesize('ContainerWithout', { ...NO_BUNDLING, ...EC2_CONTEXT, defaultConfigurationRunner: 'container' })).toThrow(/configurationImage/);
    expect(() => synthesize('UnknownRunner', { ...NO_BUNDLING, ...EC2_CONTEXT, defaultConfigurationRunner: 'provider' })).toThrow(/defaultConfigurationRunner must be one of ssm, container/);
  });

  it('refuses configurationImage without the SSH key secret, or without the ec2 settings', () => {
    const build = (context: Record<string, string>) => () => synthesize('Refused', { ...NO_BUNDLING, ...context });

    expect(build({ ...EC2_CONTEXT, configurationImage: IMAGE })).toThrow(/configurationSshKeySecretArn/);
    expect(build({ configurationImage: IMAGE, configurationSshKeySecretArn: SECRET })).toThrow(/ec2/);
  });
});
