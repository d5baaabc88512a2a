import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { asList, synthesize, withAction, type Statement, type SynthesizedStack } from '../support/cdk.ts';

let synthesized: SynthesizedStack;
let stack: ClusterServiceStack;
let template: Template;

const idOf = (construct: IConstruct | undefined): string => synthesized.idOf(construct);
const statementsOf = (fn: { role?: IConstruct }): Statement[] => synthesized.statementsOfRole(fn.role);

beforeAll(() => {
  synthesized = synthesize('ClusterServiceEc2', {
    ec2VpcId: 'vpc-0abc',
    ec2SubnetIds: 'subnet-0a,subnet-0b',
    ec2ImageId: 'ami-0123',
    ec2KeyName: 'ops',
    serviceTag: 'clusters-prod',
  });
  ({ stack, template } = synthesized);
}, 120_000);

describe('the ec2 provider’s access (context ec2VpcId, ec2SubnetIds, ec2ImageId)', () => {
  it('lets the workflow step terminate only instances that carry the service tag', () => {
    const terminate = withAction(statementsOf(stack.functions.workflowStep), 'ec2:TerminateInstances');

    expect(terminate).toHaveLength(1);
    expect(terminate[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/managed-by': 'clusters-prod' } });
    expect(JSON.stringify(terminate[0]?.Resource)).toContain(':instance/*');
  });

  it('lets it launch instances only with the service tag in the request, from the given AMI and subnets', () => {
    const run = withAction(statementsOf(stack.functions.workflowStep), 'ec2:RunInstances');
    const tagged = run.find((s) => JSON.stringify(s.Resource).includes(':instance/*'));
    const fixed = run.find((s) => JSON.stringify(s.Resource).includes('image/ami-0123'));

    expect(tagged?.Condition).toEqual({ StringEquals: { 'aws:RequestTag/managed-by': 'clusters-prod' } });
    expect(JSON.stringify(fixed?.Resource)).toContain('subnet/subnet-0a');
    expect(JSON.stringify(fixed?.Resource)).toContain('subnet/subnet-0b');
    // The settings' key pair and any a spec names: every key pair of the account and region.
    expect(JSON.stringify(fixed?.Resource)).toContain(':key-pair/*');
    expect(JSON.stringify(run)).not.toContain('"Resource":"*"');
  });

  it('lets it launch from a spec’s own image only when Amazon or the account owns it, and with any key pair of the account', () => {
    const run = withAction(statementsOf(stack.functions.workflowStep), 'ec2:RunInstances');
    const images = run.filter((s) => JSON.stringify(s.Resource).includes(':image/'));
    const anyImage = images.find((s) => JSON.stringify(s.Resource).includes('image/*'));
    const keyPairs = run.filter((s) => JSON.stringify(s.Resource).includes(':key-pair/'));

    expect(images).toHaveLength(2);
    expect(anyImage?.Condition).toEqual({ StringEquals: { 'ec2:Owner': ['amazon', { Ref: 'AWS::AccountId' }] } });
    expect(asList(anyImage?.Resource)).toHaveLength(1);
    expect(keyPairs).toHaveLength(1);
    expect(keyPairs[0]?.Condition).toBeUndefined();
    expect(JSON.stringify(keyPairs[0]?.Resource)).toContain(':key-pair/*');
    expect(JSON.stringify(keyPairs[0]?.Resource)).not.toContain('key-pair/ops');
  });

  it('lets it add ingress rules only to security groups carrying the service tag', () => {
    const authorize = withAction(statementsOf(stack.functions.workflowStep), 'ec2:AuthorizeSecurityGroupIngress');

    expect(authorize).toHaveLength(1);
    expect(asList(authorize[0]?.Resource).map((r) => JSON.stringify(r))).toEqual([expect.stringContaining(':security-group/*')]);
    expect(authorize[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/managed-by': 'clusters-prod' } });
  });

  it('lets it tag only while creating, or name its own instances: client tags travel in the launch', () => {
    const tagging = withAction(statementsOf(stack.functions.workflowStep), 'ec2:CreateTags');

    expect(tagging).toHaveLength(2);
    expect(tagging[0]?.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateSecurityGroup', 'AllocateAddress'] } });
    expect(tagging[1]?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/managed-by': 'clusters-prod' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name'] },
    });
  });

  it('lets it look up subnets’ zones with the other Describe calls', () => {
    const describe = withAction(statementsOf(stack.functions.workflowStep), 'ec2:DescribeSubnets');

    expect(describe).toHaveLength(1);
    expect(describe[0]?.Resource).toBe('*');
    expect(describe[0]?.Condition).toBeUndefined();
  });

  it('lets it pass only the node role, and only to EC2', () => {
    const pass = withAction(statementsOf(stack.functions.workflowStep), 'iam:PassRole');

    expect(pass).toHaveLength(1);
    expect(pass[0]?.Resource).toEqual({ 'Fn::GetAtt': [idOf(stack.ec2Provider?.nodeRole), 'Arn'] });
    expect(pass[0]?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  });

  it('lets it send SSM commands only to tagged instances, with the two documents the profiles use', () => {
    const send = withAction(statementsOf(stack.functions.workflowStep), 'ssm:SendCommand');
    const toInstances = send.find((s) => JSON.stringify(s.Resource).includes(':instance/*'));
    const documents = send.find((s) => JSON.stringify(s.Resource).includes(':document/'));

    expect(toInstances?.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/managed-by': 'clusters-prod' } });
    expect(JSON.stringify(documents?.Resource)).toContain('document/AWS-RunShellScript');
    expect(JSON.stringify(documents?.Resource)).toContain('document/AWS-ApplyAnsiblePlaybooks');
  });

  it('grants "*" only to the Describe and SSM read calls that take no resource', () => {
    const wildcards = statementsOf(stack.functions.workflowStep).filter((s) => asList(s.Resource).includes('*'));
    const actions = wildcards.flatMap((s) => asList(s.Action));

    expect(actions.every((a) => /^ec2:Describe|^ssm:(Describe|List|Get)|^xray:/.test(a))).toBe(true);
  });

  it('gives the create functions the settings but no EC2 rights', () => {
    for (const fn of [stack.functions.createCluster, stack.functions.createTrigger]) {
      expect(statementsOf(fn).flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('ec2:'))).toEqual([]);
    }
    const env = JSON.stringify(template.toJSON().Resources[idOf(stack.functions.createCluster)]?.Properties?.Environment);
    expect(env).toContain('"EC2_VPC_ID":"vpc-0abc"');
    expect(env).toContain('"EC2_SUBNET_IDS":"subnet-0a,subnet-0b"');
    expect(env).toContain('EC2_INSTANCE_PROFILE_ARN');
  });

  it('makes the inputs bucket with the ec2 settings alone (no container): private, TLS only, expiring', () => {
    // The inputs bucket and the bucket of its access logs.
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ Id: 'expire-run-inputs', ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
    });
    expect(stack.configurationContainer).toBeUndefined();
    expect(Object.keys(template.findOutputs('ConfigurationInputsBucketName'))).toEqual(['ConfigurationInputsBucketName']);
  });

  it('logs access to the inputs bucket into a bucket of its own: private, TLS only, expiring with the service’s logs, kept with the stack’s data', () => {
    const logsBucket = idOf(stack.ec2Provider?.accessLogsBucket);

    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logsBucket }, LogFilePrefix: 'inputs-bucket/' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-run-inputs' })] },
    });
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs', ExpirationInDays: 30, Status: 'Enabled' }] },
        LoggingConfiguration: Match.absent(),
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('lets the workflow step write and read the inputs prefix and read the bundle object, and nothing else in S3', () => {
    const s3Statements = statementsOf(stack.functions.workflowStep).filter((s) => asList(s.Action).some((action) => action.startsWith('s3:')));
    const bundleKey = stack.ec2Provider?.configurationBundle.s3ObjectKey ?? 'none';
    const inputs = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(stack.ec2Provider?.inputsBucket), 'Arn'] }, '/inputs/*']] };

    expect(s3Statements).toHaveLength(2);
    expect(s3Statements).toContainEqual({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: inputs });
    const bundle = s3Statements.find((s) => s.Action === 's3:GetObject');
    expect(bundleKey).toMatch(/^[0-9a-f]{64}\.zip$/);
    expect(JSON.stringify(bundle?.Resource)).toMatch(new RegExp(`assets-.*/${bundleKey.replace('.', '\\.')}"`));
    expect(JSON.stringify(s3Statements)).not.toContain('"*"');
  });

  it('tells the workflow step the bundle’s and the inputs’ locations', () => {
    const env = JSON.stringify(template.toJSON().Resources[idOf(stack.functions.workflowStep)]?.Properties?.Environment);
    const bundleKey = stack.ec2Provider?.configurationBundle.s3ObjectKey ?? 'none';

    expect(env).toContain('CONFIGURATION_BUNDLE_S3_URI');
    expect(env).toContain(`/${bundleKey}`);
    expect(env).toContain(`"CONFIGURATION_INPUTS_BUCKET":{"Ref":"${idOf(stack.ec2Provider?.inputsBucket)}"}`);
  });

  it('bundles configuration/ without what nodes do not run (the image’s recipe, the checks)', () => {
    const asset = stack.ec2Provider?.configurationBundle;
    const entries = readdirSync(path.join(synthesized.outdir, `asset.${asset?.assetHash}`));

    expect(entries.sort()).toEqual(['ansible', 'container']);
    expect(readdirSync(path.join(synthesized.outdir, `asset.${asset?.assetHash}`, 'ansible'))).not.toContain('tests');
  });

  it('gives the nodes’ role no S3 rights: the master fetches through presigned URLs', () => {
    const nodePolicies = synthesized.statementsOfRole(stack.ec2Provider?.nodeRole);
    expect(nodePolicies.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('s3:'))).toEqual([]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
    });
  });

  it('makes the nodes’ role with SSM core access', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
    });
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
  });
});
