import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, type FunctionName } from '../../infra/routes.ts';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { LIGHTSAIL_CONTEXT, asList, synthesize, type Statement, type SynthesizedStack } from '../support/cdk.ts';

let synthesized: SynthesizedStack;
let stack: ClusterServiceStack;
let template: Template;

const statementsOf = (name: FunctionName): Statement[] => synthesized.statementsOfRole(stack.functions[name]?.role);
const present = (): FunctionName[] => (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => stack.functions[name] !== undefined);
const variablesOf = (name: FunctionName): Record<string, unknown> => {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties?: { Description?: string; Environment?: { Variables: Record<string, unknown> } } }[];
  return functions.find((fn) => fn.Properties?.Description === FUNCTIONS[name].description)?.Properties?.Environment?.Variables ?? {};
};
const lightsailStatements = (name: FunctionName) => statementsOf(name).filter((statement) => asList(statement.Action).some((action) => action.startsWith('lightsail:')));
const granting = (statements: Statement[], action: string) => statements.filter((statement) => asList(statement.Action).includes(action));

beforeAll(() => {
  synthesized = synthesize('ClusterServiceLightsail', { 'aws:cdk:bundling-stacks': [], ...LIGHTSAIL_CONTEXT, defaultProvider: 'lightsail' });
  ({ stack, template } = synthesized);
}, 120_000);

describe('the lightsail provider’s access (context lightsail=true)', () => {
  it('gives the functions that plan and make servers its settings, and no other', () => {
    for (const name of ['createCluster', 'createTrigger', 'workflowStep'] as const) {
      expect(variablesOf(name), name).toMatchObject({ LIGHTSAIL_BLUEPRINT: 'ubuntu_24_04', LIGHTSAIL_KEY_PAIR: 'cluster-key', SERVICE_TAG: 'cluster-service' });
    }
    for (const name of ['readClusters', 'changeCluster', 'nodeReports', 'authorizer'] as const) expect(variablesOf(name), name).not.toHaveProperty('LIGHTSAIL_BLUEPRINT');
  });

  it('gives Lightsail actions to the workflow step alone', () => {
    for (const name of present()) expect(lightsailStatements(name).length > 0, name).toBe(name === 'workflowStep');
  });

  it('bounds creating by the service tag in the request, and deleting, opening ports, stopping and starting by the instance’s service tag', () => {
    const statements = lightsailStatements('workflowStep');
    expect(granting(statements, 'lightsail:CreateInstances')).toEqual([
      expect.objectContaining({ Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/managed-by': 'cluster-service' } } }),
    ]);
    for (const action of ['lightsail:DeleteInstance', 'lightsail:PutInstancePublicPorts', 'lightsail:StopInstance', 'lightsail:StartInstance']) {
      const [statement, ...others] = granting(statements, action);
      expect(others, action).toEqual([]);
      expect(statement?.Condition, action).toEqual({ StringEquals: { 'aws:ResourceTag/managed-by': 'cluster-service' } });
      expect(JSON.stringify(statement?.Resource), action).toContain(':Instance/*');
    }
    // Only listing Get calls take "*" without a condition.
    const unbounded = statements.filter((statement) => statement.Resource === '*' && !statement.Condition);
    expect(unbounded.flatMap((statement) => asList(statement.Action)).filter((action) => action.startsWith('lightsail:')).sort()).toEqual(['lightsail:GetBlueprints', 'lightsail:GetBundles', 'lightsail:GetInstances', 'lightsail:GetRegions', 'lightsail:GetStaticIps']);
    expect(JSON.stringify(granting(statements, 'lightsail:ReleaseStaticIp')[0]?.Resource)).toContain(':StaticIp/*');
  });

  it('refuses a context value that is not a blueprint id or a zone, naming the key', () => {
    expect(() => synthesize('BadBlueprint', { 'aws:cdk:bundling-stacks': [], lightsail: 'true', lightsailBlueprint: 'Debian 12' })).toThrow(/lightsailBlueprint/);
    expect(() => synthesize('BadZone', { 'aws:cdk:bundling-stacks': [], lightsail: 'true', lightsailZone: 'west' })).toThrow(/lightsailZone/);
    expect(() => synthesize('BadSwitch', { 'aws:cdk:bundling-stacks': [], lightsail: 'yes' })).toThrow(/lightsail must be true or false/);
  });
});
