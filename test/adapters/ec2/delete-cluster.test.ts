import {
  DeleteSecurityGroupCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CLUSTER, setup, instanceId, ec2Exception, instance } from './support.ts';

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
