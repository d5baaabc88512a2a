/**
 * Provider `ec2` (docs/providers.md): the cloud port over Amazon EC2, with configuration through SSM
 * Run Command. How each call maps onto EC2, the grants it needs and its limits are in
 * docs/ec2-provider.md.
 *
 * Everything it makes carries two tags: `cluster-service:cluster-id` (which cluster) and
 * `managed-by` = the service tag (which deployment). Lookups and deletion go by those tags,
 * never by ids remembered elsewhere, and the IAM policy can be scoped by the second one.
 */
import { createHash } from 'node:crypto';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DisassociateAddressCommand,
  EC2Client,
  ReleaseAddressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type _InstanceType,
  type Address,
  type Filter,
  type Instance,
  type IpPermission,
  type RunInstancesRequest,
  type SecurityGroup,
  type Tag,
} from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { ProviderError, type ErrorDetail } from '#domain/errors';
import { cidrFamily } from '#domain/cidr';
import { MASTER_ROLE, type SecurityRule } from '#domain/model';
import type {
  CloudProvider,
  ConfigurationCluster,
  ConfigurationStatus,
  CreateNetworksInput,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  CreateServersInput,
  ServerOptions,
  ServerRequest,
  ServerSize,
} from '#domain/provider';
import { clientTags } from '#domain/tags';
import { chunk, forEachConcurrently } from '#lib/batching';
import { ConfigError } from '#lib/config';
import { INSTANCE_ARCHITECTURE, instanceType, smallestInstanceType } from './ec2-instance-types.ts';
import { traced } from '#lib/tracer';
import { awsError, errorName } from './aws/index.ts';
import { DEFAULT_LOGIN_USER, ec2InventoryVars, SsmConfigurationRunner, type Ec2InventoryVars, type SsmConfigurationOptions } from './ssm-configuration.ts';

export const CLUSTER_ID_TAG = 'cluster-service:cluster-id';
export const ROLE_TAG = 'cluster-service:role';
export const MANAGED_BY_TAG = 'managed-by';

export interface Ec2ProviderOptions {
  /**
   * The one region the provider works in. Set, specs naming another region are refused when the
   * cluster is requested; unset, only when its servers are created (the client's region is
   * known only asynchronously). @default the SDK's (AWS_REGION)
   */
  region?: string;
  /** The VPC the security groups (private networks) are made in. */
  vpcId: string;
  /** Where instances go, spread round robin; private subnets with a route to SSM. */
  subnetIds: string[];
  /** The AMI of every node; arm64, like every instance type the provider resolves to. */
  imageId: string;
  /** An EC2 key pair for SSH; none by default (SSM Session Manager needs none). */
  keyName?: string;
  /** The instance profile the nodes run with; its role needs `AmazonSSMManagedInstanceCore`. */
  instanceProfileArn: string;
  /** Value of the `managed-by` tag on everything made. @default 'cluster-service' */
  serviceTag?: string;
  /** Servers per create call. @default 50 */
  maxBatchSize?: number;
  /** The image's login user, for runners that reach the nodes over SSH. @default 'admin' (Debian's AMIs) */
  loginUser?: string;
  /** Root volume of a server whose flavor was asked for by name. @default 20 */
  defaultDiskGb?: number;
  /** @default { expectedBootSeconds: 60, expectedConfigurationSeconds: 300 } */
  timings?: Partial<ProviderTimings>;
  /** Profiles and SSM options of the configuration runner. */
  configuration?: SsmConfigurationOptions;
  /** @default a client for `region`, adaptive retries */
  ec2?: EC2Client;
  /** @default a client for `region`, adaptive retries */
  ssm?: SSMClient;
}

const settingsSchema = z.object({
  region: z.string().min(1).optional(),
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-…)'),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id (subnet-…)')).min(1, 'needs at least one subnet'),
  imageId: z.string().regex(/^ami-[0-9a-f]+$/, 'must be an AMI id (ami-…)'),
  keyName: z.string().min(1).max(255).optional(),
  instanceProfileArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/, 'must be an instance profile ARN'),
  // It is a tag value, an IAM condition value and part of SSM command comments: keep it plain.
  serviceTag: z
    .string()
    .regex(/^[A-Za-z0-9._+=@-]{1,40}$/, 'must be 1-40 letters, digits or ._+=@-')
    .default('cluster-service'),
  maxBatchSize: z.int().min(1).max(100).default(50),
  /** The image's login user: what runners that connect over SSH log in as. */
  loginUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name').default(DEFAULT_LOGIN_USER),
  defaultDiskGb: z.int().min(1).max(16_384).default(20),
  timings: z
    .object({ expectedBootSeconds: z.number().positive(), expectedConfigurationSeconds: z.number().positive() })
    .partial()
    .default({}),
});

type Settings = z.infer<typeof settingsSchema>;

const DEFAULT_TIMINGS: ProviderTimings = { expectedBootSeconds: 60, expectedConfigurationSeconds: 300 };
/** EC2 takes ClientToken values of up to 64 ASCII characters. */
const MAX_CLIENT_TOKEN = 64;
/** DescribeInstances' largest page when filtering. */
const MAX_DESCRIBE_RESULTS = 1000;
const TERMINATE_CHUNK = 500;
/** Per-instance calls (names, addresses) run this many at a time: EC2 throttles bursts per account. */
const CALL_CONCURRENCY = 5;
const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
/** EC2 takes 50 tags per resource; an instance carries four of the provider's (cluster id, managed-by, role, Name). */
export const MAX_CLIENT_TAGS = 50 - 4;
/** EC2's limit on user data, before base64. */
const MAX_USER_DATA_BYTES = 16_384;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

const STATES: Record<string, ProviderServer['state']> = {
  pending: 'BUILD',
  running: 'ACTIVE',
  'shutting-down': 'DELETING',
  terminated: 'DELETED',
  stopping: 'ERROR',
  stopped: 'ERROR',
};

/**
 * Final although EC2 files several of them under server errors (HTTP 500): capacity and limits do
 * not come back within a workflow's retries, so the cluster fails with EC2's code instead.
 */
const FINAL_CODES = [
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientAddressCapacity',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'AddressLimitExceeded',
  'Unsupported',
];

/** EC2's answer in the domain's terms: throttling and 5xx are retried by the workflow, the rest is final. */
export const ec2Error = (operation: string, error: unknown, alsoTransient: readonly string[] = []): Error =>
  awsError('EC2', operation, error, {
    transient: alsoTransient,
    final: FINAL_CODES,
    // The code becomes the cluster's error code; the message is EC2's own.
    refusal: (sdk) => new ProviderError(sdk.name, sdk.message),
  });

const regionMessage = (wanted: string, region: string): string => `region ${wanted} is not served here: this deployment's ec2 provider works in ${region}`;

const EGRESS_MESSAGE = 'ec2 applies ingress rules only: the cluster’s security groups already allow all egress, and narrowing it would cut the nodes off from SSM';

/** Each permission once: EC2 refuses a request that names one twice. */
const uniquePermissions = (permissions: IpPermission[]): IpPermission[] => [...new Map(permissions.map((p) => [JSON.stringify(p), p])).values()];

const tagValue = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((tag) => tag.Key === key)?.Value;

/** ClientToken for one launch; hashed when the readable form is too long for EC2. */
export const launchToken = (clientToken: string, flavor: string, launchIndex: number): string => {
  const readable = `${clientToken}-${flavor}-l${launchIndex}`;
  return readable.length <= MAX_CLIENT_TOKEN && /^[\x21-\x7e]+$/.test(readable)
    ? readable
    : createHash('sha256').update(readable).digest('base64url');
};

/** One RunInstances call: servers sharing instance type, root volume, role and subnet. */
interface Launch {
  flavor: string;
  diskGb: number;
  role: string;
  subnetId: string;
  servers: ServerRequest[];
}

/**
 * Cuts a batch into launches. Subnets go round robin over the batch's order; the cut depends
 * only on the batch, so a retried call makes the same launches with the same tokens.
 */
export const planLaunches = (servers: ServerRequest[], subnetIds: string[]): Launch[] => {
  const launches = new Map<string, Launch>();
  servers.forEach((server, i) => {
    const subnetId = subnetIds[i % subnetIds.length] ?? '';
    const key = JSON.stringify([server.flavor, server.diskGb, server.role, subnetId]);
    const launch = launches.get(key) ?? { flavor: server.flavor, diskGb: server.diskGb, role: server.role, subnetId, servers: [] };
    launch.servers.push(server);
    launches.set(key, launch);
  });
  return [...launches.values()];
};

/**
 * A client's ingress rule as EC2 takes it: tcp/udp with their port range (an absent end is open:
 * 0 or 65535), icmp as every ICMP type (icmpv6 for an IPv6 prefix), any as protocol -1; the
 * prefix's family picks IpRanges or Ipv6Ranges.
 */
export const ipPermissionOf = (rule: SecurityRule): IpPermission => {
  const ipv6 = cidrFamily(rule.remoteIpPrefix) === 'IPv6';
  const ranges = ipv6 ? { Ipv6Ranges: [{ CidrIpv6: rule.remoteIpPrefix }] } : { IpRanges: [{ CidrIp: rule.remoteIpPrefix }] };
  switch (rule.protocol) {
    case 'tcp':
    case 'udp':
      return { IpProtocol: rule.protocol, FromPort: rule.portRangeMin ?? 0, ToPort: rule.portRangeMax ?? 65_535, ...ranges };
    case 'icmp':
      return { IpProtocol: ipv6 ? 'icmpv6' : 'icmp', FromPort: -1, ToPort: -1, ...ranges };
    case 'any':
      return { IpProtocol: '-1', ...ranges };
    default:
      throw new ProviderError('UnsupportedSecurityRule', `protocol ${rule.protocol} is not one ec2 security groups take here (tcp, udp, icmp, any)`);
  }
};

/** EC2 describes protocols by name where it has one, whatever they were authorized as. */
const PROTOCOL_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };
const protocolName = (protocol: string | undefined): string => PROTOCOL_NAMES[protocol ?? ''] ?? protocol ?? '';

/** Whether a group's permissions already allow what `wanted` (one protocol, ports, one range) does. */
const isCovered = (wanted: IpPermission, existing: readonly IpPermission[]): boolean => {
  const cidr = wanted.IpRanges?.[0]?.CidrIp;
  const cidrIpv6 = wanted.Ipv6Ranges?.[0]?.CidrIpv6;
  return existing.some(
    (permission) =>
      protocolName(permission.IpProtocol) === protocolName(wanted.IpProtocol) &&
      (permission.FromPort ?? -1) === (wanted.FromPort ?? -1) &&
      (permission.ToPort ?? -1) === (wanted.ToPort ?? -1) &&
      (cidr !== undefined
        ? (permission.IpRanges ?? []).some((range) => range.CidrIp === cidr)
        : (permission.Ipv6Ranges ?? []).some((range) => range.CidrIpv6 === cidrIpv6)),
  );
};

interface Image {
  id: string;
  rootDeviceName: string;
  /** The root snapshot's size: a smaller root volume is refused by EC2. */
  minRootGb: number;
}

export class Ec2Provider implements CloudProvider {
  readonly name = 'ec2';
  readonly maxBatchSize: number;
  readonly timings: ProviderTimings;
  readonly inventoryVars: Readonly<Ec2InventoryVars>;

  private readonly settings: Settings;
  private readonly ec2: EC2Client;
  private readonly configuration: SsmConfigurationRunner;
  /** By AMI id: the deployment's, and any a spec named. */
  private readonly images = new Map<string, Promise<Image>>();
  /** The Availability Zone of each subnet of the settings, looked up once a spec names a zone. */
  private subnetZones: Promise<Map<string, string>> | undefined;

  constructor(options: Ec2ProviderOptions) {
    const { ec2, ssm, configuration, ...data } = options;
    const parsed = settingsSchema.safeParse(data);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
      throw new ConfigError(`invalid ec2 provider settings: ${problems.join('; ')}`);
    }
    this.settings = parsed.data;
    this.maxBatchSize = parsed.data.maxBatchSize;
    this.timings = { ...DEFAULT_TIMINGS, ...parsed.data.timings };
    this.inventoryVars = ec2InventoryVars(parsed.data.loginUser);
    const clientConfig = { ...(parsed.data.region ? { region: parsed.data.region } : {}), retryMode: 'adaptive' };
    this.ec2 = ec2 ?? traced(new EC2Client(clientConfig));
    try {
      this.configuration = new SsmConfigurationRunner(ssm ?? traced(new SSMClient(clientConfig)), parsed.data.serviceTag, configuration, this.inventoryVars);
    } catch (error) {
      throw new ConfigError(`invalid ec2 provider settings: configuration: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  resolveFlavor(size: ServerSize): string {
    return smallestInstanceType(size).name;
  }

  describeFlavor(flavor: string): ServerSize | null {
    const type = instanceType(flavor);
    return type ? { vcpus: type.vcpus, ramMb: type.ramMib, diskGb: this.settings.defaultDiskGb } : null;
  }

  /**
   * What EC2 or this provider would refuse: another region (when the settings name one), a zone
   * outside it, an image that is not an AMI id, user data over 16 KiB, more tags than fit beside
   * the provider's own, egress rules (a security group allows all egress already). Whether the
   * deployment has a subnet in the zone is known only when servers are made (`InvalidZone`).
   */
  checkOptions(input: ProviderSpecOptions): ErrorDetail[] {
    const { options } = input;
    const region = this.settings.region;
    const details: ErrorDetail[] = [];
    if (options.region !== undefined && region !== undefined && options.region !== region) {
      details.push({ path: 'region', message: regionMessage(options.region, region) });
    }
    if (options.zone !== undefined && region !== undefined && !options.zone.startsWith(region)) {
      details.push({ path: 'zone', message: `must be an Availability Zone of ${region}, such as ${region}a` });
    }
    if (options.image !== undefined && !AMI_ID.test(options.image)) {
      details.push({ path: 'image', message: 'must be an AMI id (ami-…) on ec2' });
    }
    if (options.userData !== undefined && Buffer.from(options.userData, 'base64').length > MAX_USER_DATA_BYTES) {
      details.push({ path: 'userData', message: `EC2 takes at most ${MAX_USER_DATA_BYTES} bytes of user data (before base64)` });
    }
    if (clientTags(options.tags).length > MAX_CLIENT_TAGS) {
      details.push({ path: 'tags', message: `at most ${MAX_CLIENT_TAGS} on ec2: an instance takes 50 tags, and the service puts 4 of its own` });
    }
    input.securityRules.forEach((rule, i) => {
      if (rule.direction !== 'ingress') details.push({ path: `network.securityRules.${i}.direction`, message: EGRESS_MESSAGE });
    });
    return details;
  }

  /**
   * A private network is a security group whose members may reach each other on every port;
   * the subnets are the settings' and shared. Found by name and tags before anything is made.
   */
  async createNetworks(input: CreateNetworksInput): Promise<string[]> {
    const rules = input.securityRules ?? [];
    if (rules.some((rule) => rule.direction !== 'ingress')) throw new ProviderError('UnsupportedSecurityRule', EGRESS_MESSAGE);
    const wanted = uniquePermissions(rules.map(ipPermissionOf));
    const names = Array.from({ length: input.count }, (_, i) => `${input.clusterId}-net-${i}`);
    if (names.length === 0) return [];
    const existing = new Map((await this.securityGroups(input.clusterId)).map((group) => [group.GroupName, group]));
    const ids: string[] = [];
    for (const name of names) {
      const group = existing.get(name) ?? (await this.createSecurityGroup(input.clusterId, name));
      const groupId = group.GroupId ?? '';
      const permissions = group.IpPermissions ?? [];
      const open = permissions.some(
        (permission) => permission.IpProtocol === '-1' && (permission.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === groupId),
      );
      if (!open) await this.allowMembers(groupId);
      // Every server joins every network, so each group carries the client's rules.
      await this.allowRules(groupId, wanted.filter((permission) => !isCovered(permission, permissions)));
      ids.push(groupId);
    }
    return ids;
  }

  /**
   * One RunInstances per launch (instance type × root volume × role × subnet) with
   * MinCount = MaxCount = its size and a ClientToken derived from the batch's, so a retried call
   * gets the same reservations back and launches nothing new; then each instance's Name.
   */
  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    if (input.servers.length === 0) return [];
    if (input.servers.length > this.maxBatchSize) {
      throw new ProviderError('BatchTooLarge', `A create call takes at most ${this.maxBatchSize} servers; this one asked for ${input.servers.length}`);
    }
    const unknown = [...new Set(input.servers.map((server) => server.flavor))].filter((flavor) => !instanceType(flavor));
    if (unknown.length > 0) throw new ProviderError('UnknownFlavor', `Not an instance type this provider offers: ${unknown.join(', ')}`);
    const options = input.options ?? {};
    await this.checkRegion(options.region);
    const image = await this.describeImage(options.image ?? this.settings.imageId);
    const subnetIds = options.zone === undefined ? this.settings.subnetIds : await this.subnetsIn(options.zone);
    const made = new Map<string, ProviderServer>();
    // One launch after the other: RunInstances has the smallest rate bucket of EC2's API.
    for (const [index, launch] of planLaunches(input.servers, subnetIds).entries()) {
      const request = this.launchRequest(input, launch, launchToken(input.clientToken, launch.flavor, index), image);
      const reservation = await this.call('RunInstances', () => this.ec2.send(new RunInstancesCommand(request)));
      const instances = [...(reservation.Instances ?? [])].sort((a, b) => (a.AmiLaunchIndex ?? 0) - (b.AmiLaunchIndex ?? 0));
      if (instances.length !== launch.servers.length) {
        throw new ProviderError('UnexpectedLaunch', `RunInstances ${request.ClientToken} answered ${instances.length} instances for ${launch.servers.length} servers`);
      }
      const named = instances.map((instance, i) => ({ instance, name: launch.servers[i]?.name ?? instance.InstanceId ?? '' }));
      await this.nameInstances(named.filter(({ instance, name }) => tagValue(instance.Tags, 'Name') !== name));
      for (const { instance, name } of named) made.set(name, this.toServer(instance, name));
    }
    return input.servers.flatMap((server) => {
      const found = made.get(server.name);
      return found ? [found] : [];
    });
  }

  /** Every instance with the cluster's tags: one DescribeInstances (paged by NextToken), never one per instance. */
  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    return (await this.instances(input.clusterId)).map((instance) => this.toServer(instance));
  }

  /**
   * An Elastic IP per server: the one the server already has, else an unassociated one of the
   * cluster's (left by a call that stopped between allocate and associate), else a new one.
   */
  async allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    const serverIds = [...new Set(input.serverIds)];
    const addresses = await this.addresses(input.clusterId);
    const result: Record<string, string> = {};
    const free = addresses.filter((address) => !address.AssociationId && !address.InstanceId);
    const needing: { instanceId: string; address: Address | undefined }[] = [];
    for (const instanceId of serverIds) {
      const held = addresses.find((address) => address.InstanceId === instanceId);
      if (held?.PublicIp) result[instanceId] = held.PublicIp;
      else needing.push({ instanceId, address: free.shift() });
    }
    await forEachConcurrently(needing, CALL_CONCURRENCY, async ({ instanceId, address }) => {
      const allocated = address ?? (await this.allocateAddress(input.clusterId));
      await this.call(
        'AssociateAddress',
        () => this.ec2.send(new AssociateAddressCommand({ AllocationId: allocated.AllocationId, InstanceId: instanceId, AllowReassociation: false })),
        ['InvalidInstanceID.NotFound'],
      );
      result[instanceId] = allocated.PublicIp ?? '';
    });
    return result;
  }

  /**
   * The servers whose SSM agent is not Online yet: registering takes about a minute after boot,
   * longer behind a NAT or on a cold image. Profile `none` needs no agent.
   */
  async describeConfigurationAgents(input: { clusterId: string; profile: string; servers: { id: string; name: string; role: string }[] }): Promise<{ offline: string[] }> {
    return { offline: await this.configuration.offlineAgents({ profile: input.profile, nodes: input.servers }) };
  }

  /**
   * Sends the profile's SSM commands; every server must be Online in SSM (the workflow waits for
   * that first), else it throws TransientProviderError. Profile `none` asks nothing.
   */
  startConfiguration(input: {
    clusterId: string;
    profile: string;
    servers: { id: string; name: string; role: string }[];
    cluster?: ConfigurationCluster;
  }): Promise<string> {
    return this.configuration.start({
      clusterId: input.clusterId,
      profile: input.profile,
      nodes: input.servers,
      variables: () => this.masterVariables(input.servers),
      ...(input.cluster ? { cluster: input.cluster } : {}),
    });
  }

  describeConfiguration(input: {
    clusterId: string;
    configurationId: string;
    servers?: { id: string; name: string; role: string }[];
  }): Promise<ConfigurationStatus> {
    return this.configuration.describe({
      configurationId: input.configurationId,
      clusterId: input.clusterId,
      ...(input.servers ? { servers: input.servers } : {}),
      nodeName: (instanceId) => this.instanceName(instanceId),
      // Asked only when a controller run moves to its next stage.
      nodes: async () =>
        (await this.instances(input.clusterId, ['running'])).flatMap((instance) =>
          instance.InstanceId
            ? [
                {
                  id: instance.InstanceId,
                  name: tagValue(instance.Tags, 'Name') ?? instance.InstanceId,
                  role: tagValue(instance.Tags, ROLE_TAG) ?? '',
                  ...(instance.PrivateIpAddress ? { privateIp: instance.PrivateIpAddress } : {}),
                },
              ]
            : [],
        ),
    });
  }

  /**
   * One round of deletion: terminates the live instances, disassociates and releases the
   * addresses, and deletes the security groups once no instance is left to use them. Answers
   * what is still there; callers repeat until 0.
   */
  async deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    const live = await this.instances(input.clusterId, LIVE_STATES);
    const toTerminate = live.filter((instance) => instance.State?.Name !== 'shutting-down').map((instance) => instance.InstanceId ?? '');
    for (const ids of chunk(toTerminate.filter(Boolean), TERMINATE_CHUNK)) {
      await this.call('TerminateInstances', () => this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })), [], ['InvalidInstanceID.NotFound']);
    }

    let addressesLeft = 0;
    for (const address of await this.addresses(input.clusterId)) {
      if (!(await this.releaseAddress(address))) addressesLeft += 1;
    }

    const groups = await this.securityGroups(input.clusterId);
    let groupsLeft = groups.length;
    if (live.length === 0) {
      groupsLeft = 0;
      for (const group of groups) {
        // An instance's network interface can outlive it by a little: DependencyViolation means next round.
        const deleted = await this.call(
          'DeleteSecurityGroup',
          async () => {
            await this.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
            return true;
          },
          [],
          ['InvalidGroup.NotFound'],
          ['DependencyViolation'],
        );
        if (deleted === false) groupsLeft += 1;
      }
    }
    return { remaining: live.length + addressesLeft + groupsLeft };
  }

  // -- helpers --------------------------------------------------------------------------------

  private tags(clusterId: string, extra: Tag[] = []): Tag[] {
    return [{ Key: CLUSTER_ID_TAG, Value: clusterId }, { Key: MANAGED_BY_TAG, Value: this.settings.serviceTag }, ...extra];
  }

  private tagFilters(clusterId: string): Filter[] {
    return [
      { Name: `tag:${CLUSTER_ID_TAG}`, Values: [clusterId] },
      { Name: `tag:${MANAGED_BY_TAG}`, Values: [this.settings.serviceTag] },
    ];
  }

  private launchRequest(
    input: { clusterId: string; networkIds: string[]; options?: ServerOptions },
    launch: Launch,
    clientToken: string,
    image: Image,
  ): RunInstancesRequest {
    const count = launch.servers.length;
    const only = count === 1 ? launch.servers[0] : undefined;
    const roleTag = { Key: ROLE_TAG, Value: launch.role };
    const options = input.options ?? {};
    const keyName = options.keyName ?? this.settings.keyName;
    // Validation refused the service's own keys; a spec recorded before that check must not get them through either.
    const client = clientTags(options.tags).map(([Key, Value]) => ({ Key, Value }));
    return {
      ImageId: image.id,
      InstanceType: launch.flavor as _InstanceType,
      MinCount: count,
      MaxCount: count,
      ClientToken: clientToken,
      SubnetId: launch.subnetId,
      ...(options.zone ? { Placement: { AvailabilityZone: options.zone } } : {}),
      // Without a private network EC2 puts the instance in the VPC's default security group.
      ...(input.networkIds.length > 0 ? { SecurityGroupIds: input.networkIds } : {}),
      ...(keyName ? { KeyName: keyName } : {}),
      // Already base64, as RunInstances takes it.
      ...(options.userData ? { UserData: options.userData } : {}),
      IamInstanceProfile: { Arn: this.settings.instanceProfileArn },
      BlockDeviceMappings: [
        {
          DeviceName: image.rootDeviceName,
          Ebs: { VolumeSize: Math.max(launch.diskGb, image.minRootGb), VolumeType: 'gp3', DeleteOnTermination: true },
        },
      ],
      // IMDSv2 only; tags readable from the instance, so node-side tooling knows its cluster and role.
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' },
      TagSpecifications: [
        // A launch of one can carry its Name; n instances of one call can only share tags.
        { ResourceType: 'instance', Tags: this.tags(input.clusterId, [roleTag, ...(only ? [{ Key: 'Name', Value: only.name }] : []), ...client]) },
        { ResourceType: 'volume', Tags: this.tags(input.clusterId, [roleTag, ...client]) },
      ],
    };
  }

  private async nameInstances(named: { instance: Instance; name: string }[]): Promise<void> {
    await forEachConcurrently(named, CALL_CONCURRENCY, async ({ instance, name }) => {
      // A just-launched instance may not be visible to CreateTags yet; the retried call names it.
      await this.call(
        'CreateTags',
        () => this.ec2.send(new CreateTagsCommand({ Resources: [instance.InstanceId ?? ''], Tags: [{ Key: 'Name', Value: name }] })),
        ['InvalidInstanceID.NotFound'],
      );
    });
  }

  private toServer(instance: Instance, name?: string): ProviderServer {
    const state = STATES[instance.State?.Name ?? ''] ?? 'ERROR';
    const fault = instance.StateReason?.Message || instance.StateTransitionReason || undefined;
    return {
      id: instance.InstanceId ?? '',
      name: name ?? tagValue(instance.Tags, 'Name') ?? instance.InstanceId ?? '',
      state,
      privateIp: instance.PrivateIpAddress ?? null,
      publicIp: instance.PublicIpAddress ?? null,
      ...((state === 'ERROR' || state === 'DELETED') && fault ? { fault } : {}),
    };
  }

  private async instances(clusterId: string, states?: string[]): Promise<Instance[]> {
    const all: Instance[] = [];
    const filters = [...this.tagFilters(clusterId), ...(states ? [{ Name: 'instance-state-name', Values: states }] : [])];
    let nextToken: string | undefined;
    do {
      const page = await this.call('DescribeInstances', () =>
        this.ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: MAX_DESCRIBE_RESULTS, ...(nextToken ? { NextToken: nextToken } : {}) })),
      );
      for (const reservation of page.Reservations ?? []) all.push(...(reservation.Instances ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return all;
  }

  private async instanceName(instanceId: string): Promise<string> {
    const page = await this.call('DescribeInstances', () => this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
    const instance = page.Reservations?.[0]?.Instances?.[0];
    return tagValue(instance?.Tags, 'Name') ?? instanceId;
  }

  /** What a node needs to know of the others: the master's name and private address. */
  private async masterVariables(servers: { id: string; name: string; role: string }[]): Promise<Record<string, string>> {
    const master = servers.find((server) => server.role === MASTER_ROLE);
    if (!master) return {};
    const page = await this.call('DescribeInstances', () => this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [master.id] })));
    const ip = page.Reservations?.[0]?.Instances?.[0]?.PrivateIpAddress;
    return { master_name: master.name, ...(ip ? { master_ip: ip } : {}) };
  }

  /** The deployment's image or a spec's, checked like every instance type here: arm64. */
  private describeImage(imageId: string): Promise<Image> {
    const known = this.images.get(imageId);
    if (known) return known;
    const looked = (async () => {
      const found = await this.call('DescribeImages', () => this.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })));
      const image = found.Images?.[0];
      if (!image?.RootDeviceName) throw new ProviderError('InvalidAMIID.NotFound', `The image ${imageId} does not exist or is not visible`);
      if (image.Architecture !== INSTANCE_ARCHITECTURE) {
        throw new ProviderError(
          'ImageArchitectureMismatch',
          `The image ${imageId} is ${image.Architecture ?? 'of no stated architecture'}; the instance types here are ${INSTANCE_ARCHITECTURE}`,
        );
      }
      const root = image.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === image.RootDeviceName);
      return { id: imageId, rootDeviceName: image.RootDeviceName, minRootGb: root?.Ebs?.VolumeSize ?? 0 };
    })();
    this.images.set(imageId, looked);
    // A failed look-up is asked again next time, not remembered.
    looked.catch(() => this.images.delete(imageId));
    return looked;
  }

  /** The region a spec names must be this provider's; the client's is asked when the settings name none. */
  private async checkRegion(wanted: string | undefined): Promise<void> {
    if (wanted === undefined) return;
    const region = this.settings.region ?? (await this.ec2.config.region());
    if (wanted !== region) throw new ProviderError('UnsupportedRegion', regionMessage(wanted, region));
  }

  /** The settings' subnets in `zone`, in their order; InvalidZone when none is. */
  private async subnetsIn(zone: string): Promise<string[]> {
    this.subnetZones ??= (async () => {
      const found = await this.call('DescribeSubnets', () => this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: this.settings.subnetIds })));
      return new Map((found.Subnets ?? []).map((subnet) => [subnet.SubnetId ?? '', subnet.AvailabilityZone ?? '']));
    })();
    this.subnetZones.catch(() => {
      this.subnetZones = undefined;
    });
    const zones = await this.subnetZones;
    const inZone = this.settings.subnetIds.filter((subnetId) => zones.get(subnetId) === zone);
    if (inZone.length === 0) {
      const offered = [...new Set(zones.values())].sort().join(', ') || 'none';
      throw new ProviderError('InvalidZone', `None of this deployment's subnets is in ${zone}; they are in ${offered}`);
    }
    return inZone;
  }

  private async securityGroups(clusterId: string): Promise<SecurityGroup[]> {
    const all: SecurityGroup[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('DescribeSecurityGroups', () =>
        this.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [{ Name: 'vpc-id', Values: [this.settings.vpcId] }, ...this.tagFilters(clusterId)],
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      all.push(...(page.SecurityGroups ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return all;
  }

  private async createSecurityGroup(clusterId: string, name: string): Promise<SecurityGroup> {
    try {
      const created = await this.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: `Private network ${name} of cluster ${clusterId}`,
          VpcId: this.settings.vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: this.tags(clusterId, [{ Key: 'Name', Value: name }]) }],
        }),
      );
      return { GroupId: created.GroupId, GroupName: name, IpPermissions: [] };
    } catch (error) {
      // Made by a call that ran at the same time: take that one.
      if (errorName(error) === 'InvalidGroup.Duplicate') {
        const found = (await this.securityGroups(clusterId)).find((group) => group.GroupName === name);
        if (found) return found;
      }
      throw ec2Error('CreateSecurityGroup', error);
    }
  }

  private async allowMembers(groupId: string): Promise<void> {
    await this.call(
      'AuthorizeSecurityGroupIngress',
      () =>
        this.ec2.send(
          new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }] }),
        ),
      [],
      ['InvalidPermission.Duplicate'],
    );
  }

  /**
   * Adds the client's ingress rules a group lacks, in one call. A duplicate answer means some
   * were there after all (a concurrent call, or a form EC2 wrote differently): then one call per
   * rule, each duplicate counting as done.
   */
  private async allowRules(groupId: string, permissions: IpPermission[]): Promise<void> {
    if (permissions.length === 0) return;
    const authorize = (list: IpPermission[]) => () => this.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: list }));
    const done = await this.call('AuthorizeSecurityGroupIngress', authorize(permissions), [], [], ['InvalidPermission.Duplicate']);
    if (done !== false || permissions.length === 1) return;
    for (const permission of permissions) {
      await this.call('AuthorizeSecurityGroupIngress', authorize([permission]), [], ['InvalidPermission.Duplicate']);
    }
  }

  private async addresses(clusterId: string): Promise<Address[]> {
    const found = await this.call('DescribeAddresses', () => this.ec2.send(new DescribeAddressesCommand({ Filters: this.tagFilters(clusterId) })));
    return found.Addresses ?? [];
  }

  private async allocateAddress(clusterId: string): Promise<Address> {
    const allocated = await this.call('AllocateAddress', () =>
      this.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: this.tags(clusterId) }] })),
    );
    return { AllocationId: allocated.AllocationId, PublicIp: allocated.PublicIp };
  }

  /** Disassociates and releases one address; false when it has to wait for another round. */
  private async releaseAddress(address: Address): Promise<boolean> {
    if (address.AssociationId) {
      await this.call(
        'DisassociateAddress',
        () => this.ec2.send(new DisassociateAddressCommand({ AssociationId: address.AssociationId })),
        [],
        ['InvalidAssociationID.NotFound'],
      );
    }
    const released = await this.call(
      'ReleaseAddress',
      async () => {
        await this.ec2.send(new ReleaseAddressCommand({ AllocationId: address.AllocationId }));
        return true;
      },
      [],
      ['InvalidAllocationID.NotFound'],
      ['InvalidIPAddress.InUse'],
    );
    return released !== false;
  }

  /**
   * Runs one EC2 call. `transient` codes are retried by the workflow, `gone` codes mean the
   * thing is already as wanted (answered undefined), `later` codes mean another round (answered false).
   */
  private async call<T>(operation: string, request: () => Promise<T>, transient?: readonly string[]): Promise<T>;
  private async call<T>(
    operation: string,
    request: () => Promise<T>,
    transient: readonly string[],
    gone: readonly string[],
    later?: readonly string[],
  ): Promise<T | undefined | false>;
  private async call<T>(
    operation: string,
    request: () => Promise<T>,
    transient: readonly string[] = [],
    gone: readonly string[] = [],
    later: readonly string[] = [],
  ): Promise<T | undefined | false> {
    try {
      return await request();
    } catch (error) {
      const name = errorName(error);
      if (gone.includes(name)) return undefined;
      if (later.includes(name)) return false;
      throw ec2Error(operation, error, transient);
    }
  }
}
