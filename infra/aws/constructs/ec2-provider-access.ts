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
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { CONFIGURATION_INPUTS_PREFIX } from '../../../functions/adapters/s3-configuration-inputs.ts';
import { REPO_ROOT } from './service-function.ts';

/** How long a run's inputs are kept: long enough to look at after a failure, never needed after. */
const INPUTS_EXPIRE_AFTER = Duration.days(7);
/** What a master needs of configuration/: the playbooks, roles and run-profile.sh; not the image's recipe or the checks. */
const BUNDLE_EXCLUDES = ['Dockerfile', '.dockerignore', 'README.md', 'check.sh', 'ansible/tests', '**/*.retry', '**/__pycache__'];

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
  /** configuration/ as a zip: what the master runs the profiles from. */
  public readonly configurationBundle: s3assets.Asset;

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
      ...(props.loginUser ? { EC2_LOGIN_USER: props.loginUser } : {}),
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

    this.inputsBucket = new s3.Bucket(this, 'InputsBucket', {
      // Inventories name the nodes' addresses; parameters may carry a script.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-run-inputs', expiration: INPUTS_EXPIRE_AFTER, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // As the table: the stack's data outlives the stack. The rule above empties it within a week.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.configurationBundle = new s3assets.Asset(this, 'ConfigurationBundle', {
      path: path.join(REPO_ROOT, 'configuration'),
      exclude: BUNDLE_EXCLUDES,
    });
    // The step writes the inputs and signs GET URLs for them and the bundle: a URL carries only
    // what its signer may do, so it may read exactly these objects, and list nothing.
    props.driver.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [this.inputsBucket.arnForObjects(`${CONFIGURATION_INPUTS_PREFIX}*`)] }),
    );
    props.driver.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.configurationBundle.bucket.arnForObjects(this.configurationBundle.s3ObjectKey)],
      }),
    );
    props.driver.addEnvironment('CONFIGURATION_INPUTS_BUCKET', this.inputsBucket.bucketName);
    props.driver.addEnvironment('CONFIGURATION_BUNDLE_S3_URI', this.configurationBundle.s3ObjectUrl);
  }
}
