import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, type FunctionName } from '../../infra/routes.ts';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { OPENSTACK_CONTEXT, synthesize, withAction, type Statement, type SynthesizedStack } from '../support/cdk.ts';

const SECRET_ARN = OPENSTACK_CONTEXT.openstackCredentialsSecretArn;

let synthesized: SynthesizedStack;
let stack: ClusterServiceStack;
let template: Template;

const statementsOf = (name: FunctionName): Statement[] => synthesized.statementsOfRole(stack.functions[name]?.role);
/** The functions this stack has (the container's log reader only comes with the container). */
const present = (): FunctionName[] => (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => stack.functions[name] !== undefined);
const variablesOf = (name: FunctionName): Record<string, unknown> => {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties?: { Description?: string; Environment?: { Variables: Record<string, unknown> } } }[];
  return functions.find((fn) => fn.Properties?.Description === FUNCTIONS[name].description)?.Properties?.Environment?.Variables ?? {};
};
const resourcesOf = (statements: Statement[]): unknown[] => statements.flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));

beforeAll(() => {
  synthesized = synthesize('ClusterServiceOpenStack', { 'aws:cdk:bundling-stacks': [], ...OPENSTACK_CONTEXT, defaultProvider: 'openstack' });
  ({ stack, template } = synthesized);
}, 120_000);

describe('the openstack provider’s access (context openstackCredentialsSecretArn, openstackImage)', () => {
  it('gives the functions that plan and make servers the settings and the credentials secret’s ARN, never the credentials', () => {
    for (const name of ['createCluster', 'createTrigger', 'workflowStep'] as const) {
      expect(variablesOf(name), name).toMatchObject({ OPENSTACK_CREDENTIALS_SECRET_ARN: SECRET_ARN, OPENSTACK_IMAGE: 'debian-12', OPENSTACK_EXTERNAL_NETWORK: 'public', OPENSTACK_LOGIN_USER: 'debian' });
    }
    for (const name of ['readClusters', 'changeCluster', 'nodeReports', 'authorizer'] as const) expect(variablesOf(name), name).not.toHaveProperty('OPENSTACK_CREDENTIALS_SECRET_ARN');
  });

  it('lets exactly those functions read that one secret, and no function any other', () => {
    for (const name of present()) {
      const reads = resourcesOf(withAction(statementsOf(name), 'secretsmanager:GetSecretValue'));
      const readsCredentials = reads.some((resource) => JSON.stringify(resource).includes('openstack/clouds'));
      expect(readsCredentials, name).toBe((FUNCTIONS[name] as { settings?: readonly string[] }).settings?.includes('openstackSettings') ?? false);
      expect(reads, name).not.toContain('*');
    }
  });

  it('refuses a credentials secret that is not a Secrets Manager ARN, and one without an image', () => {
    expect(() => synthesize('BadSecret', { 'aws:cdk:bundling-stacks': [], openstackCredentialsSecretArn: 'my-secret', openstackImage: 'x' })).toThrow(/must be the ARN of a Secrets Manager secret/);
    expect(() => synthesize('NoImage', { 'aws:cdk:bundling-stacks': [], openstackCredentialsSecretArn: SECRET_ARN })).toThrow(/needs openstackImage/);
  });
});

describe('the cloud-init runner’s access', () => {
  it('lets the report and callback routes in without the token authorizer, and every other route only through it', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as { Properties: { HttpMethod: string; AuthorizationType: string; AuthorizerId?: unknown } }[];
    const open = methods.filter((method) => method.Properties.AuthorizationType === 'NONE');

    // The nodes' reports and the cloud's callbacks: each opened by its cluster's own secret.
    expect(open).toHaveLength(2);
    expect(open.map((method) => method.Properties.HttpMethod)).toEqual(['POST', 'POST']);
    expect(open.map((method) => method.Properties.AuthorizerId)).toEqual([undefined, undefined]);
    expect(methods.filter((method) => method.Properties.AuthorizationType === 'CUSTOM')).toHaveLength(methods.length - 2);
  });

  it('gives the node-report key to the workflow step and the report function alone, and the report URL to the workflow step', () => {
    const holders = present().filter((name) => 'NODE_REPORT_SECRET_ARN' in variablesOf(name));
    const keyReaders = present().filter((name) =>
      resourcesOf(withAction(statementsOf(name), 'secretsmanager:GetSecretValue')).some((resource) => JSON.stringify(resource).includes('NodeReportKey')),
    );

    expect(holders.sort()).toEqual(['nodeReports', 'workflowStep']);
    expect(keyReaders.sort()).toEqual(['nodeReports', 'workflowStep']);
    expect(JSON.stringify(variablesOf('workflowStep').SERVICE_URL)).toContain('execute-api');
    expect(variablesOf('nodeReports')).toHaveProperty('CONFIGURATION_BUNDLE_S3_URI');
    const bundle = withAction(statementsOf('nodeReports'), 's3:GetObject');
    expect(bundle).toHaveLength(1);
    expect(JSON.stringify(bundle[0]?.Resource)).toMatch(/\.zip/);
  });
});
