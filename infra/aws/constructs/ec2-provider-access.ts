/**
 * What the `ec2` provider needs in the account: the nodes' role and instance profile (SSM), the
 * settings its functions read, and the IAM statements of docs/ec2-provider.md for the function
 * that drives EC2 — creation only with the service tag in the request, every other change only on
 * resources that carry it. Also what the SSM runner's controller mode fetches on the master: the
 * configuration bundle (an asset of configuration/) and each run's inputs, in a bucket of their
 * own that the configuration container shares.
 */
import * as path from 'node:path';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { CONFIGURATION_INPUTS_PREFIX } from '../../../functions/adapters/s3-configuration-inputs.ts';
import { acknowledgeManagedPolicy, acknowledgeWildcards } from '../nag.ts';
import { REPO_ROOT } from './service-function.ts';
import { CONFIGURATION_BUNDLE_EXCLUDES } from './configuration-bundle.ts';

/** How long a run's inputs are kept: long enough to look at after a failure, never needed after. */
const INPUTS_EXPIRE_AFTER = Duration.days(7);
/** What a master needs of configuration/: the playbooks, roles and run-profile.sh; not the image's recipe or the checks. */

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
  /**
   * The image's login user, whom the SSM runner's controller opens the workers as (the
   * inventory's `ansible_user`): `admin` on Debian's AMIs, `ubuntu` on Ubuntu's.
   *
   * @default - the runner's default, `admin`
   */
  readonly loginUser?: string;
}

export interface Ec2ProviderAccessProps extends Ec2ProviderSettings {
  /** Functions that only plan with the provider (sizes, flavors): settings, no EC2 rights. */
  readonly planners: readonly lambda.Function[];
  /** The function that makes, polls, configures and deletes servers. */
  readonly driver: lambda.Function;
  /**
   * How long the inputs bucket's access logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

const ec2Arn = (resource: string, account: string = Aws.ACCOUNT_ID) => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${account}:${resource}`;

export class Ec2ProviderAccess extends Construct {
  /** The role the cluster nodes run with. */
  public readonly nodeRole: iam.Role;
  public readonly instanceProfile: iam.CfnInstanceProfile;
  /**
   * The inventory and parameters of each run (`inputs/<cluster id>/<attempt>/…`): fetched by the
   * master through presigned URLs, or by the configuration container with its task role.
   */
  public readonly inputsBucket: s3.Bucket;
  /** Who read and wrote the inputs: the inputs bucket's server access logs. */
  public readonly accessLogsBucket: s3.Bucket;
  /** configuration/ as a zip: what the master runs the profiles from. */
  public readonly configurationBundle: s3assets.Asset;

  public constructor(scope: Construct, id: string, props: Ec2ProviderAccessProps) {
    super(scope, id);
    const tag = props.serviceTag ?? 'cluster-service';
    const ssmCore = iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore');

    this.nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Cluster nodes: registered with SSM to take configuration commands',
      managedPolicies: [ssmCore],
    });
    acknowledgeManagedPolicy(
      this.nodeRole,
      ssmCore,
      'what the SSM agent needs to register and take commands (ssm, ssmmessages, ec2messages), kept in step with the agent by AWS; the nodes get nothing else',
    );
    this.instanceProfile = new iam.CfnInstanceProfile(this, 'NodeInstanceProfile', { roles: [this.nodeRole.roleName] });

    const environment: Record<string, string> = {
      EC2_VPC_ID: props.vpcId,
      EC2_SUBNET_IDS: props.subnetIds.join(','),
      EC2_IMAGE_ID: props.imageId,
      EC2_INSTANCE_PROFILE_ARN: this.instanceProfile.attrArn,
      SERVICE_TAG: tag,
      ...(props.keyName ? { EC2_KEY_NAME: props.keyName } : {}),
      ...(props.loginUser ? { EC2_LOGIN_USER: props.loginUser } : {}),
    };
    for (const fn of [...props.planners, props.driver]) {
      for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
    }

    const requestTagged = { StringEquals: { 'aws:RequestTag/managed-by': tag } };
    const resourceTagged = { StringEquals: { 'aws:ResourceTag/managed-by': tag } };
    // Each grant's wildcards are acknowledged (cdk-nag IAM5) with why they are bounded.
    const grant = (statement: iam.PolicyStatement, wildcards?: string): void => {
      props.driver.addToRolePolicy(statement);
      if (wildcards) acknowledgeWildcards(props.driver.role ?? props.driver, [statement], wildcards);
    };
    const serviceTagged = 'only resources that carry the service tag (aws:ResourceTag/managed-by)';
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:DescribeInstances', 'ec2:DescribeImages', 'ec2:DescribeSecurityGroups', 'ec2:DescribeAddresses', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
      'EC2\'s Describe calls take no resource-level permissions',
    );
    grant(
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: [ec2Arn('instance/*'), ec2Arn('volume/*')], conditions: requestTagged }),
      'instances and volumes RunInstances makes: only with the service tag in the request (aws:RequestTag/managed-by)',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [
          ec2Arn(`image/${props.imageId}`, ''),
          ...props.subnetIds.map((subnet) => ec2Arn(`subnet/${subnet}`)),
          ec2Arn('network-interface/*'),
        ],
      }),
      'the network interfaces RunInstances makes, whose ids do not exist before the launch; the subnets they may be in are named',
    );
    // A spec's own image: only Amazon's or the account's own, no community or other accounts' AMIs.
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('image/*', '')],
        conditions: { StringEquals: { 'ec2:Owner': ['amazon', Aws.ACCOUNT_ID] } },
      }),
      'a spec may name its own image: any of the region\'s AMIs that Amazon or the account owns (ec2:Owner), no other',
    );
    // Key pairs of the account and region: the settings' one, or one a spec names.
    grant(
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: [ec2Arn('key-pair/*')] }),
      'a spec may name any key pair of the account and region; a key pair only lets its holder log in to what it is launched with',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('security-group/*')],
        conditions: { ArnEquals: { 'ec2:Vpc': ec2Arn(`vpc/${props.vpcId}`) } },
      }),
      'the clusters\' security groups are made at run time: only groups of the settings\' VPC (ec2:Vpc)',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.nodeRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('instance/*'), ec2Arn('volume/*'), ec2Arn('security-group/*'), ec2Arn('elastic-ip/*')],
        conditions: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateSecurityGroup', 'AllocateAddress'] } },
      }),
      'tags only within the call that creates the resource (ec2:CreateAction), whose own statement asks for the service tag',
    );
    // Naming servers after launch: only the Name tag, only on the service's own instances.
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('instance/*')],
        conditions: { ...resourceTagged, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name'] } },
      }),
      `the Name tag alone, on ${serviceTagged}`,
    );
    grant(
      new iam.PolicyStatement({ actions: ['ec2:CreateSecurityGroup'], resources: [ec2Arn('security-group/*')], conditions: requestTagged }),
      'groups made with the service tag in the request (aws:RequestTag/managed-by), in the settings\' VPC alone',
    );
    grant(new iam.PolicyStatement({ actions: ['ec2:CreateSecurityGroup'], resources: [ec2Arn(`vpc/${props.vpcId}`)] }));
    // The members' rule and the spec's ingress rules, only on the service's own groups.
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
        resources: [ec2Arn('security-group/*')],
        conditions: resourceTagged,
      }),
      serviceTagged,
    );
    grant(
      new iam.PolicyStatement({ actions: ['ec2:TerminateInstances', 'ec2:StopInstances', 'ec2:StartInstances'], resources: [ec2Arn('instance/*')], conditions: resourceTagged }),
      serviceTagged,
    );
    grant(
      new iam.PolicyStatement({ actions: ['ec2:AllocateAddress'], resources: [ec2Arn('elastic-ip/*')], conditions: requestTagged }),
      'addresses allocated with the service tag in the request (aws:RequestTag/managed-by)',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:AssociateAddress'],
        resources: [ec2Arn('elastic-ip/*'), ec2Arn('instance/*')],
        conditions: resourceTagged,
      }),
      serviceTagged,
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ec2:DisassociateAddress', 'ec2:ReleaseAddress'],
        resources: [ec2Arn('elastic-ip/*')],
        conditions: resourceTagged,
      }),
      serviceTagged,
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [ec2Arn('instance/*')],
        conditions: { StringEquals: { 'ssm:resourceTag/managed-by': tag } },
      }),
      'commands only to instances that carry the service tag (ssm:resourceTag/managed-by), with the two documents named',
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: ['AWS-RunShellScript', 'AWS-ApplyAnsiblePlaybooks'].map((document) => `arn:${Aws.PARTITION}:ssm:${Aws.REGION}::document/${document}`),
      }),
    );
    grant(
      new iam.PolicyStatement({
        actions: ['ssm:DescribeInstanceInformation', 'ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation'],
        resources: ['*'],
      }),
      'SSM\'s DescribeInstanceInformation, ListCommands, ListCommandInvocations and GetCommandInvocation take no resource-level permissions',
    );

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 delivers server access logs to SSE-S3 buckets only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules:
        logRetention === logs.RetentionDays.INFINITE ? [] : [{ id: 'expire-access-logs', expiration: Duration.days(logRetention) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.inputsBucket = new s3.Bucket(this, 'InputsBucket', {
      // Inventories name the nodes' addresses; parameters may carry a script.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'inputs-bucket/',
      lifecycleRules: [{ id: 'expire-run-inputs', expiration: INPUTS_EXPIRE_AFTER, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // As the table: the stack's data outlives the stack. The rule above empties it within a week.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.configurationBundle = new s3assets.Asset(this, 'ConfigurationBundle', {
      path: path.join(REPO_ROOT, 'configuration'),
      exclude: CONFIGURATION_BUNDLE_EXCLUDES,
    });
    // The step writes the inputs and signs GET URLs for them and the bundle: a URL carries only
    // what its signer may do, so it may read exactly these objects, and list nothing.
    grant(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [this.inputsBucket.arnForObjects(`${CONFIGURATION_INPUTS_PREFIX}*`)] }),
      `the runs' inputs under ${CONFIGURATION_INPUTS_PREFIX}<cluster id>/<attempt>/, for clusters made after deployment; no other prefix, no listing`,
    );
    grant(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.configurationBundle.bucket.arnForObjects(this.configurationBundle.s3ObjectKey)],
      }),
    );
    props.driver.addEnvironment('CONFIGURATION_INPUTS_BUCKET', this.inputsBucket.bucketName);
    props.driver.addEnvironment('CONFIGURATION_BUNDLE_S3_URI', this.configurationBundle.s3ObjectUrl);
  }
}
