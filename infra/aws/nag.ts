/**
 * Acknowledgements of cdk-nag's AwsSolutions findings. test/infra/cdk-nag.test.ts runs the checks
 * on the stack and fails on any finding without one, so each acknowledgement names one rule (or
 * one finding of it) on the construct concerned, next to the grant or setting it is about, and
 * says why it stands. docs/decisions.md ("cdk-nag") sums them up.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** Acknowledges `rule` (`L1`, or one finding such as `IAM5[Resource::*]`) on `scope` and what is under it. */
export const acknowledge = (scope: IConstruct, rule: string, reason: string): void => {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
};

/**
 * A template value as cdk-nag writes it into a finding's id: references as `<Id>` and
 * `<Id.Attribute>`, joins joined, any other function as its JSON.
 */
const asFinding = (value: unknown): string => {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(asFinding).join(delimiter);
  }
  if (node['Fn::Sub'] !== undefined) return asFinding(node['Fn::Sub']);
  if (Array.isArray(node['Fn::GetAtt'])) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${asFinding(resource)}.${asFinding(attribute)}>`;
  }
  if (node['Fn::ImportValue'] !== undefined) return asFinding(node['Fn::ImportValue']);
  if (node.Ref !== undefined) return `<${asFinding(node.Ref)}>`;
  return JSON.stringify(node);
};

/**
 * Acknowledges the wildcards (IAM5) of `statements`, granted to `principal`: one finding per
 * wildcard resource or action they hold, and only those, so a wildcard another grant adds later
 * is still reported unless it is the very same ARN.
 */
export const acknowledgeWildcards = (principal: IConstruct, statements: readonly iam.PolicyStatement[], reason: string): void => {
  const stack = Stack.of(principal);
  for (const statement of statements) {
    for (const action of statement.actions) if (action.includes('*')) acknowledge(principal, `IAM5[Action::${action}]`, reason);
    for (const resource of statement.resources) {
      const finding = asFinding(stack.resolve(resource));
      if (finding.includes('*')) acknowledge(principal, `IAM5[Resource::${finding}]`, reason);
    }
  }
};

/** Acknowledges an AWS managed policy (IAM4) attached to `role`. */
export const acknowledgeManagedPolicy = (role: IConstruct, policy: iam.IManagedPolicy, reason: string): void => {
  acknowledge(role, `IAM4[Policy::${asFinding(Stack.of(role).resolve(policy.managedPolicyArn))}]`, reason);
};
