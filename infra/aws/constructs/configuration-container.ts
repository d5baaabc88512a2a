/**
 * The configuration container as an ECS Fargate task (configuration/README.md, "ECS (Fargate)
 * task"): the container runner of the provision workflow. The workflow runs it with
 * `ecs:runTask.sync`, so the state machine's role gets the rights that integration needs; its
 * inputs go through a bucket of their own, its progress through a subscription on its logs.
 */
import { Annotations, Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { CONFIGURATION_INPUTS_PREFIX } from '../../../functions/adapters/s3-configuration-inputs.ts';
import { COMPONENT_LINE_FIELDS, COMPONENT_MARKER } from '../../../functions/domain/component-lines.ts';
import { acknowledgeWildcards } from '../nag.ts';

/** The container's name in the task definition; the workflow's overrides address it by this name. */
export const CONFIGURATION_CONTAINER_NAME = 'configuration';

/** The rule Step Functions manages to learn when a `.sync` ECS task stops. */
const SYNC_RULE = 'StepFunctionsGetEventsForECSTaskRule';

export interface ConfigurationContainerSettings {
  /** The image's URI in a registry (built from `configuration/Dockerfile`); an ECR URI gets pull rights. */
  readonly image: string;
  /** The complete ARN of a Secrets Manager secret holding the SSH private key that opens every node. */
  readonly sshKeySecretArn: string;
  /**
   * Task CPU units (Ansible over SSH to many nodes is mostly waiting).
   *
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB (Ansible forks a process per node it talks to at once).
   *
   * @default 2048
   */
  readonly memoryLimitMiB?: number;
}

export interface ConfigurationContainerProps extends ConfigurationContainerSettings {
  /** The VPC of the clusters' nodes: the task reaches them by their private addresses. */
  readonly vpcId: string;
  /** Subnets the task runs in (with a route to ECR, Secrets Manager and CloudWatch Logs). */
  readonly subnetIds: readonly string[];
  /** The workflow step that prepares the task's environment: it is told the network settings (it writes the inputs with the ec2 provider's grants). */
  readonly driver: lambda.Function;
  /** The runs' inputs (the ec2 provider's bucket): the task reads them there. */
  readonly inputsBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

export class ConfigurationContainer extends Construct {
  public readonly cluster: ecs.CfnCluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The role the container runs with: it may read its inputs, nothing else (its logs go through the execution role). */
  public readonly taskRole: iam.Role;
  /** The role ECS pulls the image, writes the logs and reads the SSH key with. */
  public readonly executionRole: iam.Role;
  /** The task's group: out to the nodes on 22, and to AWS endpoints on 443. */
  public readonly securityGroup: ec2.CfnSecurityGroup;
  public readonly logGroup: logs.LogGroup;
  /**
   * The inventory and parameters of each run (`inputs/<cluster id>/<attempt>/…`), passed by
   * reference: ECS caps a RunTask's overrides at 8 KiB.
   */
  public readonly inputsBucket: s3.IBucket;

  public constructor(scope: Construct, id: string, props: ConfigurationContainerProps) {
    super(scope, id);

    // An L1 cluster: the L2 wants a VPC object, which would mean a lookup at synth time.
    this.cluster = new ecs.CfnCluster(this, 'Cluster', { clusterSettings: [{ name: 'containerInsights', value: 'enabled' }] });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'The configuration container: Ansible over SSH; reads its inputs from S3',
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Starts the configuration container: image, logs, SSH key',
    });
    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
    });
    grantEcrPull(this.executionRole, props.image);
    const sshKey = secretsmanager.Secret.fromSecretCompleteArn(this, 'SshKey', props.sshKeySecretArn);
    const container = this.taskDefinition.addContainer(CONFIGURATION_CONTAINER_NAME, {
      containerName: CONFIGURATION_CONTAINER_NAME,
      image: ecs.ContainerImage.fromRegistry(props.image),
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'configuration' }),
      // A secret, never an override: overrides are visible in the task's description.
      secrets: { SSH_PRIVATE_KEY: ecs.Secret.fromSecretsManager(sshKey) },
    });
    if (ECR_IMAGE.test(props.image)) {
      Annotations.of(container).acknowledgeWarning('@aws-cdk/aws-ecs:ecrImageRequiresPolicy', 'the execution role may pull from the image’s repository');
    }

    this.securityGroup = new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpcId,
      groupDescription: 'The configuration container: SSH to the cluster nodes',
      securityGroupEgress: [
        { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIp: '0.0.0.0/0', description: 'SSH to the cluster nodes' },
        { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0', description: 'ECR, Secrets Manager, CloudWatch Logs' },
      ],
    });

    this.inputsBucket = props.inputsBucket;
    // Exactly the object reads the task needs: no listing, no other prefix.
    const readInputs = new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.inputsBucket.arnForObjects(`${CONFIGURATION_INPUTS_PREFIX}*`)] });
    this.taskRole.addToPolicy(readInputs);
    acknowledgeWildcards(this.taskRole, [readInputs], `the runs' inputs under ${CONFIGURATION_INPUTS_PREFIX}<cluster id>/<attempt>/, for clusters made after deployment; no other prefix, no listing`);

    props.driver.addEnvironment('CONTAINER_RUNNER_ENABLED', 'true');
    props.driver.addEnvironment('CONFIGURATION_SUBNETS', props.subnetIds.join(','));
    props.driver.addEnvironment('CONFIGURATION_SECURITY_GROUPS', this.securityGroup.attrGroupId);
  }

  /**
   * Sends the container's `COMPONENT` lines, and nothing else it logs, to `fn`: a subscription
   * filter on the task's log group (Ansible's own output goes to the same streams).
   */
  public reportProgressTo(fn: lambda.IFunction): logs.SubscriptionFilter {
    return new logs.SubscriptionFilter(this, 'ProgressSubscription', {
      logGroup: this.logGroup,
      destination: new logsDestinations.LambdaDestination(fn),
      filterPattern: logs.FilterPattern.spaceDelimited(...COMPONENT_LINE_FIELDS).whereString('marker', '=', COMPONENT_MARKER),
    });
  }

  /** What `ecs:runTask.sync` needs; a definition read from a file infers none of it. */
  public grantRun(grantee: iam.IGrantable & IConstruct): void {
    const family = this.taskDefinition.family;
    const ecsArn = (resource: string) => `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const run = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ecs:RunTask'],
      // Any revision of this family: the state machine names the latest at deployment.
      resourceArns: [ecsArn(`task-definition/${family}:*`)],
      conditions: { ArnEquals: { 'ecs:cluster': this.cluster.attrArn } },
    });
    acknowledgeWildcards(grantee, run.principalStatements, 'any revision of this one task definition family, on this cluster alone (ecs:cluster): a deployment registers a new revision');
    const follow = iam.Grant.addToPrincipal({ grantee, actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resourceArns: [ecsArn(`task/${this.cluster.ref}/*`)] });
    acknowledgeWildcards(grantee, follow.principalStatements, 'the tasks of this one cluster: each run is a new task, its id known only once it starts');
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resourceArns: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${SYNC_RULE}`],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.taskRole.roleArn, this.executionRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
  }
}

/** An ECR image's repository: the execution role may pull from it. */
const grantEcrPull = (role: iam.Role, image: string): void => {
  const ecrImage = ECR_IMAGE.exec(image);
  if (!ecrImage) return;
  const [, account, region, name] = ecrImage;
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [`arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${name}`],
    }),
  );
  const authorize = new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] });
  role.addToPolicy(authorize);
  acknowledgeWildcards(role, [authorize], 'ecr:GetAuthorizationToken takes no resource; the pulls themselves are granted on the image\'s repository alone');
};
