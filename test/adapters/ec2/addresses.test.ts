import { AllocateAddressCommand, AssociateAddressCommand, DescribeAddressesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CLUSTER, CLUSTER_TAGS, setup, instanceId } from './support.ts';

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
