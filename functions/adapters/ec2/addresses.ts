/**
 * Public addresses as Elastic IPs tagged with the cluster (docs/ec2-provider.md, "Public
 * addresses"): a retried call reuses what an earlier one made before it allocates anything.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  type Address,
} from '@aws-sdk/client-ec2';
import { forEachConcurrently } from '#lib/batching';
import { CALL_CONCURRENCY, callEc2, callEc2Done, type Ec2Context } from './calls.ts';
import { clusterFilters, clusterTags } from './tags.ts';

/**
 * An Elastic IP per server: the one the server already has, else an unassociated one of the
 * cluster's (left by a call that stopped between allocate and associate), else a new one.
 */
export const allocatePublicIps = async (ctx: Ec2Context, input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> => {
  const serverIds = [...new Set(input.serverIds)];
  const addresses = await clusterAddresses(ctx, input.clusterId);
  const result: Record<string, string> = {};
  const free = addresses.filter((address) => !address.AssociationId && !address.InstanceId);
  const needing: { instanceId: string; address: Address | undefined }[] = [];
  for (const instanceId of serverIds) {
    const held = addresses.find((address) => address.InstanceId === instanceId);
    if (held?.PublicIp) result[instanceId] = held.PublicIp;
    else needing.push({ instanceId, address: free.shift() });
  }
  await forEachConcurrently(needing, CALL_CONCURRENCY, async ({ instanceId, address }) => {
    const allocated = address ?? (await allocateAddress(ctx, input.clusterId));
    await callEc2(
      'AssociateAddress',
      () => ctx.ec2.send(new AssociateAddressCommand({ AllocationId: allocated.AllocationId, InstanceId: instanceId, AllowReassociation: false })),
      ['InvalidInstanceID.NotFound'],
    );
    result[instanceId] = allocated.PublicIp ?? '';
  });
  return result;
};

/** One deletion round's part: every address of the cluster disassociated and released; answers how many have to wait. */
export const releaseAddresses = async (ctx: Ec2Context, clusterId: string): Promise<number> => {
  let left = 0;
  for (const address of await clusterAddresses(ctx, clusterId)) {
    if (!(await releaseAddress(ctx, address))) left += 1;
  }
  return left;
};

const clusterAddresses = async (ctx: Ec2Context, clusterId: string): Promise<Address[]> => {
  const found = await callEc2('DescribeAddresses', () => ctx.ec2.send(new DescribeAddressesCommand({ Filters: clusterFilters(ctx, clusterId) })));
  return found.Addresses ?? [];
};

const allocateAddress = async (ctx: Ec2Context, clusterId: string): Promise<Address> => {
  const allocated = await callEc2('AllocateAddress', () =>
    ctx.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: clusterTags(ctx, clusterId) }] })),
  );
  return { AllocationId: allocated.AllocationId, PublicIp: allocated.PublicIp };
};

/** Disassociates and releases one address; false when it has to wait for another round. */
const releaseAddress = async (ctx: Ec2Context, address: Address): Promise<boolean> => {
  if (address.AssociationId) {
    await callEc2(
      'DisassociateAddress',
      () => ctx.ec2.send(new DisassociateAddressCommand({ AssociationId: address.AssociationId })),
      [],
      ['InvalidAssociationID.NotFound'],
    );
  }
  return callEc2Done(
    'ReleaseAddress',
    () => ctx.ec2.send(new ReleaseAddressCommand({ AllocationId: address.AllocationId })),
    ['InvalidAllocationID.NotFound'],
    ['InvalidIPAddress.InUse'],
  );
};
