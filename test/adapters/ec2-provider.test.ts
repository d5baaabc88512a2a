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
  EC2ServiceException,
  ReleaseAddressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
  type Reservation,
  type RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { InvalidSpec, ProviderError, TransientProviderError } from '#domain/errors';
import type { ServerRequest } from '#domain/provider';
import { EC2_INSTANCE_TYPES } from '#adapters/ec2-instance-types';
import { CLUSTER_ID_TAG, Ec2Provider, ipPermissionOf, launchToken, MANAGED_BY_TAG, MAX_CLIENT_TAGS, ROLE_TAG, type Ec2ProviderOptions } from '#adapters/ec2-provider';
import type { SecurityRule } from '#domain/model';
import { isReservedTagKey } from '#domain/tags';

const CLUSTER = '35380a49-aae4-4935-9844-dfd6737b8c51';
const TOKEN = `${CLUSTER}-a1-b0`;
const SETTINGS = {
  region: 'eu-west-1',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-0aaa', 'subnet-0bbb'],
  imageId: 'ami-0123456789abcdef0',
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/cluster-node',
};
const CLUSTER_TAGS = [
  { Key: 'cluster-service:cluster-id', Value: CLUSTER },
  { Key: 'managed-by', Value: 'cluster-service' },
];

type Ec2Mock = AwsClientStub<EC2Client>;

function setup(overrides: Partial<Ec2ProviderOptions> = {}) {
  const ec2 = new EC2Client({ region: 'eu-west-1' });
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const ec2Mock = mockClient(ec2);
  const ssmMock = mockClient(ssm);
  ec2Mock.on(DescribeImagesCommand).resolves({
    Images: [{ ImageId: SETTINGS.imageId, Architecture: 'arm64', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8 } }] }],
  });
  ec2Mock.on(CreateTagsCommand).resolves({});
  const provider = new Ec2Provider({ ...SETTINGS, ec2, ssm, ...overrides });
  return { provider, ec2Mock, ssmMock };
}

const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

/**
 * RunInstances as EC2 does it: a ClientToken seen before answers the same reservation and
 * launches nothing. Instances come back in reverse launch-index order, as EC2 does not promise one.
 * A token in `failOnce` fails its first call with that error, launching nothing.
 */
function cloud(ec2Mock: Ec2Mock, failOnce = new Map<string, Error>()) {
  const reservations = new Map<string, Reservation>();
  let launched = 0;
  ec2Mock.on(RunInstancesCommand).callsFake((input: RunInstancesRequest) => {
    const token = input.ClientToken ?? '';
    const failure = failOnce.get(token);
    if (failure) {
      failOnce.delete(token);
      throw failure;
    }
    let reservation = reservations.get(token);
    if (!reservation) {
      const tags = input.TagSpecifications?.find((spec) => spec.ResourceType === 'instance')?.Tags;
      const instances: Instance[] = Array.from({ length: input.MaxCount ?? 0 }, (_, i) => ({
        InstanceId: instanceId(++launched),
        AmiLaunchIndex: i,
        InstanceType: input.InstanceType,
        State: { Code: 0, Name: 'pending' },
        PrivateIpAddress: `10.0.0.${launched}`,
        SubnetId: input.SubnetId,
        Tags: tags,
      }));
      reservation = { ReservationId: `r-${reservations.size}`, Instances: instances.reverse() };
      reservations.set(token, reservation);
    }
    return reservation;
  });
  return { launched: () => launched };
}

const ec2Exception = (name: string, message: string, fault: 'client' | 'server', httpStatusCode: number) =>
  new EC2ServiceException({ name, message, $fault: fault, $metadata: { httpStatusCode } });

const servers = (count: number, flavor = 'm7g.large', role = 'worker', from = 1): ServerRequest[] =>
  Array.from({ length: count }, (_, i) => ({ name: `lambda-slave-${from + i}`, role, flavor, vcpus: 2, ramMb: 8192, diskGb: 40 }));

const master: ServerRequest = { name: 'lambda-master', role: 'master', flavor: 'm7g.xlarge', vcpus: 4, ramMb: 16384, diskGb: 60 };

const instance = (n: number, state: string, extra: Partial<Instance> = {}): Instance => ({
  InstanceId: instanceId(n),
  State: { Name: state as NonNullable<Instance['State']>['Name'] },
  PrivateIpAddress: `10.0.1.${n % 250}`,
  Tags: [...CLUSTER_TAGS, { Key: 'Name', Value: `node-${n}` }],
  ...extra,
});

describe('Ec2Provider settings', () => {
  it('is named ec2 and defaults to batches of 50, a 60 s boot and a 300 s configuration', () => {
    // Act
    const { provider } = setup();

    // Assess
    expect(provider.name).toBe('ec2');
    expect(provider.maxBatchSize).toBe(50);
    expect(provider.timings).toEqual({ expectedBootSeconds: 60, expectedConfigurationSeconds: 300 });
  });

  it('gives SSH runners the image\'s login user (admin unless set) and the Amazon Time Sync address as inventory variables', () => {
    expect(setup().provider.inventoryVars).toEqual({ ansible_user: 'admin', ntp_servers: ['169.254.169.123'] });
    expect(setup({ loginUser: 'ubuntu' }).provider.inventoryVars).toMatchObject({ ansible_user: 'ubuntu' });
    expect(() => setup({ loginUser: 'root; rm -rf /' })).toThrow(/loginUser: must be a user name/);
  });

  it('refuses settings without subnets, naming the setting', () => {
    // Act
    const make = () => setup({ subnetIds: [] });

    // Assess
    expect(make).toThrow(/invalid ec2 provider settings: subnetIds: needs at least one subnet/);
  });

  it('refuses an ansible profile when no playbook source is set', () => {
    // Act
    const make = () => setup({ configuration: { profiles: { lambda: { components: ['common'], run: { kind: 'ansible', playbookFile: 'lambda.yml' } } } } });

    // Assess
    expect(make).toThrow(/configuration: .*no playbook source|neither it nor the settings name a playbook source/);
  });
});

describe('Ec2Provider flavors', () => {
  it.each([
    [{ vcpus: 1, ramMb: 512, diskGb: 10 }, 'c7g.medium'],
    [{ vcpus: 2, ramMb: 4096, diskGb: 40 }, 'c7g.large'],
    [{ vcpus: 2, ramMb: 5000, diskGb: 40 }, 'm7g.large'],
    [{ vcpus: 4, ramMb: 4096, diskGb: 40 }, 'c7g.xlarge'],
    [{ vcpus: 4, ramMb: 32768, diskGb: 40 }, 'r7g.xlarge'],
    [{ vcpus: 3, ramMb: 20000, diskGb: 40 }, 'r7g.xlarge'],
    [{ vcpus: 64, ramMb: 262144, diskGb: 40 }, 'm7g.16xlarge'],
  ])('resolves %o to the smallest type that fits, %s', (size, expected) => {
    // Prepare
    const { provider } = setup();

    // Act
    const flavor = provider.resolveFlavor(size);

    // Assess
    expect(flavor).toBe(expected);
  });

  it.each([
    [{ vcpus: 65, ramMb: 4096, diskGb: 40 }, 'vcpus'],
    [{ vcpus: 2, ramMb: 600_000, diskGb: 40 }, 'ramMb'],
    [{ vcpus: 2, ramMb: 4096, diskGb: 20_000 }, 'diskGb'],
  ])('refuses %o with InvalidSpec naming %s', (size, field) => {
    // Prepare
    const { provider } = setup();

    // Act
    let caught: unknown;
    try {
      provider.resolveFlavor(size);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(InvalidSpec);
    expect((caught as InvalidSpec).details.map((detail) => detail.path)).toEqual([field]);
  });

  it('lists only arm64 Graviton types, each bigger than the one before', () => {
    // Assess
    expect(EC2_INSTANCE_TYPES.every((type) => /^(c7g|m7g|r7g)\./.test(type.name))).toBe(true);
    EC2_INSTANCE_TYPES.slice(1).forEach((type, i) => {
      const before = EC2_INSTANCE_TYPES[i]!;
      expect(type.vcpus > before.vcpus || (type.vcpus === before.vcpus && type.ramMib > before.ramMib)).toBe(true);
    });
  });

  it('describes a known type with the table size and the default root volume, and an unknown one as null', () => {
    // Prepare
    const { provider } = setup({ defaultDiskGb: 30 });

    // Act
    const known = provider.describeFlavor('r7g.2xlarge');
    const unknown = provider.describeFlavor('t3.micro');

    // Assess
    expect(known).toEqual({ vcpus: 8, ramMb: 65536, diskGb: 30 });
    expect(unknown).toBeNull();
  });
});

describe('Ec2Provider.createNetworks', () => {
  it('makes one tagged security group per private network, open between its members', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-0` }).resolves({ GroupId: 'sg-0001' });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-1` }).resolves({ GroupId: 'sg-0002' });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });

    // Assess
    expect(ids).toEqual(['sg-0001', 'sg-0002']);
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)[0]?.args[0].input).toMatchObject({
      GroupName: `${CLUSTER}-net-0`,
      VpcId: 'vpc-0abc',
      TagSpecifications: [{ ResourceType: 'security-group', Tags: expect.arrayContaining(CLUSTER_TAGS) }],
    });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input)).toEqual([
      { GroupId: 'sg-0001', IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0001' }] }] },
      { GroupId: 'sg-0002', IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0002' }] }] },
    ]);
  });

  it('finds the groups an earlier call made by tag and name, and makes nothing again', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [1, 0].map((i) => ({
        GroupId: `sg-000${i + 1}`,
        GroupName: `${CLUSTER}-net-${i}`,
        IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: `sg-000${i + 1}` }] }],
      })),
    });

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });

    // Assess
    expect(ids).toEqual(['sg-0001', 'sg-0002']);
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'vpc-id', Values: ['vpc-0abc'] },
      { Name: 'tag:cluster-service:cluster-id', Values: [CLUSTER] },
      { Name: 'tag:managed-by', Values: ['cluster-service'] },
    ]);
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
  });
});

describe('Ec2Provider.createServers', () => {
  it('tags instances and volumes with the cluster id and the service tag, sizes the root volume and derives the client token', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ serviceTag: 'cluster-service-prod', keyName: 'ops' });
    cloud(ec2Mock);

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: ['sg-0001'], servers: [master] });

    // Assess
    const input = ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    const tags = [
      { Key: 'cluster-service:cluster-id', Value: CLUSTER },
      { Key: 'managed-by', Value: 'cluster-service-prod' },
      { Key: 'cluster-service:role', Value: 'master' },
    ];
    expect(input).toMatchObject({
      ImageId: SETTINGS.imageId,
      InstanceType: 'm7g.xlarge',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: `${TOKEN}-m7g.xlarge-l0`,
      SubnetId: 'subnet-0aaa',
      SecurityGroupIds: ['sg-0001'],
      KeyName: 'ops',
      IamInstanceProfile: { Arn: SETTINGS.instanceProfileArn },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 60, VolumeType: 'gp3', DeleteOnTermination: true } }],
      MetadataOptions: { HttpTokens: 'required' },
    });
    expect(input?.TagSpecifications).toEqual([
      { ResourceType: 'instance', Tags: [...tags, { Key: 'Name', Value: 'lambda-master' }] },
      { ResourceType: 'volume', Tags: tags },
    ]);
  });

  it('launches each instance type as one RunInstances with MinCount = MaxCount and names each instance after the server at its launch index', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ subnetIds: ['subnet-0aaa'] });
    cloud(ec2Mock);

    // Act
    const made = await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(3) });

    // Assess
    expect(ec2Mock.commandCalls(RunInstancesCommand).map((call) => [call.args[0].input.MinCount, call.args[0].input.MaxCount])).toEqual([[3, 3]]);
    expect(made.map((server) => [server.name, server.id, server.state])).toEqual([
      ['lambda-slave-1', instanceId(1), 'BUILD'],
      ['lambda-slave-2', instanceId(2), 'BUILD'],
      ['lambda-slave-3', instanceId(3), 'BUILD'],
    ]);
    expect(ec2Mock.commandCalls(CreateTagsCommand).map((call) => call.args[0].input)).toEqual(
      expect.arrayContaining([{ Resources: [instanceId(2)], Tags: [{ Key: 'Name', Value: 'lambda-slave-2' }] }]),
    );
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(3);
  });

  it('spreads the servers over the subnets round robin, one launch per subnet', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ subnetIds: ['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc'] });
    cloud(ec2Mock);

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(7) });

    // Assess
    expect(ec2Mock.commandCalls(RunInstancesCommand).map((call) => [call.args[0].input.SubnetId, call.args[0].input.MaxCount])).toEqual([
      ['subnet-0aaa', 3],
      ['subnet-0bbb', 2],
      ['subnet-0ccc', 2],
    ]);
  });

  it('retried with the same client token, sends the same ClientTokens and gets the same instances, launching nothing twice', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    const ec2 = cloud(ec2Mock);
    const batch = { clusterId: CLUSTER, clientToken: TOKEN, networkIds: ['sg-0001'], servers: [master, ...servers(4)] };
    const first = await provider.createServers(batch);

    // Act
    const again = await provider.createServers(batch);

    // Assess
    expect(again).toEqual(first);
    expect(ec2.launched()).toBe(5);
    const tokens = ec2Mock.commandCalls(RunInstancesCommand).map((call) => call.args[0].input.ClientToken);
    const half = tokens.length / 2;
    expect(tokens.slice(half)).toEqual(tokens.slice(0, half));
    expect(new Set(tokens.slice(0, half)).size).toBe(half);
  });

  it('turns RequestLimitExceeded into a TransientProviderError', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(RunInstancesCommand).rejects(ec2Exception('RequestLimitExceeded', 'Request limit exceeded.', 'server', 503));

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(2) });

    // Assess
    await expect(created).rejects.toBeInstanceOf(TransientProviderError);
  });

  it('turns InsufficientInstanceCapacity into a final ProviderError with that code and EC2 message, although EC2 answers it with a 500', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    const message = 'We currently do not have sufficient m7g.large capacity in the Availability Zone you requested (eu-west-1a).';
    ec2Mock.on(RunInstancesCommand).rejects(ec2Exception('InsufficientInstanceCapacity', message, 'server', 500));

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(2) });

    // Assess
    await expect(created).rejects.toBeInstanceOf(ProviderError);
    await expect(created).rejects.toMatchObject({ name: 'InsufficientInstanceCapacity', code: 'InsufficientInstanceCapacity', message });
  });

  it('after a batch failed at its second launch, the retried call gets the first launch back and launches only the missing one', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ subnetIds: ['subnet-0aaa'] });
    const firstToken = launchToken(TOKEN, 'm7g.large', 0);
    const secondToken = launchToken(TOKEN, 'c7g.large', 1);
    const ec2 = cloud(ec2Mock, new Map([[secondToken, ec2Exception('RequestLimitExceeded', 'Request limit exceeded.', 'server', 503)]]));
    const batch = { clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: [...servers(2, 'm7g.large'), ...servers(2, 'c7g.large', 'worker', 3)] };
    const failed = await provider.createServers(batch).catch((error: unknown) => error);
    const launchedBeforeRetry = ec2.launched();

    // Act
    const made = await provider.createServers(batch);

    // Assess
    expect(failed).toBeInstanceOf(TransientProviderError);
    expect(launchedBeforeRetry).toBe(2);
    expect(ec2.launched()).toBe(4);
    expect(made.map((server) => [server.name, server.id])).toEqual([
      ['lambda-slave-1', instanceId(1)],
      ['lambda-slave-2', instanceId(2)],
      ['lambda-slave-3', instanceId(3)],
      ['lambda-slave-4', instanceId(4)],
    ]);
    expect(ec2Mock.commandCalls(RunInstancesCommand).map((call) => call.args[0].input.ClientToken)).toEqual([firstToken, secondToken, firstToken, secondToken]);
  });

  it('refuses more servers than its batch size before launching anything', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ maxBatchSize: 2 });
    cloud(ec2Mock);

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(3) });

    // Assess
    await expect(created).rejects.toMatchObject({ name: 'BatchTooLarge' });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });

  it('refuses an AMI that is not arm64, like the instance types', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    cloud(ec2Mock);
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: SETTINGS.imageId, Architecture: 'x86_64', RootDeviceName: '/dev/xvda' }] });

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(1) });

    // Assess
    await expect(created).rejects.toMatchObject({ name: 'ImageArchitectureMismatch' });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });
});

describe('Ec2Provider.createServers with the spec’s options', () => {
  const CLIENT_IMAGE = 'ami-0fedcba9876543210';
  const USER_DATA = Buffer.from('#!/bin/bash\necho hello > /tmp/hello\n').toString('base64');
  const SUBNET_ZONES = [
    { SubnetId: 'subnet-0aaa', AvailabilityZone: 'eu-west-1a' },
    { SubnetId: 'subnet-0bbb', AvailabilityZone: 'eu-west-1b' },
    { SubnetId: 'subnet-0ccc', AvailabilityZone: 'eu-west-1b' },
  ];
  const armImage = (imageId: string) => ({
    Images: [{ ImageId: imageId, Architecture: 'arm64' as const, RootDeviceName: '/dev/sda1', BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 50 } }] }],
  });

  it('launches from the spec’s image with its key, user data and zone, tagging instance and volume with the client’s tags after the service’s', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ keyName: 'deployment-key', subnetIds: ['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc'] });
    cloud(ec2Mock);
    ec2Mock.on(DescribeImagesCommand, { ImageIds: [CLIENT_IMAGE] }).resolves(armImage(CLIENT_IMAGE));
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: SUBNET_ZONES });
    const options = { region: 'eu-west-1', zone: 'eu-west-1b', image: CLIENT_IMAGE, keyName: 'client-key', userData: USER_DATA, tags: { team: 'data', 'cost-centre': 'cc-42' } };

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: ['sg-0001'], servers: servers(3), options });

    // Assess
    const inputs = ec2Mock.commandCalls(RunInstancesCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.SubnetId)).toEqual(['subnet-0bbb', 'subnet-0ccc']);
    for (const input of inputs) {
      expect(input).toMatchObject({ ImageId: CLIENT_IMAGE, KeyName: 'client-key', UserData: USER_DATA, Placement: { AvailabilityZone: 'eu-west-1b' } });
      const client = [{ Key: 'team', Value: 'data' }, { Key: 'cost-centre', Value: 'cc-42' }];
      const [instanceTags, volumeTags] = (input.TagSpecifications ?? []).map((spec) => spec.Tags ?? []);
      expect(instanceTags?.slice(0, 3)).toEqual([...CLUSTER_TAGS, { Key: 'cluster-service:role', Value: 'worker' }]);
      expect(instanceTags?.slice(-2)).toEqual(client);
      expect(volumeTags).toEqual([...CLUSTER_TAGS, { Key: 'cluster-service:role', Value: 'worker' }, ...client]);
      // The root volume is sized against the spec's image (50 GB snapshot), not the deployment's (8 GB).
      expect(input.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true } }]);
    }
    expect(ec2Mock.commandCalls(DescribeImagesCommand).map((call) => call.args[0].input.ImageIds)).toEqual([[CLIENT_IMAGE]]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand).map((call) => call.args[0].input.SubnetIds)).toEqual([['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc']]);
  });

  it('drops client tags with the service’s own keys or aws:, in any case, so none can replace or imitate them', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    cloud(ec2Mock);
    const tags = {
      'cluster-service:cluster-id': 'another-cluster',
      'managed-by': 'someone-else',
      'Managed-By': 'someone-else',
      Name: 'fake',
      'cluster-service:role': 'master',
      'aws:createdBy': 'x',
      team: 'data',
    };

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(1), options: { tags } });

    // Assess
    const specs = ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input.TagSpecifications ?? [];
    expect(specs.map((spec) => spec.Tags)).toEqual([
      [...CLUSTER_TAGS, { Key: 'cluster-service:role', Value: 'worker' }, { Key: 'Name', Value: 'lambda-slave-1' }, { Key: 'team', Value: 'data' }],
      [...CLUSTER_TAGS, { Key: 'cluster-service:role', Value: 'worker' }, { Key: 'team', Value: 'data' }],
    ]);
  });

  it('keeps the deployment’s image and key when the spec names none, and sends no user data or placement', async () => {
    // Prepare
    const { provider, ec2Mock } = setup({ keyName: 'deployment-key' });
    cloud(ec2Mock);

    // Act
    await provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(1), options: {} });

    // Assess
    const input = ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ ImageId: SETTINGS.imageId, KeyName: 'deployment-key' });
    expect(input).not.toHaveProperty('UserData');
    expect(input).not.toHaveProperty('Placement');
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(0);
  });

  it('refuses a spec’s image that is not arm64 with ImageArchitectureMismatch naming it, launching nothing', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    cloud(ec2Mock);
    ec2Mock.on(DescribeImagesCommand, { ImageIds: [CLIENT_IMAGE] }).resolves({ Images: [{ ImageId: CLIENT_IMAGE, Architecture: 'x86_64', RootDeviceName: '/dev/xvda' }] });

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(1), options: { image: CLIENT_IMAGE } });

    // Assess
    await expect(created).rejects.toMatchObject({ name: 'ImageArchitectureMismatch', message: expect.stringContaining(CLIENT_IMAGE) });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });

  it('refuses a zone none of the deployment’s subnets is in with InvalidZone, launching nothing', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    cloud(ec2Mock);
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: SUBNET_ZONES.slice(0, 2) });

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(1), options: { zone: 'eu-west-1c' } });

    // Assess
    await expect(created).rejects.toMatchObject({ name: 'InvalidZone', message: 'None of this deployment\'s subnets is in eu-west-1c; they are in eu-west-1a, eu-west-1b' });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });

  it.each([
    ['the settings’ region', { region: 'eu-west-1' }],
    ['the client’s region, when the settings name none', { region: undefined }],
  ])('refuses a spec naming another region than %s with UnsupportedRegion, launching nothing', async (_, settings) => {
    // Prepare
    const { provider, ec2Mock } = setup(settings);
    cloud(ec2Mock);

    // Act
    const created = provider.createServers({ clusterId: CLUSTER, clientToken: TOKEN, networkIds: [], servers: servers(1), options: { region: 'us-east-1' } });
    const same = provider.createServers({ clusterId: CLUSTER, clientToken: `${TOKEN}-same`, networkIds: [], servers: servers(1), options: { region: 'eu-west-1' } });

    // Assess
    await expect(created).rejects.toMatchObject({ name: 'UnsupportedRegion', message: expect.stringMatching(/^region us-east-1 .* eu-west-1$/) });
    await expect(same).resolves.toHaveLength(1);
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });
});

describe('Ec2Provider.checkOptions', () => {
  const ingress = (change: Partial<SecurityRule> = {}): SecurityRule => ({ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22, ...change });

  it('finds nothing to refuse in what EC2 in its region can do', () => {
    const { provider } = setup();

    const details = provider.checkOptions({
      options: { region: 'eu-west-1', zone: 'eu-west-1b', image: 'ami-0fedcba9876543210', keyName: 'ops', userData: Buffer.alloc(16_384).toString('base64'), tags: { team: 'data' } },
      securityRules: [ingress(), ingress({ protocol: 'any', remoteIpPrefix: '2001:db8::/32', ethertype: 'IPv6' })],
    });

    expect(details).toEqual([]);
  });

  it('names each field EC2 here cannot honour, with the native body’s paths', () => {
    const { provider } = setup();
    const tags = Object.fromEntries(Array.from({ length: MAX_CLIENT_TAGS + 1 }, (_, i) => [`k${i}`, 'v']));

    const details = provider.checkOptions({
      options: { region: 'us-east-1', zone: 'us-east-1a', image: 'debian-12', userData: Buffer.alloc(16_385).toString('base64'), tags },
      securityRules: [ingress(), ingress({ direction: 'egress' })],
    });

    expect(details.map((detail) => detail.path)).toEqual(['region', 'zone', 'image', 'userData', 'tags', 'network.securityRules.1.direction']);
    expect(details[0]?.message).toBe('region us-east-1 is not served here: this deployment\'s ec2 provider works in eu-west-1');
  });

  it('leaves region and zone to create time when the settings name no region', () => {
    const { provider } = setup({ region: undefined });

    expect(provider.checkOptions({ options: { region: 'us-east-1', zone: 'us-east-1a' }, securityRules: [] })).toEqual([]);
  });

  it('counts only the client tags it would apply against EC2’s limit', () => {
    const { provider } = setup();
    const tags = { ...Object.fromEntries(Array.from({ length: MAX_CLIENT_TAGS }, (_, i) => [`k${i}`, 'v'])), Name: 'dropped' };

    expect(provider.checkOptions({ options: { tags }, securityRules: [] })).toEqual([]);
  });

  it('keeps the provider’s own tag keys among those a client may not use', () => {
    expect([CLUSTER_ID_TAG, MANAGED_BY_TAG, ROLE_TAG, 'Name'].every(isReservedTagKey)).toBe(true);
  });
});

describe('Ec2Provider security rules', () => {
  const rule = (change: Partial<SecurityRule>): SecurityRule => ({ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', ...change });
  const members = (groupId: string) => ({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }] });

  it.each([
    ['tcp 22', rule({ portRangeMin: 22, portRangeMax: 22 }), { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    ['udp from 8000 up', rule({ protocol: 'udp', portRangeMin: 8000 }), { IpProtocol: 'udp', FromPort: 8000, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    ['tcp without ports', rule({}), { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    ['icmp', rule({ protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' }), { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    ['icmp over IPv6', rule({ protocol: 'icmp', ethertype: 'IPv6', remoteIpPrefix: '::/0' }), { IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    ['any protocol over IPv6', rule({ protocol: 'any', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }), { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }] }],
  ])('maps %s to EC2’s IpPermission', (_, securityRule, permission) => {
    expect(ipPermissionOf(securityRule)).toEqual(permission);
  });

  it('adds the client’s ingress rules to every security group of the cluster, after the members’ rule, in one call per group', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-0` }).resolves({ GroupId: 'sg-0001' });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-1` }).resolves({ GroupId: 'sg-0002' });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const rules = [rule({ portRangeMin: 22, portRangeMax: 22 }), rule({ protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' }), rule({ portRangeMin: 22, portRangeMax: 22 })];

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 2, securityRules: rules });

    // Assess
    const clientPermissions = [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ];
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input)).toEqual([
      members('sg-0001'),
      { GroupId: 'sg-0001', IpPermissions: clientPermissions },
      members('sg-0002'),
      { GroupId: 'sg-0002', IpPermissions: clientPermissions },
    ]);
  });

  it('adds only the rules a group found again lacks, and none when it has them all', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: 'sg-0001',
          GroupName: `${CLUSTER}-net-0`,
          IpPermissions: [
            { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0001' }] },
            // As EC2 describes it: one permission per protocol and ports, its ranges together.
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '192.0.2.0/24' }, { CidrIp: '10.0.0.0/8' }] },
          ],
        },
      ],
    });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 }), rule({ portRangeMin: 443, portRangeMax: 443 })] });
    const calls = ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input);
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 })] });

    // Assess
    expect(calls).toEqual([{ GroupId: 'sg-0001', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }]);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it('counts InvalidPermission.Duplicate as done: after a duplicate answer it adds the rules one by one, each duplicate skipped', async () => {
    // Prepare: a concurrent call already added the tcp 22 rule, which the group was described without
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupName: `${CLUSTER}-net-0`, ...members('sg-0001') }] });
    const added: string[] = [];
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).callsFake((input: { IpPermissions: { FromPort?: number }[] }) => {
      if (input.IpPermissions.some((permission) => permission.FromPort === 22)) {
        throw ec2Exception('InvalidPermission.Duplicate', 'the specified rule already exists', 'client', 400);
      }
      added.push(...input.IpPermissions.map((permission) => String(permission.FromPort)));
      return { Return: true };
    });

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 }), rule({ portRangeMin: 443, portRangeMax: 443 })] });

    // Assess
    expect(ids).toEqual(['sg-0001']);
    expect(added).toEqual(['443']);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input.IpPermissions?.length)).toEqual([2, 1, 1]);
  });

  it('fails on any other refusal of a rule with EC2’s code', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupName: `${CLUSTER}-net-0`, ...members('sg-0001') }] });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Exception('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.', 'client', 400));

    // Act
    const made = provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 })] });

    // Assess
    await expect(made).rejects.toMatchObject({ name: 'RulesPerSecurityGroupLimitExceeded' });
  });

  it('refuses an egress rule with UnsupportedSecurityRule before making any group', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    // Act
    const made = provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ direction: 'egress' })] });

    // Assess
    await expect(made).rejects.toMatchObject({ name: 'UnsupportedSecurityRule' });
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
  });
});

describe('Ec2Provider.describeServers', () => {
  it('asks about 120 instances with one DescribeInstances round by cluster tag, following NextToken, never per instance', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    const all = Array.from({ length: 120 }, (_, i) => instance(i + 1, 'running'));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: all.slice(0, 100) }], NextToken: 'page-2' })
      .resolvesOnce({ Reservations: [{ Instances: all.slice(100, 110) }, { Instances: all.slice(110) }] });

    // Act
    const found = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(found).toHaveLength(120);
    const inputs = ec2Mock.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs.every((input) => input.InstanceIds === undefined)).toBe(true);
    expect(inputs[0]?.Filters).toEqual([
      { Name: 'tag:cluster-service:cluster-id', Values: [CLUSTER] },
      { Name: 'tag:managed-by', Values: ['cluster-service'] },
    ]);
    expect(inputs[1]?.NextToken).toBe('page-2');
  });

  it('maps EC2 states: pending BUILD, running ACTIVE, shutting-down DELETING, terminated DELETED, stopped ERROR with the state reason', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance(1, 'pending'),
            instance(2, 'running', { PublicIpAddress: '203.0.113.7' }),
            instance(3, 'shutting-down'),
            instance(4, 'terminated', { StateReason: { Code: 'Server.InternalError', Message: 'Server.InternalError: Internal error on launch' } }),
            instance(5, 'stopped', { StateReason: { Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' } }),
          ],
        },
      ],
    });

    // Act
    const found = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(found).toEqual([
      { id: instanceId(1), name: 'node-1', state: 'BUILD', privateIp: '10.0.1.1', publicIp: null },
      { id: instanceId(2), name: 'node-2', state: 'ACTIVE', privateIp: '10.0.1.2', publicIp: '203.0.113.7' },
      { id: instanceId(3), name: 'node-3', state: 'DELETING', privateIp: '10.0.1.3', publicIp: null },
      { id: instanceId(4), name: 'node-4', state: 'DELETED', privateIp: '10.0.1.4', publicIp: null, fault: 'Server.InternalError: Internal error on launch' },
      { id: instanceId(5), name: 'node-5', state: 'ERROR', privateIp: '10.0.1.5', publicIp: null, fault: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
    ]);
  });
});

describe('Ec2Provider.allocatePublicIps', () => {
  it('allocates a tagged Elastic IP per server and associates it', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeAddressesCommand).resolves({ Addresses: [] });
    ec2Mock.on(AllocateAddressCommand).resolvesOnce({ AllocationId: 'eipalloc-1', PublicIp: '203.0.113.1' }).resolvesOnce({ AllocationId: 'eipalloc-2', PublicIp: '203.0.113.2' });
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: 'eipassoc-1' });

    // Act
    const ips = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [instanceId(1), instanceId(2)] });

    // Assess
    expect(Object.keys(ips).sort()).toEqual([instanceId(1), instanceId(2)]);
    expect(new Set(Object.values(ips))).toEqual(new Set(['203.0.113.1', '203.0.113.2']));
    expect(ec2Mock.commandCalls(AllocateAddressCommand)[0]?.args[0].input).toEqual({
      Domain: 'vpc',
      TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: CLUSTER_TAGS }],
    });
    expect(ec2Mock.commandCalls(AssociateAddressCommand).map((call) => call.args[0].input.InstanceId).sort()).toEqual([instanceId(1), instanceId(2)]);
  });

  it('on retry reuses the address a server already has and an unassociated one of the cluster, allocating nothing', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeAddressesCommand).resolves({
      Addresses: [
        { AllocationId: 'eipalloc-1', PublicIp: '203.0.113.1', AssociationId: 'eipassoc-1', InstanceId: instanceId(1), Tags: CLUSTER_TAGS },
        { AllocationId: 'eipalloc-2', PublicIp: '203.0.113.2', Tags: CLUSTER_TAGS },
      ],
    });
    ec2Mock.on(AssociateAddressCommand).resolves({ AssociationId: 'eipassoc-2' });

    // Act
    const ips = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [instanceId(1), instanceId(2)] });

    // Assess
    expect(ips).toEqual({ [instanceId(1)]: '203.0.113.1', [instanceId(2)]: '203.0.113.2' });
    expect(ec2Mock.commandCalls(AllocateAddressCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(AssociateAddressCommand).map((call) => call.args[0].input)).toEqual([
      { AllocationId: 'eipalloc-2', InstanceId: instanceId(2), AllowReassociation: false },
    ]);
  });
});

describe('Ec2Provider configuration', () => {
  const nodes = [
    { id: instanceId(1), name: 'lambda-master', role: 'master' },
    { id: instanceId(2), name: 'lambda-slave-1', role: 'worker' },
  ];
  const playbooks = {
    playbooks: { sourceType: 'S3' as const, sourceInfo: { path: 'https://s3.amazonaws.com/config-bucket/configuration.zip' } },
    profiles: { lambda: { components: ['common', 'hdfs', 'yarn', 'kafka', 'flink'], run: { kind: 'ansible' as const, playbookFile: 'lambda.yml' } } },
  };

  it('reports the servers not yet Online in SSM as the configuration agents to wait for, in one call, and none for profile none', async () => {
    // Prepare
    const { provider, ssmMock } = setup({ configuration: playbooks });
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: instanceId(1), PingStatus: 'Online' }] });

    // Act
    const lambda = await provider.describeConfigurationAgents({ clusterId: CLUSTER, profile: 'lambda', servers: nodes });
    const none = await provider.describeConfigurationAgents({ clusterId: CLUSTER, profile: 'none', servers: nodes });

    // Assess
    expect(lambda).toEqual({ offline: [instanceId(2)] });
    expect(none).toEqual({ offline: [] });
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(1);
  });

  it('throws TransientProviderError while a server is not yet Online in SSM, so the workflow retries with backoff', async () => {
    // Prepare
    const { provider, ssmMock, ec2Mock } = setup({ configuration: playbooks });
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: instanceId(1), PingStatus: 'Online' }] });

    // Act
    const started = provider.startConfiguration({ clusterId: CLUSTER, profile: 'lambda', servers: nodes });

    // Assess
    await expect(started).rejects.toThrow(TransientProviderError);
    await expect(started).rejects.toThrow(/not yet Online in SSM/);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('passes the master private address to the nodes once they are Online', async () => {
    // Prepare
    const { provider, ssmMock, ec2Mock } = setup({ configuration: playbooks });
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: nodes.map((n) => ({ InstanceId: n.id, PingStatus: 'Online' })) });
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ec2Mock.on(DescribeInstancesCommand, { InstanceIds: [instanceId(1)] }).resolves({ Reservations: [{ Instances: [instance(1, 'running')] }] });

    // Act
    await provider.startConfiguration({ clusterId: CLUSTER, profile: 'lambda', servers: nodes });

    // Assess
    expect(ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.ExtraVariables).toEqual([
      `SSM=True cluster_id=${CLUSTER} node_role=master master_name=lambda-master master_ip=10.0.1.1`,
    ]);
  });

  it('answers profile none as SUCCEEDED without SendCommand', async () => {
    // Prepare
    const { provider, ssmMock } = setup();

    // Act
    const id = await provider.startConfiguration({ clusterId: CLUSTER, profile: 'none', servers: nodes });
    const status = await provider.describeConfiguration({ clusterId: CLUSTER, configurationId: id });

    // Assess
    expect(status.state).toBe('SUCCEEDED');
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('reports a command failing on one node as FAILED with the node Name tag as failedNode', async () => {
    // Prepare
    const { provider, ssmMock, ec2Mock } = setup({ configuration: playbooks });
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        { CommandId: 'cmd-1', InstanceId: instanceId(1), Status: 'Success' },
        { CommandId: 'cmd-1', InstanceId: instanceId(2), Status: 'Failed', CommandPlugins: [{ Name: 'runAnsiblePlaybook', Status: 'Failed', ResponseCode: 2 }] },
      ],
    });
    ssmMock.on(GetCommandInvocationCommand).resolves({ StandardOutputContent: 'TASK [kafka : start broker]', StandardErrorContent: 'broker did not start' });
    ec2Mock.on(DescribeInstancesCommand, { InstanceIds: [instanceId(2)] }).resolves({
      Reservations: [{ Instances: [instance(2, 'running', { Tags: [{ Key: 'Name', Value: 'lambda-slave-1' }] })] }],
    });

    // Act
    const status = await provider.describeConfiguration({ clusterId: CLUSTER, configurationId: 'ssm:lambda:cmd-1' });

    // Assess
    expect(status).toMatchObject({ state: 'FAILED', component: 'kafka', failedNode: 'lambda-slave-1' });
  });
});

describe('Ec2Provider configuration from the master (controller mode)', () => {
  const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0l3Gm6vUq3d7dTq1k8Qe0qz9c4pH8xWm3rY2b1aC0d';
  const controller = {
    bundleUri: 's3://assets/bundle.zip',
    inputs: { put: async (key: string) => `s3://inputs/inputs/${key}`, uriOf: (key: string) => `s3://inputs/inputs/${key}` },
    presign: async (uri: string) => `https://signed.example/${uri.slice(5)}`,
  };

  it('addresses the next stage from the cluster’s running instances: the workers by their role tag, the key held to the master’s address', async () => {
    // Prepare
    const { provider, ssmMock, ec2Mock } = setup({ loginUser: 'ubuntu', configuration: { controller } });
    const withRole = (n: number, role: string) => instance(n, 'running', { Tags: [...CLUSTER_TAGS, { Key: 'Name', Value: `node-${n}` }, { Key: ROLE_TAG, Value: role }] });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [withRole(1, 'master'), withRole(2, 'worker'), withRole(3, 'worker')] }] });
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [{ CommandId: 'cmd-1', InstanceId: instanceId(1), Status: 'Success', CommandPlugins: [{ Name: 'aws:runShellScript', Status: 'Success', Output: `CONTROLLER_KEY ${PUBLIC_KEY}\n` }] }],
    });
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });

    // Act
    const status = await provider.describeConfiguration({ clusterId: CLUSTER, configurationId: 'ssm-controller:lambda:1:prepare:cmd-1' });

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'common', configurationId: 'ssm-controller:lambda:1:authorize:cmd-2' });
    const sent = ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(sent?.InstanceIds).toEqual([instanceId(2), instanceId(3)]);
    const script = (sent?.Parameters?.commands ?? []).join('\n');
    expect(script).toContain(`entry='from="10.0.1.1" ${PUBLIC_KEY} cluster-controller'`);
    expect(script).toContain("user='ubuntu'");
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toContainEqual({ Name: 'instance-state-name', Values: ['running'] });
  });
});

describe('Ec2Provider.deleteCluster', () => {
  it('terminates the live instances, disassociates and releases the addresses, and keeps the groups while instances remain', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance(1, 'running'), instance(2, 'shutting-down'), instance(3, 'stopped')] }] });
    ec2Mock.on(DescribeAddressesCommand).resolves({ Addresses: [{ AllocationId: 'eipalloc-1', AssociationId: 'eipassoc-1', InstanceId: instanceId(1) }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0001' }] });
    ec2Mock.on(TerminateInstancesCommand).resolves({});
    ec2Mock.on(DisassociateAddressCommand).resolves({});
    ec2Mock.on(ReleaseAddressCommand).resolves({});

    // Act
    const { remaining } = await provider.deleteCluster({ clusterId: CLUSTER });

    // Assess
    expect(remaining).toBe(4);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toContainEqual({
      Name: 'instance-state-name',
      Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'],
    });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: [instanceId(1), instanceId(3)] }]);
    expect(ec2Mock.commandCalls(DisassociateAddressCommand)[0]?.args[0].input).toEqual({ AssociationId: 'eipassoc-1' });
    expect(ec2Mock.commandCalls(ReleaseAddressCommand)[0]?.args[0].input).toEqual({ AllocationId: 'eipalloc-1' });
    expect(ec2Mock.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(0);
  });

  it('counts the remaining resources down to 0 over rounds, retrying a group EC2 still holds with DependencyViolation', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [instance(1, 'running'), instance(2, 'running')] }] })
      .resolvesOnce({ Reservations: [{ Instances: [instance(1, 'shutting-down')] }] })
      .resolves({ Reservations: [] });
    ec2Mock.on(DescribeAddressesCommand).resolvesOnce({ Addresses: [{ AllocationId: 'eipalloc-1' }] }).resolves({ Addresses: [] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolvesOnce({ SecurityGroups: [{ GroupId: 'sg-0001' }, { GroupId: 'sg-0002' }] })
      .resolvesOnce({ SecurityGroups: [{ GroupId: 'sg-0001' }, { GroupId: 'sg-0002' }] })
      .resolvesOnce({ SecurityGroups: [{ GroupId: 'sg-0001' }, { GroupId: 'sg-0002' }] })
      .resolvesOnce({ SecurityGroups: [{ GroupId: 'sg-0002' }] })
      .resolves({ SecurityGroups: [] });
    ec2Mock.on(TerminateInstancesCommand).resolves({});
    ec2Mock.on(ReleaseAddressCommand).resolves({});
    ec2Mock.on(DeleteSecurityGroupCommand, { GroupId: 'sg-0001' }).resolves({});
    ec2Mock
      .on(DeleteSecurityGroupCommand, { GroupId: 'sg-0002' })
      .rejectsOnce(ec2Exception('DependencyViolation', 'resource sg-0002 has a dependent object', 'client', 400))
      .resolves({});

    // Act
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) rounds.push((await provider.deleteCluster({ clusterId: CLUSTER })).remaining);

    // Assess
    expect(rounds).toEqual([4, 3, 1, 0, 0]);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(DeleteSecurityGroupCommand).map((call) => call.args[0].input.GroupId)).toEqual(['sg-0001', 'sg-0002', 'sg-0002']);
  });

  it('answers 0 and changes nothing for a cluster with nothing left', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2Mock.on(DescribeAddressesCommand).resolves({ Addresses: [] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    // Act
    const { remaining } = await provider.deleteCluster({ clusterId: CLUSTER });

    // Assess
    expect(remaining).toBe(0);
    expect(ec2Mock.calls().map((call) => call.args[0].constructor.name).sort()).toEqual([
      'DescribeAddressesCommand',
      'DescribeInstancesCommand',
      'DescribeSecurityGroupsCommand',
    ]);
  });
});
