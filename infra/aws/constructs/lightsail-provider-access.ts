/**
 * The `lightsail` provider's access (docs/lightsail-provider.md, "Deploying"): its settings for
 * the functions that plan with it, and for the one that makes servers the Lightsail actions it
 * calls, bounded by the service tag wherever Lightsail takes a tag condition.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from '../nag.ts';

export interface LightsailProviderSettings {
  /** LIGHTSAIL_BLUEPRINT: the blueprint of nodes whose spec names no image. */
  readonly blueprint: string;
  /** LIGHTSAIL_ZONE; the region's first zone when absent. */
  readonly zone?: string;
  /** LIGHTSAIL_KEY_PAIR */
  readonly keyPair?: string;
  /** The `managed-by` tag value on the instances, and the IAM condition on it. @default 'cluster-service' */
  readonly serviceTag?: string;
}

export interface LightsailProviderAccessProps extends LightsailProviderSettings {
  /** The functions that plan with the provider: its settings, no Lightsail rights (planning calls nothing). */
  readonly planners: readonly lambda.Function[];
  /** The function that makes, watches and deletes servers. */
  readonly driver: lambda.Function;
}

const lightsailArn = (resource: string) => `arn:${Aws.PARTITION}:lightsail:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;

export class LightsailProviderAccess extends Construct {
  public constructor(scope: Construct, id: string, props: LightsailProviderAccessProps) {
    super(scope, id);
    const tag = props.serviceTag ?? 'cluster-service';
    const environment: Record<string, string> = {
      LIGHTSAIL_BLUEPRINT: props.blueprint,
      SERVICE_TAG: tag,
      ...(props.zone ? { LIGHTSAIL_ZONE: props.zone } : {}),
      ...(props.keyPair ? { LIGHTSAIL_KEY_PAIR: props.keyPair } : {}),
    };
    for (const fn of [...props.planners, props.driver]) {
      for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
    }

    const grant = (statement: iam.PolicyStatement, wildcards: string): void => {
      props.driver.addToRolePolicy(statement);
      acknowledgeWildcards(props.driver.role ?? props.driver, [statement], wildcards);
    };
    grant(
      new iam.PolicyStatement({ actions: ['lightsail:GetBlueprints', 'lightsail:GetBundles', 'lightsail:GetInstances', 'lightsail:GetRegions', 'lightsail:GetStaticIps'], resources: ['*'] }),
      'Lightsail\'s Get calls that list take no resource-level permissions',
    );
    grant(
      new iam.PolicyStatement({
        // Tags given at create are authorized as TagResource too.
        actions: ['lightsail:CreateInstances', 'lightsail:TagResource'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestTag/managed-by': tag } },
      }),
      'instances made only with the service tag in the request (aws:RequestTag/managed-by); CreateInstances also names the blueprint, bundle and key pair, so no narrower resource fits',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['lightsail:DeleteInstance', 'lightsail:PutInstancePublicPorts', 'lightsail:StopInstance', 'lightsail:StartInstance'],
        resources: [lightsailArn('Instance/*')],
        conditions: { StringEquals: { 'aws:ResourceTag/managed-by': tag } },
      }),
      'only instances that carry the service tag (aws:ResourceTag/managed-by)',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['lightsail:AllocateStaticIp', 'lightsail:AttachStaticIp', 'lightsail:ReleaseStaticIp'],
        resources: [lightsailArn('StaticIp/*'), lightsailArn('Instance/*')],
      }),
      'static IPs carry no tags, so no tag condition can bound them: the account\'s static IPs and instances of this region (the adapter touches only the ones named after its clusters)',
    );
  }
}
