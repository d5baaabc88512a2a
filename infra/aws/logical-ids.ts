/**
 * Logical ids that outlive a change of the construct tree. CDK makes a resource's logical id from
 * its path below the stack, and CloudFormation replaces a resource whose id changes: a replaced
 * queue loses its messages, a named bus, dashboard or log group cannot be made a second time.
 * The stack's resources were deployed before they were grouped into constructs, so a
 * `ResourceGroup` is left out of the paths its resources' ids are made from, and they keep the
 * ids they were deployed with. Not so the few resources CDK names after another construct's full
 * path (an event-source mapping after its queue, a permission after its function): those follow
 * the path. test/infra/template-equivalence.test.ts holds every id to the deployed one, and names
 * the exceptions.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/** A construct that groups resources without renaming them, in a stack that honours it (ClusterServiceStack). */
export class ResourceGroup extends Construct {}

/** The scopes from the stack down to `element`, resource groups left out. */
export const scopesNamingLogicalId = (element: CfnElement): IConstruct[] => element.node.scopes.filter((scope) => !(scope instanceof ResourceGroup));

/** A function or workflow name as the first word of its constructs' ids (`createCluster` → `CreateCluster`). */
export const pascalCase = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);
