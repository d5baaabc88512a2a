import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, type FunctionName } from '../../infra/routes.ts';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { HYPERSTACK_CONTEXT, synthesize, withAction, type Statement, type SynthesizedStack } from '../support/cdk.ts';

const SECRET_ARN = HYPERSTACK_CONTEXT.hyperstackApiKeySecretArn;

let synthesized: SynthesizedStack;
let stack: ClusterServiceStack;
let template: Template;

const statementsOf = (name: FunctionName): Statement[] => synthesized.statementsOfRole(stack.functions[name]?.role);
const present = (): FunctionName[] => (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => stack.functions[name] !== undefined);
const variablesOf = (name: FunctionName): Record<string, unknown> => {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties?: { Description?: string; Environment?: { Variables: Record<string, unknown> } } }[];
  return functions.find((fn) => fn.Properties?.Description === FUNCTIONS[name].description)?.Properties?.Environment?.Variables ?? {};
};
const resourcesOf = (statements: Statement[]): unknown[] => statements.flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

beforeAll(() => {
  synthesized = synthesize('ClusterServiceHyperstack', { ...NO_BUNDLING, ...HYPERSTACK_CONTEXT, hyperstackApiUrl: 'https://infrahub.example.org/v1', defaultProvider: 'hyperstack' });
  ({ stack, template } = synthesized);
}, 120_000);

describe('the hyperstack provider’s access (context hyperstackApiKeySecretArn, hyperstackEnvironment, hyperstackImage, hyperstackKeyName)', () => {
  it('gives the functions that plan and make servers the settings and the API key secret’s ARN, never the key', () => {
    for (const name of ['createCluster', 'createTrigger', 'workflowStep'] as const) {
      expect(variablesOf(name), name).toMatchObject({
        HYPERSTACK_API_KEY_SECRET_ARN: SECRET_ARN,
        HYPERSTACK_ENVIRONMENT: 'clusters-canada',
        HYPERSTACK_IMAGE: 'Ubuntu Server 22.04 LTS',
        HYPERSTACK_KEY_NAME: 'clusters',
        HYPERSTACK_API_URL: 'https://infrahub.example.org/v1',
        DEFAULT_PROVIDER: 'hyperstack',
      });
      expect(variablesOf(name), name).not.toHaveProperty('HYPERSTACK_API_KEY');
    }
    for (const name of ['readClusters', 'changeCluster', 'nodeReports', 'authorizer'] as const) expect(variablesOf(name), name).not.toHaveProperty('HYPERSTACK_API_KEY_SECRET_ARN');
  });

  it('lets exactly those functions read that one secret (its name with any suffix Secrets Manager gave it), and no function any other', () => {
    for (const name of present()) {
      const reads = resourcesOf(withAction(statementsOf(name), 'secretsmanager:GetSecretValue'));
      const readsKey = reads.filter((resource) => JSON.stringify(resource).includes('hyperstack/api-key'));
      expect(readsKey.length > 0, name).toBe((FUNCTIONS[name] as { settings?: readonly string[] }).settings?.includes('hyperstackSettings') ?? false);
      for (const resource of readsKey) expect(JSON.stringify(resource), name).toMatch(/secret:hyperstack\/api-key-\?\?\?\?\?\?"?/);
      expect(reads, name).not.toContain('*');
    }
  });

  it('refuses a secret that is not a Secrets Manager ARN, a missing environment, image or key pair, and an API URL that is not https', () => {
    const bad = (context: Record<string, unknown>) => () => synthesize('BadHyperstack', { ...NO_BUNDLING, ...HYPERSTACK_CONTEXT, ...context });
    expect(bad({ hyperstackApiKeySecretArn: 'my-key' })).toThrow(/hyperstackApiKeySecretArn must be the ARN of a Secrets Manager secret/);
    expect(bad({ hyperstackImage: '', hyperstackKeyName: '' })).toThrow(/needs hyperstackImage, hyperstackKeyName/);
    expect(bad({ hyperstackApiUrl: 'http://plain.example.org/v1' })).toThrow(/hyperstackApiUrl must be an https URL/);
  });
});
