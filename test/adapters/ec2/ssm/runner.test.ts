import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  SSMServiceException,
  type CommandInvocation,
  type DescribeInstanceInformationRequest,
  type SendCommandRequest,
} from '@aws-sdk/client-ssm';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { LAMBDA_COMPONENTS, SsmConfigurationRunner, type SsmConfigurationOptions } from '#adapters/ec2/ssm/index';

const CLUSTER = '35380a49-aae4-4935-9844-dfd6737b8c51';
const PLAYBOOKS = { sourceType: 'S3' as const, sourceInfo: { path: 'https://s3.amazonaws.com/config-bucket/configuration.zip' } };
const LAMBDA_PLAYBOOK = { lambda: { components: [...LAMBDA_COMPONENTS], run: { kind: 'ansible' as const, playbookFile: 'lambda.yml' } } };

const node = (i: number, role = 'worker') => ({ id: `i-${String(i).padStart(17, '0')}`, name: role === 'master' ? 'lambda-master' : `lambda-slave-${i}`, role });

function setup(options: SsmConfigurationOptions = { playbooks: PLAYBOOKS, profiles: LAMBDA_PLAYBOOK }) {
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const ssmMock = mockClient(ssm);
  return { runner: new SsmConfigurationRunner(ssm, 'cluster-service', options), ssmMock };
}

/** SSM answers every asked instance Online (or only those in `online`). */
function instancesOnline(ssmMock: AwsClientStub<SSMClient>, online?: Set<string>) {
  ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationRequest) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((id) => ({ InstanceId: id, PingStatus: !online || online.has(id) ? 'Online' : 'ConnectionLost' })),
  }));
}

/** SendCommand answers a new command id per call. */
function commandsAccepted(ssmMock: AwsClientStub<SSMClient>) {
  let sent = 0;
  ssmMock.on(SendCommandCommand).callsFake((input: SendCommandRequest) => ({
    Command: { CommandId: `cmd-${++sent}`, InstanceIds: input.InstanceIds, Comment: input.Comment, Status: 'Pending' },
  }));
  ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
}

const invocation = (commandId: string, instanceId: string, status: string, plugins: CommandInvocation['CommandPlugins'] = []): CommandInvocation => ({
  CommandId: commandId,
  InstanceId: instanceId,
  Status: status as CommandInvocation['Status'],
  CommandPlugins: plugins,
});

describe('SsmConfigurationRunner', () => {
  describe('offlineAgents (the workflow’s wait before it starts a run)', () => {
    it('lists the instances not Online in SSM, asking about 50 at a time', async () => {
      // Prepare
      const { runner, ssmMock } = setup();
      const nodes = [node(0, 'master'), ...Array.from({ length: 120 }, (_, i) => node(i + 1))];
      instancesOnline(ssmMock, new Set(nodes.filter((_, i) => i !== 2 && i !== 77).map((n) => n.id)));

      // Act
      const offline = await runner.offlineAgents({ profile: 'lambda', nodes });

      // Assess
      expect(offline).toEqual([nodes[2]!.id, nodes[77]!.id]);
      expect(ssmMock.commandCalls(DescribeInstanceInformationCommand).map((call) => call.args[0].input.Filters?.[0]?.Values?.length)).toEqual([50, 50, 21]);
    });

    it('lists an instance SSM does not know yet (its agent never registered) as offline', async () => {
      const { runner, ssmMock } = setup();
      ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

      expect(await runner.offlineAgents({ profile: 'lambda', nodes: [node(0, 'master')] })).toEqual([node(0, 'master').id]);
    });

    it('waits for no agent for profile none, and asks SSM nothing', async () => {
      const { runner, ssmMock } = setup();

      expect(await runner.offlineAgents({ profile: 'none', nodes: [node(0, 'master')] })).toEqual([]);
      expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(0);
    });

    it('refuses a profile it cannot apply with UnknownProfile before asking SSM', async () => {
      const { runner, ssmMock } = setup();

      await expect(runner.offlineAgents({ profile: 'script', nodes: [node(0, 'master')] })).rejects.toMatchObject({ name: 'UnknownProfile' });
      expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(0);
    });

    it('answers a throttled DescribeInstanceInformation as TransientProviderError, for the workflow to retry', async () => {
      const { runner, ssmMock } = setup();
      ssmMock
        .on(DescribeInstanceInformationCommand)
        .rejects(new SSMServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));

      await expect(runner.offlineAgents({ profile: 'lambda', nodes: [node(0, 'master')] })).rejects.toThrow(TransientProviderError);
    });
  });

  it('refuses to start while an instance is not yet Online in SSM, with a TransientProviderError and no command sent', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    const nodes = [node(0, 'master'), node(1), node(2)];
    instancesOnline(ssmMock, new Set([nodes[0]!.id, nodes[1]!.id]));
    commandsAccepted(ssmMock);

    // Act
    const started = runner.start({ clusterId: CLUSTER, profile: 'lambda', nodes });

    // Assess
    await expect(started).rejects.toThrow(TransientProviderError);
    await expect(started).rejects.toThrow(/1 of 3 instance\(s\) not yet Online in SSM: i-00000000000000002/);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it('sends one command per role and per 50 instances, and encodes every command id in the configuration id', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    const nodes = [node(0, 'master'), ...Array.from({ length: 120 }, (_, i) => node(i + 1))];
    instancesOnline(ssmMock);
    commandsAccepted(ssmMock);

    // Act
    const id = await runner.start({ clusterId: CLUSTER, profile: 'lambda', nodes });

    // Assess
    const sent = ssmMock.commandCalls(SendCommandCommand).map((call) => call.args[0].input);
    expect(sent.map((input) => input.InstanceIds?.length)).toEqual([1, 50, 50, 20]);
    expect(sent.map((input) => input.Parameters?.ExtraVariables?.[0]?.match(/node_role=(\S+)/)?.[1])).toEqual(['master', 'worker', 'worker', 'worker']);
    expect(id).toBe('ssm:lambda:cmd-1,cmd-2,cmd-3,cmd-4');
    // DescribeInstanceInformation takes up to 50 instance ids a call.
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(3);
  });

  it('runs an ansible profile as AWS-ApplyAnsiblePlaybooks from the configured playbook source, with the node variables', async () => {
    // Prepare
    const { runner, ssmMock } = setup({ playbooks: PLAYBOOKS, profiles: LAMBDA_PLAYBOOK, cloudWatchLogGroupName: '/cluster-service/configuration' });
    instancesOnline(ssmMock);
    commandsAccepted(ssmMock);

    // Act
    await runner.start({ clusterId: CLUSTER, profile: 'lambda', nodes: [node(1)], variables: async () => ({ master_ip: '10.0.1.5' }) });

    // Assess
    expect(ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input).toMatchObject({
      DocumentName: 'AWS-ApplyAnsiblePlaybooks',
      InstanceIds: [node(1).id],
      Comment: `cluster-service ${CLUSTER} lambda`,
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/cluster-service/configuration' },
      Parameters: {
        SourceType: ['S3'],
        SourceInfo: ['{"path":"https://s3.amazonaws.com/config-bucket/configuration.zip"}'],
        PlaybookFile: ['lambda.yml'],
        InstallDependencies: ['True'],
        ExtraVariables: [`SSM=True cluster_id=${CLUSTER} node_role=worker master_ip=10.0.1.5`],
      },
    });
  });

  it('runs a shell profile as AWS-RunShellScript with the node variables exported before the script', async () => {
    // Prepare
    const { runner, ssmMock } = setup({
      profiles: { script: { components: ['script'], run: { kind: 'shell', commands: ['/opt/setup.sh "$NODE_ROLE"'] } } },
      executionTimeoutSeconds: 900,
    });
    instancesOnline(ssmMock);
    commandsAccepted(ssmMock);

    // Act
    await runner.start({ clusterId: CLUSTER, profile: 'script', nodes: [node(0, 'master')] });

    // Assess
    expect(ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      Parameters: {
        commands: [`export CLUSTER_ID='${CLUSTER}'`, "export NODE_ROLE='master'", '/opt/setup.sh "$NODE_ROLE"'],
        executionTimeout: ['900'],
      },
    });
  });

  it('adopts the commands a stopped earlier start already sent instead of sending them again', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    const nodes = [node(1), node(2)];
    instancesOnline(ssmMock);
    commandsAccepted(ssmMock);
    ssmMock.on(ListCommandsCommand).resolves({
      Commands: [
        { CommandId: 'cmd-failed', Comment: `cluster-service ${CLUSTER} lambda`, Status: 'Failed', InstanceIds: [nodes[1]!.id, nodes[0]!.id] },
        { CommandId: 'cmd-earlier', Comment: `cluster-service ${CLUSTER} lambda`, Status: 'InProgress', InstanceIds: [nodes[1]!.id, nodes[0]!.id] },
      ],
    });

    // Act
    const id = await runner.start({ clusterId: CLUSTER, profile: 'lambda', nodes });

    // Assess
    expect(id).toBe('ssm:lambda:cmd-earlier');
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(ssmMock.commandCalls(ListCommandsCommand)[0]?.args[0].input).toMatchObject({ InstanceId: nodes[0]!.id });
  });

  it('answers profile none as SUCCEEDED without asking SSM anything', async () => {
    // Prepare
    const { runner, ssmMock } = setup();

    // Act
    const id = await runner.start({ clusterId: CLUSTER, profile: 'none', nodes: [node(1)] });
    const status = await runner.describe({ configurationId: id });

    // Assess
    expect(status).toMatchObject({ state: 'SUCCEEDED', component: 'none' });
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('refuses a profile it has no SSM configuration for with ProviderError UnknownProfile, even with a playbook source set', async () => {
    // Prepare
    const { runner, ssmMock } = setup({ playbooks: PLAYBOOKS });
    instancesOnline(ssmMock);

    // Act
    const started = runner.start({ clusterId: CLUSTER, profile: 'lambda', nodes: [node(1)] });

    // Assess
    await expect(started).rejects.toMatchObject({ name: 'UnknownProfile' });
    await expect(started).rejects.toBeInstanceOf(ProviderError);
  });

  it('turns SSM throttling on SendCommand into a TransientProviderError', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    instancesOnline(ssmMock);
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
    ssmMock.on(SendCommandCommand).rejects(
      new SSMServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    );

    // Act
    const started = runner.start({ clusterId: CLUSTER, profile: 'lambda', nodes: [node(1)] });

    // Assess
    await expect(started).rejects.toBeInstanceOf(TransientProviderError);
  });

  it('reads a run with one ListCommandInvocations per command, not one call per instance, and reports SUCCEEDED when every node succeeded', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    ssmMock.on(ListCommandInvocationsCommand, { CommandId: 'cmd-1' }).resolves({
      CommandInvocations: Array.from({ length: 50 }, (_, i) => invocation('cmd-1', node(i).id, 'Success')),
    });
    ssmMock.on(ListCommandInvocationsCommand, { CommandId: 'cmd-2' }).resolves({
      CommandInvocations: Array.from({ length: 20 }, (_, i) => invocation('cmd-2', node(50 + i).id, 'Success')),
    });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1,cmd-2' });

    // Assess
    expect(status).toMatchObject({ state: 'SUCCEEDED', component: 'flink' });
    expect(ssmMock.commandCalls(ListCommandInvocationsCommand)).toHaveLength(2);
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
  });

  it('stays RUNNING while SSM lists no invocations yet for one of the commands, even when the others succeeded', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    ssmMock.on(ListCommandInvocationsCommand, { CommandId: 'cmd-1' }).resolves({ CommandInvocations: [invocation('cmd-1', node(1).id, 'Success')] });
    ssmMock.on(ListCommandInvocationsCommand, { CommandId: 'cmd-2' }).resolves({ CommandInvocations: [] });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1,cmd-2' });

    // Assess
    expect(status).toEqual({ state: 'RUNNING', component: 'common', nodes: { [node(1).id]: { state: 'SUCCEEDED' } } });
  });

  it('reports RUNNING at the first component whose step some node has not finished, for a document with a step per component', async () => {
    // Prepare
    const { runner, ssmMock } = setup({
      profiles: { lambda: { components: [...LAMBDA_COMPONENTS], run: { kind: 'document', documentName: 'LambdaStack' } } },
    });
    const steps = (done: number) =>
      LAMBDA_COMPONENTS.map((name, i) => ({ Name: name, Status: i < done ? ('Success' as const) : i === done ? ('InProgress' as const) : ('Pending' as const) }));
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [invocation('cmd-1', node(1).id, 'InProgress', steps(3)), invocation('cmd-1', node(2).id, 'InProgress', steps(2))],
    });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1' });

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'yarn' });
  });

  it('reports RUNNING at the profile first component when the document is one step and cannot tell', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [invocation('cmd-1', node(1).id, 'InProgress', [{ Name: 'runAnsiblePlaybook', Status: 'InProgress' }])],
    });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1' });

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'common' });
  });

  it('reports a command failing on one node as FAILED, naming the node, the component its output reached and its error output', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        invocation('cmd-1', node(1).id, 'Success', [{ Name: 'runAnsiblePlaybook', Status: 'Success', ResponseCode: 0 }]),
        invocation('cmd-1', node(2).id, 'Failed', [{ Name: 'runAnsiblePlaybook', Status: 'Failed', ResponseCode: 2, Output: 'PLAY [all]' }]),
        invocation('cmd-1', node(3).id, 'InProgress', [{ Name: 'runAnsiblePlaybook', Status: 'InProgress' }]),
      ],
    });
    ssmMock.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: node(2).id }).resolves({
      StandardOutputContent: 'TASK [common : install java] ok\nTASK [hdfs : format namenode]\nfatal: [localhost]: FAILED!',
      StandardErrorContent: 'namenode format failed: disk full',
    });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1', nodeName: async (id) => (id === node(2).id ? 'lambda-slave-2' : id) });

    // Assess
    expect(status).toMatchObject({ state: 'FAILED', component: 'hdfs', failedNode: 'lambda-slave-2' });
    expect(status.message).toContain('namenode format failed: disk full');
    expect(status.message).toContain('exit code 2');
  });

  it('reports each node by its server name, its invocation status mapped, the recorded servers naming them without a lookup', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    const nodes = [node(0, 'master'), ...Array.from({ length: 8 }, (_, i) => node(i + 1))];
    const statuses = ['Success', 'Pending', 'Delayed', 'InProgress', 'Success', 'TimedOut', 'Cancelled', 'Failed', 'Failed'];
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: nodes.map((n, i) => ({
        ...invocation('cmd-1', n.id, statuses[i] ?? 'Success', [{ Name: 'runAnsiblePlaybook', Status: statuses[i] as 'Success', ResponseCode: 1, Output: `output of ${n.name}` }]),
        // Undeliverable and Terminated come as StatusDetails.
        ...(i === 8 ? { StatusDetails: 'Undeliverable' } : {}),
      })),
    });
    ssmMock.on(GetCommandInvocationCommand).resolves({ StandardErrorContent: 'timed out waiting for the namenode' });
    const nodeName = async (id: string) => `looked-up-${id}`;

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1', servers: nodes, nodeName });

    // Assess
    expect(status.state).toBe('FAILED');
    expect(status.failedNode).toBe('lambda-slave-5');
    expect(Object.fromEntries(Object.entries(status.nodes ?? {}).map(([name, result]) => [name, result.state]))).toEqual({
      'lambda-master': 'SUCCEEDED',
      'lambda-slave-1': 'PENDING',
      'lambda-slave-2': 'PENDING',
      'lambda-slave-3': 'RUNNING',
      'lambda-slave-4': 'SUCCEEDED',
      'lambda-slave-5': 'FAILED',
      'lambda-slave-6': 'FAILED',
      'lambda-slave-7': 'FAILED',
      'lambda-slave-8': 'FAILED',
    });
    // The first failed node with its full error output; the others from the list's output.
    expect(status.nodes?.['lambda-slave-5']?.message).toMatch(/TimedOut, exit code 1\): timed out waiting for the namenode$/);
    expect(status.nodes?.['lambda-slave-6']?.message).toBe('Cancelled, exit code 1: output of lambda-slave-6');
    expect(status.nodes?.['lambda-slave-8']?.message).toMatch(/^Undeliverable/);
    expect(status.nodes?.['lambda-master']).toEqual({ state: 'SUCCEEDED' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(1);
  });

  it('keeps a failed node message short: the tail of its output', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [invocation('cmd-1', node(1).id, 'Failed', [{ Name: 'runAnsiblePlaybook', Status: 'Failed', ResponseCode: 2 }])],
    });
    ssmMock.on(GetCommandInvocationCommand).resolves({ StandardErrorContent: `${'x'.repeat(5000)} the disk is full` });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1', servers: [node(1)] });

    // Assess
    const message = status.nodes?.['lambda-slave-1']?.message ?? '';
    expect(message.length).toBeLessThanOrEqual(201);
    expect(message).toMatch(/^….*the disk is full$/);
  });

  it('names a node the recorded servers do not have by its Name tag, and by its instance id when nothing names it', async () => {
    // Prepare
    const { runner, ssmMock } = setup();
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [invocation('cmd-1', node(1).id, 'InProgress'), invocation('cmd-1', node(2).id, 'InProgress'), invocation('cmd-1', node(3).id, 'Success')],
    });

    // Act
    const named = await runner.describe({ configurationId: 'ssm:lambda:cmd-1', servers: [node(1)], nodeName: async (id) => (id === node(2).id ? 'tagged-2' : id) });
    const unnamed = await runner.describe({ configurationId: 'ssm:lambda:cmd-1' });

    // Assess
    expect(named.nodes).toEqual({ 'lambda-slave-1': { state: 'RUNNING' }, 'tagged-2': { state: 'RUNNING' }, [node(3).id]: { state: 'SUCCEEDED' } });
    expect(Object.keys(unnamed.nodes ?? {})).toEqual([node(1).id, node(2).id, node(3).id]);
  });

  it('names the failed component after the failed step when the document has a step per component', async () => {
    // Prepare
    const { runner, ssmMock } = setup({
      profiles: { lambda: { components: [...LAMBDA_COMPONENTS], run: { kind: 'document', documentName: 'LambdaStack' } } },
    });
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        invocation('cmd-1', node(4).id, 'Failed', [
          { Name: 'common', Status: 'Success' },
          { Name: 'hdfs', Status: 'Success' },
          { Name: 'yarn', Status: 'Failed', ResponseCode: 1 },
        ]),
      ],
    });
    ssmMock.on(GetCommandInvocationCommand).resolves({ StandardErrorContent: 'resourcemanager did not start' });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1' });

    // Assess
    expect(status).toMatchObject({ state: 'FAILED', component: 'yarn', failedNode: node(4).id });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)[0]?.args[0].input).toMatchObject({ PluginName: 'yarn' });
  });

  it('takes the component and the node to blame from the COMPONENT lines of a controller run', async () => {
    // Prepare
    const { runner, ssmMock } = setup({
      profiles: { lambda: { components: [...LAMBDA_COMPONENTS], run: { kind: 'shell', commands: ['/opt/configuration/container/run-profile.sh lambda'] } } },
    });
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [invocation('cmd-1', node(0, 'master').id, 'Failed', [{ Name: 'aws:runShellScript', Status: 'Failed', ResponseCode: 2 }])],
    });
    ssmMock.on(GetCommandInvocationCommand).resolves({
      StandardOutputContent: 'COMPONENT common START all\nCOMPONENT common OK all\nCOMPONENT hdfs START all\nCOMPONENT hdfs FAILED lambda-slave-7\n',
      StandardErrorContent: 'fatal: [lambda-slave-7]: UNREACHABLE!',
    });

    // Act
    const status = await runner.describe({ configurationId: 'ssm:lambda:cmd-1', nodeName: async () => 'lambda-master' });

    // Assess
    expect(status).toMatchObject({ state: 'FAILED', component: 'hdfs', failedNode: 'lambda-slave-7' });
  });
});
