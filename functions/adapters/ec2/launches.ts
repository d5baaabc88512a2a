/**
 * Creating servers (docs/ec2-provider.md, "Creating servers"): a batch cut into launches, one
 * RunInstances each with a client token derived from the batch's, so a retried call gets the same
 * reservations back and launches nothing new.
 */
import { createHash } from 'node:crypto';
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
  type _InstanceType,
  type Instance,
  type RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import { ProviderError } from '#domain/errors';
import type { CreateServersInput, ProviderServer, ServerOptions, ServerRequest } from '#domain/provider';
import { clientTags } from '#domain/tags';
import { forEachConcurrently } from '#lib/batching';
import { CALL_CONCURRENCY, callEc2, type Ec2Context } from './calls.ts';
import { INSTANCE_ARCHITECTURE } from './instance-types.ts';
import { toServer } from './instances.ts';
import { regionMessage } from './spec-options.ts';
import { clusterTags, ROLE_TAG, tagValue } from './tags.ts';

/** EC2 takes ClientToken values of up to 64 ASCII characters. */
const MAX_CLIENT_TOKEN = 64;

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

interface Image {
  id: string;
  rootDeviceName: string;
  /** The root snapshot's size: a smaller root volume is refused by EC2. */
  minRootGb: number;
}

export class Ec2Launches {
  /** By AMI id: the deployment's, and any a spec named. */
  private readonly images = new Map<string, Promise<Image>>();
  /** The Availability Zone of each subnet of the settings, looked up once a spec names a zone. */
  private subnetZones: Promise<Map<string, string>> | undefined;

  constructor(private readonly ctx: Ec2Context) {}

  /** One launch after the other: RunInstances has the smallest rate bucket of EC2's API. */
  async create(input: CreateServersInput): Promise<ProviderServer[]> {
    const options = input.options ?? {};
    await this.checkRegion(options.region);
    const image = await this.describeImage(options.image ?? this.ctx.settings.imageId);
    const subnetIds = options.zone === undefined ? this.ctx.settings.subnetIds : await this.subnetsIn(options.zone);
    const made = new Map<string, ProviderServer>();
    for (const [index, launch] of planLaunches(input.servers, subnetIds).entries()) {
      const request = this.launchRequest(input, launch, launchToken(input.clientToken, launch.flavor, index), image);
      const reservation = await callEc2('RunInstances', () => this.ctx.ec2.send(new RunInstancesCommand(request)));
      const instances = [...(reservation.Instances ?? [])].sort((a, b) => (a.AmiLaunchIndex ?? 0) - (b.AmiLaunchIndex ?? 0));
      if (instances.length !== launch.servers.length) {
        throw new ProviderError('UnexpectedLaunch', `RunInstances ${request.ClientToken} answered ${instances.length} instances for ${launch.servers.length} servers`);
      }
      const named = instances.map((instance, i) => ({ instance, name: launch.servers[i]?.name ?? instance.InstanceId ?? '' }));
      await this.nameInstances(named.filter(({ instance, name }) => tagValue(instance.Tags, 'Name') !== name));
      for (const { instance, name } of named) made.set(name, toServer(instance, name));
    }
    return input.servers.flatMap((server) => {
      const found = made.get(server.name);
      return found ? [found] : [];
    });
  }

  private launchRequest(
    input: { clusterId: string; networkIds: string[]; options?: ServerOptions },
    launch: Launch,
    clientToken: string,
    image: Image,
  ): RunInstancesRequest {
    const { settings } = this.ctx;
    const count = launch.servers.length;
    const only = count === 1 ? launch.servers[0] : undefined;
    const roleTag = { Key: ROLE_TAG, Value: launch.role };
    const options = input.options ?? {};
    const keyName = options.keyName ?? settings.keyName;
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
      IamInstanceProfile: { Arn: settings.instanceProfileArn },
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
        { ResourceType: 'instance', Tags: clusterTags(this.ctx, input.clusterId, [roleTag, ...(only ? [{ Key: 'Name', Value: only.name }] : []), ...client]) },
        { ResourceType: 'volume', Tags: clusterTags(this.ctx, input.clusterId, [roleTag, ...client]) },
      ],
    };
  }

  private async nameInstances(named: { instance: Instance; name: string }[]): Promise<void> {
    await forEachConcurrently(named, CALL_CONCURRENCY, async ({ instance, name }) => {
      // A just-launched instance may not be visible to CreateTags yet; the retried call names it.
      await callEc2(
        'CreateTags',
        () => this.ctx.ec2.send(new CreateTagsCommand({ Resources: [instance.InstanceId ?? ''], Tags: [{ Key: 'Name', Value: name }] })),
        ['InvalidInstanceID.NotFound'],
      );
    });
  }

  /** The deployment's image or a spec's, checked like every instance type here: arm64. */
  private describeImage(imageId: string): Promise<Image> {
    const known = this.images.get(imageId);
    if (known) return known;
    const looked = (async () => {
      const found = await callEc2('DescribeImages', () => this.ctx.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })));
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
    const region = this.ctx.settings.region ?? (await this.ctx.ec2.config.region());
    if (wanted !== region) throw new ProviderError('UnsupportedRegion', regionMessage(wanted, region));
  }

  /** The settings' subnets in `zone`, in their order; InvalidZone when none is. */
  private async subnetsIn(zone: string): Promise<string[]> {
    const { subnetIds } = this.ctx.settings;
    this.subnetZones ??= (async () => {
      const found = await callEc2('DescribeSubnets', () => this.ctx.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds })));
      return new Map((found.Subnets ?? []).map((subnet) => [subnet.SubnetId ?? '', subnet.AvailabilityZone ?? '']));
    })();
    this.subnetZones.catch(() => {
      this.subnetZones = undefined;
    });
    const zones = await this.subnetZones;
    const inZone = subnetIds.filter((subnetId) => zones.get(subnetId) === zone);
    if (inZone.length === 0) {
      const offered = [...new Set(zones.values())].sort().join(', ') || 'none';
      throw new ProviderError('InvalidZone', `None of this deployment's subnets is in ${zone}; they are in ${offered}`);
    }
    return inZone;
  }
}
