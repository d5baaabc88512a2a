import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClusterServiceStack } from '../../infra/aws/cluster-service-stack.ts';
import { EC2_CONTEXT, HYPERSTACK_CONTEXT, LIGHTSAIL_CONTEXT, OPENSTACK_CONTEXT, synthesize } from '../support/cdk.ts';

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
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason })),
      ),
  );

/** What the checks find in `scope`: each finding's rule (with its finding id) and resource path. */
const findingsOf = (scope: IConstruct): { rule: string; severity: string; path: string; description: string }[] =>
  new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(scope)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({ rule: violation.ruleName, severity: violation.severity ?? 'error', path: resource.constructPath ?? '', description: violation.description })),
    );

describe.each([
  ['the default context', {}],
  ['the ec2 context', EC2_CONTEXT],
  ['the ec2 and configuration container context', { ...EC2_CONTEXT, ...CONTAINER_CONTEXT }],
  ['the openstack and hyperstack context', { ...OPENSTACK_CONTEXT, ...HYPERSTACK_CONTEXT, defaultProvider: 'openstack' }],
  ['the lightsail context', { ...LIGHTSAIL_CONTEXT, defaultProvider: 'lightsail' }],
])('cdk-nag AwsSolutions checks of the stack with %s', (_, context) => {
  let stack: ClusterServiceStack;

  beforeAll(() => {
    stack = synthesize('NagProbe', { ...NO_BUNDLING, ...context }).stack;
  }, 120_000);

  it('finds no error and no warning that is not acknowledged with its reason', () => {
    // Act
    const findings = findingsOf(stack).map(({ rule, severity, path, description }) => `${severity} ${rule} at ${path}: ${description}`);

    // Assess
    expect(findings.filter((finding) => finding.startsWith('error ')), findings.join('\n')).toEqual([]);
    expect(findings.filter((finding) => finding.startsWith('warning ')), findings.join('\n')).toEqual([]);
  });

  it('acknowledges only what the checks find, where they find it', () => {
    // Prepare
    // The same stack with every acknowledgement left out: what the checks find in it is what the
    // acknowledgements answer.
    const ignore = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    let bare: ClusterServiceStack;
    try {
      bare = synthesize('NagProbe', { ...NO_BUNDLING, ...context }).stack;
    } finally {
      ignore.mockRestore();
    }

    // Act
    const found = findingsOf(bare);
    const unanswered = acknowledgements(stack)
      .filter(({ id }) => id.startsWith('AwsSolutions-'))
      .filter(({ id, path }) => !found.some((finding) => finding.rule === id && (finding.path === path || finding.path.startsWith(`${path}/`))));

    // Assess
    expect(found.length).toBeGreaterThan(0);
    expect(unanswered).toEqual([]);
  }, 120_000);

  it('acknowledges findings on the constructs concerned, each with a reason, never for the whole stack', () => {
    // Act
    const nag = acknowledgements(stack).filter(({ id }) => /AwsSolutions-/.test(id));

    // Assess
    expect(nag.length).toBeGreaterThan(0);
    expect(nag.filter(({ path }) => path === Stack.of(stack).node.path)).toEqual([]);
    for (const { path, id, reason } of nag) expect(reason.length, `${id} at ${path}`).toBeGreaterThan(30);
  });
});
