/** The synthesized stack for CDK assertion tests, and readers of its IAM policies. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { REPO_ROOT } from '../../infra/aws/constructs/service-function.ts';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** `ec2` provider settings as CDK context, for stacks that need them. */
export const EC2_CONTEXT = { ec2VpcId: 'vpc-0abc1234def567890', ec2SubnetIds: 'subnet-0a,subnet-0b', ec2ImageId: 'ami-0123' };

/** The openstack provider's context: its credentials secret (a complete ARN) and what it boots. */
export const OPENSTACK_CONTEXT = {
  openstackCredentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:openstack/clouds-AbC123',
  openstackImage: 'debian-12',
  openstackExternalNetwork: 'public',
  openstackLoginUser: 'debian',
};

/** The hyperstack provider's context: its API key secret (a partial ARN, as a name gives it) and what it boots. */
export const HYPERSTACK_CONTEXT = {
  hyperstackApiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hyperstack/api-key',
  hyperstackEnvironment: 'clusters-canada',
  hyperstackImage: 'Ubuntu Server 22.04 LTS',
  hyperstackKeyName: 'clusters',
};

/** The lightsail provider's context: enabled, with a blueprint and key pair. */
export const LIGHTSAIL_CONTEXT = { lightsail: 'true', lightsailBlueprint: 'ubuntu_24_04', lightsailKeyPair: 'cluster-key' };

export interface SynthesizedStack {
  stack: ClusterServiceStack;
  template: Template;
  /** Where the app was synthesized (staged assets included). */
  outdir: string;
  /** The logical id of a construct (its default child when it has one). */
  idOf(construct: IConstruct | undefined): string;
  /** Every statement of the policies attached to a role. */
  statementsOfRole(role: IConstruct | undefined): Statement[];
}

/** The stack as `cdk synth` makes it (cdk.json's feature flags and context), plus `context`. */
export const synthesize = (id: string, context: Record<string, unknown> = {}): SynthesizedStack => {
  const base = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const app = new App({ context: { ...base, ...context } });
  const stack = new ClusterServiceStack(app, id);
  const template = Template.fromStack(stack);
  const idOf = (construct: IConstruct | undefined) => stack.getLogicalId((construct?.node.defaultChild ?? construct) as CfnElement);
  return {
    stack,
    template,
    outdir: app.outdir,
    idOf,
    statementsOfRole: (role) =>
      Object.values(template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }>)
        .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(idOf(role)))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement),
  };
};

export const withAction = (statements: Statement[], action: string): Statement[] => statements.filter((s) => asList(s.Action).includes(action));
