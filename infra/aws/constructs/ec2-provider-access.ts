/**
 * What the `ec2` provider needs in the account: the nodes' role and instance profile (SSM), the
 * settings its functions read, and the IAM statements of docs/ec2-provider.md for the function
 * that drives EC2 — creation only with the service tag in the request, every other change only on
 * resources that carry it.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface Ec2ProviderSettings {
  /** The VPC the clusters' security groups are made in. */
  readonly vpcId: string;
  /** Subnets the servers go to (with a route to SSM). */
  readonly subnetIds: readonly string[];
  /** An arm64 AMI with the SSM agent. */
  readonly imageId: string;
  /**
   * An EC2 key pair for SSH.
   *
   * @default - none (Session Manager needs none)
   */
  readonly keyName?: string;
  /**
   * The `managed-by` tag value on everything the service makes, and the IAM condition on it.
   *
   * @default 'cluster-service'
   */
  readonly serviceTag?: string;
}

export interface Ec2ProviderAccessProps extends Ec2ProviderSettings {
  /** Functions that only plan with the provider (sizes, flavors): settings, no EC2 rights. */
  readonly planners: readonly lambda.Function[];
  /** The function that makes, polls, configures and deletes servers. */
  readonly driver: lambda.Function;
}

const ec2Arn = (resource: string, account: string = Aws.ACCOUNT_ID) => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${account}:${resource}`;

export class Ec2ProviderAccess extends Construct {
  /** The role the cluster nodes run with. */
  public readonly nodeRole: iam.Role;
  public readonly instanceProfile: iam.CfnInstanceProfile;

  public constructor(scope: Construct, id: string, props: Ec2ProviderAccessProps) {
    super(scope, id);
    const tag = props.serviceTag ?? 'cluster-service';

    this.nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Cluster nodes: registered with SSM to take configuration commands',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.instanceProfile = new iam.CfnInstanceProfile(this, 'NodeInstanceProfile', { roles: [this.nodeRole.roleName] });

    const environment: Record<string, string> = {
      EC2_VPC_ID: props.vpcId,
      EC2_SUBNET_IDS: props.subnetIds.join(','),
      EC2_IMAGE_ID: props.imageId,
      EC2_INSTANCE_PROFILE_ARN: this.instanceProfile.attrArn,
      SERVICE_TAG: tag,
      ...(props.keyName ? { EC2_KEY_NAME: props.keyName } : {}),
    };
    for (const fn of [...props.planners, props.driver]) {
      for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
    }

    const requestTagged = { StringEquals: { 'aws:RequestTag/managed-by': tag } };
    const resourceTagged = { StringEquals: { 'aws:ResourceTag/managed-by': tag } };
    const statements = [
      // Describe calls take no resource-level permissions.
      new iam.PolicyStatement({
        actions: ['ec2:DescribeInstances', 'ec2:DescribeImages', 'ec2:DescribeSecurityGroups', 'ec2:DescribeAddresses', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: [ec2Arn('instance/*'), ec2Arn('volume/*')], conditions: requestTagged }),
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [
          ec2Arn(`image/${props.imageId}`, ''),
          ...props.subnetIds.map((subnet) => ec2Arn(`subnet/${subnet}`)),
          ec2Arn('network-interface/*'),
        ],
      }),
      // A spec's own image: only Amazon's or the account's own, no community or other accounts' AMIs.
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('image/*', '')],
        conditions: { StringEquals: { 'ec2:Owner': ['amazon', Aws.ACCOUNT_ID] } },
      }),
      // Key pairs of the account and region: the settings' one, or one a spec names.
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: [ec2Arn('key-pair/*')] }),
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('security-group/*')],
        conditions: { ArnEquals: { 'ec2:Vpc': ec2Arn(`vpc/${props.vpcId}`) } },
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.nodeRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('instance/*'), ec2Arn('volume/*'), ec2Arn('security-group/*'), ec2Arn('elastic-ip/*')],
        conditions: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateSecurityGroup', 'AllocateAddress'] } },
      }),
      // Naming servers after launch: only the Name tag, only on the service's own instances.
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('instance/*')],
        conditions: { ...resourceTagged, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name'] } },
      }),
      new iam.PolicyStatement({ actions: ['ec2:CreateSecurityGroup'], resources: [ec2Arn('security-group/*')], conditions: requestTagged }),
      new iam.PolicyStatement({ actions: ['ec2:CreateSecurityGroup'], resources: [ec2Arn(`vpc/${props.vpcId}`)] }),
      // The members' rule and the spec's ingress rules, only on the service's own groups.
      new iam.PolicyStatement({
        actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
        resources: [ec2Arn('security-group/*')],
        conditions: resourceTagged,
      }),
      new iam.PolicyStatement({ actions: ['ec2:TerminateInstances'], resources: [ec2Arn('instance/*')], conditions: resourceTagged }),
      new iam.PolicyStatement({ actions: ['ec2:AllocateAddress'], resources: [ec2Arn('elastic-ip/*')], conditions: requestTagged }),
      new iam.PolicyStatement({
        actions: ['ec2:AssociateAddress'],
        resources: [ec2Arn('elastic-ip/*'), ec2Arn('instance/*')],
        conditions: resourceTagged,
      }),
      new iam.PolicyStatement({
        actions: ['ec2:DisassociateAddress', 'ec2:ReleaseAddress'],
        resources: [ec2Arn('elastic-ip/*')],
        conditions: resourceTagged,
      }),
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [ec2Arn('instance/*')],
        conditions: { StringEquals: { 'ssm:resourceTag/managed-by': tag } },
      }),
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: ['AWS-RunShellScript', 'AWS-ApplyAnsiblePlaybooks'].map((document) => `arn:${Aws.PARTITION}:ssm:${Aws.REGION}::document/${document}`),
      }),
      new iam.PolicyStatement({
        actions: ['ssm:DescribeInstanceInformation', 'ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation'],
        resources: ['*'],
      }),
    ];
    for (const statement of statements) props.driver.addToRolePolicy(statement);
  }
}
