import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { REPO_ROOT } from '../../infra/aws/constructs/service-function.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let stack: ClusterServiceStack;
let template: Template;

const idOf = (construct: IConstruct | undefined): string => stack.getLogicalId(construct?.node.defaultChild as CfnElement);

/** The statements of the policies attached to a function's role. */
const statementsOf = (fn: IConstruct & { role?: IConstruct }): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }>)
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(idOf(fn.role)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);

const withAction = (statements: Statement[], action: string) => statements.filter((s) => asList(s.Action).includes(action));

beforeAll(() => {
  const { context } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({
    context: { ...context, ec2VpcId: 'vpc-0abc', ec2SubnetIds: 'subnet-0a,subnet-0b', ec2ImageId: 'ami-0123', ec2KeyName: 'ops', serviceTag: 'clusters-prod' },
  });
  stack = new ClusterServiceStack(app, 'ClusterServiceEc2');
  template = Template.fromStack(stack);
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
    expect(JSON.stringify(fixed?.Resource)).toContain('key-pair/ops');
    expect(JSON.stringify(run)).not.toContain('"Resource":"*"');
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

  it('makes the nodes’ role with SSM core access', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
    });
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
  });
});
