import { CreateTagsCommand, DescribeImagesCommand, DescribeSubnetsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { launchToken } from '#adapters/ec2/index';
import { CLUSTER, TOKEN, SETTINGS, CLUSTER_TAGS, setup, instanceId, cloud, ec2Exception, servers, master } from './support.ts';

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
