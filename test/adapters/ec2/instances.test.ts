import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CLUSTER, setup, instanceId, instance } from './support.ts';

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
