import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { EC2_CONTEXT, synthesize } from '../support/cdk.ts';

/** cdk-nag reads the construct tree, not the functions' code: synth skips bundling it. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const CONTAINER_CONTEXT = {
  configurationImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/cluster-configuration:2025.1',
  configurationSshKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cluster-ssh-key-AbCdEf',
};

/** Every acknowledgement recorded in the tree under `scope`: where, which rule, why. */
const acknowledgements = (scope: IConstruct): { path: string; id: string; reason: string }[] =>
  scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))),
  );

describe.each([
  ['the default context', {}],
  ['the ec2 context', EC2_CONTEXT],
  ['the ec2 and configuration container context', { ...EC2_CONTEXT, ...CONTAINER_CONTEXT }],
])('cdk-nag AwsSolutions checks of the stack with %s', (_, context) => {
  let stack: ClusterServiceStack;

  beforeAll(() => {
    stack = synthesize('NagProbe', { ...NO_BUNDLING, ...context }).stack;
  }, 120_000);

  it('finds no error and no warning that is not acknowledged with its reason', () => {
    // Act
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.severity} ${violation.ruleName} at ${resource.constructPath}: ${violation.description}`),
    );

    // Assess
    expect(findings.filter((finding) => finding.startsWith('error ')), findings.join('\n')).toEqual([]);
    expect(findings.filter((finding) => finding.startsWith('warning ')), findings.join('\n')).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges findings on the constructs concerned, each with a reason, never for the whole stack', () => {
    // Act
    const nag = acknowledgements(stack).filter(({ id }) => /AwsSolutions-/.test(id));

    // Assess
    expect(nag.length).toBeGreaterThan(0);
    expect(nag.filter(({ path }) => path === Stack.of(stack).node.path)).toEqual([]);
    for (const { path, id, reason } of nag) expect(reason.length, `${id} at ${path}`).toBeGreaterThan(30);
  });
});
