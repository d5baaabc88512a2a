import { DescribeInstancesCommand, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CLUSTER, ec2Exception, setup, instanceId, instance } from './support.ts';

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

  it('maps EC2 states: pending BUILD, running ACTIVE, shutting-down DELETING, terminated DELETED with the state reason, stopping STOPPING, stopped STOPPED', async () => {
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
            instance(5, 'stopped', { StateReason: { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' } }),
            instance(6, 'stopping'),
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
      { id: instanceId(5), name: 'node-5', state: 'STOPPED', privateIp: '10.0.1.5', publicIp: null },
      { id: instanceId(6), name: 'node-6', state: 'STOPPING', privateIp: '10.0.1.6', publicIp: null },
    ]);
  });
});

describe('Ec2Provider.stopServers and startServers', () => {
  it('stops and starts exactly the instances named, once each, in one call per 500', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(StopInstancesCommand).resolves({});
    ec2Mock.on(StartInstancesCommand).resolves({});
    const ids = Array.from({ length: 501 }, (_, i) => instanceId(i + 1));

    // Act
    await provider.stopServers({ clusterId: CLUSTER, serverIds: [...ids, instanceId(1)] });
    await provider.startServers({ clusterId: CLUSTER, serverIds: [instanceId(2)] });

    // Assess
    const stopped = ec2Mock.commandCalls(StopInstancesCommand).map((call) => call.args[0].input.InstanceIds);
    expect(stopped.map((chunk) => chunk?.length)).toEqual([500, 1]);
    expect(stopped.flat()).toEqual(ids);
    expect(ec2Mock.commandCalls(StartInstancesCommand).map((call) => call.args[0].input.InstanceIds)).toEqual([[instanceId(2)]]);
  });

  it('answers IncorrectInstanceState (a start while the instance still stops) as transient, for the workflow to retry', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(StartInstancesCommand).rejects(ec2Exception('IncorrectInstanceState', 'The instance is not in a state from which it can be started.', 'client', 400));

    // Act
    const started = provider.startServers({ clusterId: CLUSTER, serverIds: [instanceId(1)] });

    // Assess
    await expect(started).rejects.toMatchObject({ name: 'TransientProviderError' });
  });
});
