import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { TransientProviderError } from '#domain/errors';
import { ROLE_TAG } from '#adapters/ec2/index';
import { CLUSTER, CLUSTER_TAGS, instance, instanceId, setup } from './support.ts';

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

  const PREPARED = 'ssm-controller:lambda:1:prepare:cmd-1';
  const withRole = (n: number, role: string) => instance(n, 'running', { Tags: [...CLUSTER_TAGS, { Key: 'Name', Value: `node-${n}` }, { Key: ROLE_TAG, Value: role }] });

  /** A master and two workers running, and `prepare` done on the master with its key printed. */
  const prepared = () => {
    const { provider, ssmMock, ec2Mock } = setup({ loginUser: 'ubuntu', configuration: { controller } });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [withRole(1, 'master'), withRole(2, 'worker'), withRole(3, 'worker')] }] });
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [{ CommandId: 'cmd-1', InstanceId: instanceId(1), Status: 'Success', CommandPlugins: [{ Name: 'aws:runShellScript', Status: 'Success', Output: `CONTROLLER_KEY ${PUBLIC_KEY}\n` }] }],
    });
    return { provider, ssmMock, ec2Mock };
  };

  it('addresses the next stage from the cluster’s running instances: the workers by their role tag, the key held to the master’s address', async () => {
    // Prepare
    const { provider, ssmMock, ec2Mock } = prepared();
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });

    // Act
    const status = await provider.continueConfiguration({ clusterId: CLUSTER, configurationId: PREPARED });

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'common', configurationId: 'ssm-controller:lambda:1:authorize:cmd-2' });
    const sent = ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(sent?.InstanceIds).toEqual([instanceId(2), instanceId(3)]);
    const script = (sent?.Parameters?.commands ?? []).join('\n');
    expect(script).toContain(`entry='from="10.0.1.1" ${PUBLIC_KEY} cluster-controller'`);
    expect(script).toContain("user='ubuntu'");
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toContainEqual({ Name: 'instance-state-name', Values: ['running'] });
  });

  it('describes a stage done everywhere without sending anything: RUNNING, naming the next stage, under the same id', async () => {
    // Prepare
    const { provider, ssmMock } = prepared();
    const servers = [
      { id: instanceId(1), name: 'node-1', role: 'master' },
      { id: instanceId(2), name: 'node-2', role: 'worker' },
    ];

    // Act
    const status = await provider.describeConfiguration({ clusterId: CLUSTER, configurationId: PREPARED, servers });

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'common', nextStage: 'authorize' });
    expect(status.configurationId).toBeUndefined();
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(ssmMock.commandCalls(ListCommandsCommand)).toHaveLength(0);
  });

  it('continues a run by sending exactly its next stage, once: continued again before the new id is recorded, it adopts the command it sent', async () => {
    // Prepare
    const { provider, ssmMock } = prepared();
    const sent: { CommandId: string; Comment?: string; InstanceIds?: string[] }[] = [];
    ssmMock.on(SendCommandCommand).callsFake((input: { Comment?: string; InstanceIds?: string[] }) => {
      sent.push({ ...input, CommandId: `cmd-${sent.length + 2}` });
      return { Command: { CommandId: `cmd-${sent.length + 1}` } };
    });
    ssmMock.on(ListCommandsCommand).callsFake(() => ({ Commands: sent.map((command) => ({ ...command, Status: 'Pending' })) }));

    // Act
    const first = await provider.continueConfiguration({ clusterId: CLUSTER, configurationId: PREPARED });
    const again = await provider.continueConfiguration({ clusterId: CLUSTER, configurationId: PREPARED });

    // Assess
    expect(first.configurationId).toBe('ssm-controller:lambda:1:authorize:cmd-2');
    expect(again.configurationId).toBe(first.configurationId);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(sent[0]?.Comment).toBe(`cluster-service ${CLUSTER} authorize/1 lambda`);
  });
});
