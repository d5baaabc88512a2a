/** What the ec2 tests share: a provider over mocked EC2 and SSM clients, and EC2 as it answers. */
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
  type Reservation,
  RunInstancesCommand,
  type RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { ServerRequest } from '#domain/provider';
import { Ec2Provider, type Ec2ProviderOptions } from '#adapters/ec2/index';

export const CLUSTER = '35380a49-aae4-4935-9844-dfd6737b8c51';
export const TOKEN = `${CLUSTER}-a1-b0`;
export const SETTINGS = {
  region: 'eu-west-1',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-0aaa', 'subnet-0bbb'],
  imageId: 'ami-0123456789abcdef0',
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/cluster-node',
};
export const CLUSTER_TAGS = [
  { Key: 'cluster-service:cluster-id', Value: CLUSTER },
  { Key: 'managed-by', Value: 'cluster-service' },
];

export type Ec2Mock = AwsClientStub<EC2Client>;

export function setup(overrides: Partial<Ec2ProviderOptions> = {}) {
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

export const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

/**
 * RunInstances as EC2 does it: a ClientToken seen before answers the same reservation and
 * launches nothing. Instances come back in reverse launch-index order, as EC2 does not promise one.
 * A token in `failOnce` fails its first call with that error, launching nothing.
 */
export function cloud(ec2Mock: Ec2Mock, failOnce = new Map<string, Error>()) {
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

export const ec2Exception = (name: string, message: string, fault: 'client' | 'server', httpStatusCode: number) =>
  new EC2ServiceException({ name, message, $fault: fault, $metadata: { httpStatusCode } });

export const servers = (count: number, flavor = 'm7g.large', role = 'worker', from = 1): ServerRequest[] =>
  Array.from({ length: count }, (_, i) => ({ name: `lambda-slave-${from + i}`, role, group: role === 'master' ? 'master' : 'workers', publicIp: role === 'master', flavor, vcpus: 2, ramMb: 8192, diskGb: 40 }));

export const master: ServerRequest = { name: 'lambda-master', role: 'master', group: 'master', publicIp: true, flavor: 'm7g.xlarge', vcpus: 4, ramMb: 16384, diskGb: 60 };

export const instance = (n: number, state: string, extra: Partial<Instance> = {}): Instance => ({
  InstanceId: instanceId(n),
  State: { Name: state as NonNullable<Instance['State']>['Name'] },
  PrivateIpAddress: `10.0.1.${n % 250}`,
  Tags: [...CLUSTER_TAGS, { Key: 'Name', Value: `node-${n}` }],
  ...extra,
});
