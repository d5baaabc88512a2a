import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeInstanceInformationCommand, ListCommandsCommand, SendCommandCommand, SSMClient, type DescribeInstanceInformationRequest } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { awsProvidersFromEnv } from '#adapters/aws-providers';
import type { Cluster } from '#domain/model';

const CLUSTER = '35380a49-aae4-4935-9844-dfd6737b8c51';
const ENV = {
  AWS_REGION: 'eu-west-1',
  EC2_VPC_ID: 'vpc-0abc',
  EC2_SUBNET_IDS: 'subnet-0a',
  EC2_IMAGE_ID: 'ami-0123',
  EC2_INSTANCE_PROFILE_ARN: 'arn:aws:iam::123456789012:instance-profile/nodes',
};
const CONTROLLER_ENV = { CONFIGURATION_BUNDLE_S3_URI: 's3://cdk-assets/bundle.zip', CONFIGURATION_INPUTS_BUCKET: 'inputs-bucket', EC2_LOGIN_USER: 'ubuntu' };

const servers = [{ id: 'i-00000000000000001', name: 'm', role: 'master', group: 'master', flavor: 'x', state: 'ACTIVE', privateIp: '10.0.0.1', publicIp: null }];
const cluster = { id: CLUSTER, name: 'c', attempt: 1, servers, spec: { configuration: { profile: 'script', parameters: {} } } } as unknown as Cluster;

const mocks = () => {
  const ssmMock = mockClient(SSMClient);
  const s3Mock = mockClient(S3Client);
  ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationRequest) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((id) => ({ InstanceId: id, PingStatus: 'Online' })),
  }));
  ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
  ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  s3Mock.on(PutObjectCommand).resolves({});
  // The shell profile tells the nodes the master's address.
  const ec2Mock = mockClient(EC2Client);
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: servers[0]!.id, PrivateIpAddress: '10.0.0.1' }] }] });
  restore.push(() => ec2Mock.restore());
  return { ssmMock, s3Mock };
};

let restore: (() => void)[] = [];
afterEach(() => {
  for (const done of restore) done();
  restore = [];
});

const start = (env: Record<string, string>, profile: string) => {
  const [provider] = awsProvidersFromEnv(env);
  return provider!.startConfiguration({ clusterId: CLUSTER, profile, servers: servers.map(({ id, name, role }) => ({ id, name, role })), cluster });
};

describe('awsProvidersFromEnv: the SSM runner’s profiles', () => {
  it('runs the built-in script profile from the master when the stack set the bundle and the inputs bucket', async () => {
    const { ssmMock, s3Mock } = mocks();
    restore.push(() => ssmMock.restore(), () => s3Mock.restore());

    const id = await start({ ...ENV, ...CONTROLLER_ENV }, 'script');

    expect(id).toBe('ssm-controller:script:1:prepare:cmd-1');
    expect(s3Mock.commandCalls(PutObjectCommand).map((call) => `${call.args[0].input.Bucket}/${call.args[0].input.Key}`)).toEqual([
      `inputs-bucket/inputs/${CLUSTER}/1/inventory.json`,
      `inputs-bucket/inputs/${CLUSTER}/1/extra-vars.json`,
    ]);
    const inventory = JSON.parse(String(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body));
    expect(inventory.all.vars.ansible_user).toBe('ubuntu');
  });

  it('has no script profile without the bundle, and lets EC2_CONFIGURATION_PROFILES replace the built-in one', async () => {
    const { ssmMock, s3Mock } = mocks();
    restore.push(() => ssmMock.restore(), () => s3Mock.restore());
    const own = JSON.stringify({ script: { components: ['script'], run: { kind: 'shell', commands: ['/opt/setup.sh'] } } });

    await expect(start(ENV, 'script')).rejects.toMatchObject({ code: 'UnknownProfile' });
    const id = await start({ ...ENV, ...CONTROLLER_ENV, EC2_CONFIGURATION_PROFILES: own }, 'script');

    expect(id).toBe('ssm:script:cmd-1');
    expect(ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands).toContain('/opt/setup.sh');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
