import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  type Command,
  type CommandInvocation,
  type CommandPlugin,
  type DescribeInstanceInformationRequest,
  type ListCommandsRequest,
  type SendCommandRequest,
} from '@aws-sdk/client-ssm';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import type { Cluster } from '#domain/model';
import { s3PresignGet } from '#adapters/s3-presigned-urls';
import { SsmConfigurationRunner, type ConfigurationNode, type SsmConfigurationOptions } from '#adapters/ec2/ssm/index';

const CLUSTER = '35380a49-aae4-4935-9844-dfd6737b8c51';
const BUNDLE = 's3://cdk-assets-bucket/0123abcd.zip';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0l3Gm6vUq3d7dTq1k8Qe0qz9c4pH8xWm3rY2b1aC0d';

const master: ConfigurationNode = { id: 'i-00000000000000000', name: 'lambda-master', role: 'master', privateIp: '10.0.1.5' };
const worker = (i: number): ConfigurationNode => ({ id: `i-0000000000000000${i}`, name: `lambda-slave-${i}`, role: 'worker', privateIp: `10.0.1.${10 + i}` });

const clusterOf = (nodes: ConfigurationNode[], parameters: Record<string, string | number | boolean> = { kafka_partitions: 6 }) =>
  ({
    id: CLUSTER,
    name: 'analytics',
    attempt: 2,
    spec: { configuration: { profile: 'lambda', parameters } },
    servers: nodes.map((node) => ({
      id: node.id,
      name: node.name,
      role: node.role,
      group: node.role === 'master' ? 'master' : 'slaves',
      flavor: 'm7g.large',
      state: 'ACTIVE',
      privateIp: node.privateIp,
      publicIp: null,
    })),
  }) as unknown as Cluster;

/** The inputs bucket in memory. */
const memoryInputs = () => {
  const objects = new Map<string, string>();
  const inputs: ConfigurationInputs = {
    put: async (key, body) => {
      objects.set(key, body);
      return inputs.uriOf(key);
    },
    uriOf: (key) => `s3://inputs-bucket/inputs/${key}`,
  };
  return { inputs, objects };
};

/** Presigning is offline: a real client with fixed fake credentials signs real URLs. */
const presign = s3PresignGet(new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' } }));

/**
 * SSM as far as the controller needs it: every instance Online, SendCommand remembering what it
 * was sent (ListCommands lists it back by instance), invocations as the test sets them.
 */
function fakeSsm(ssmMock: AwsClientStub<SSMClient>) {
  const sent: (SendCommandRequest & { CommandId: string })[] = [];
  const invocations = new Map<string, CommandInvocation[]>();
  const outputs = new Map<string, string>();
  ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationRequest) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((id) => ({ InstanceId: id, PingStatus: 'Online' })),
  }));
  ssmMock.on(SendCommandCommand).callsFake((input: SendCommandRequest) => {
    const CommandId = `cmd-${sent.length + 1}`;
    sent.push({ ...input, CommandId });
    return { Command: { CommandId, InstanceIds: input.InstanceIds, Comment: input.Comment, Status: 'Pending' } };
  });
  ssmMock.on(ListCommandsCommand).callsFake((input: ListCommandsRequest) => ({
    Commands: sent
      .filter((command) => command.InstanceIds?.includes(input.InstanceId ?? ''))
      .map((command): Command => ({ CommandId: command.CommandId, Comment: command.Comment, InstanceIds: command.InstanceIds, Status: 'InProgress' })),
  }));
  ssmMock.on(ListCommandInvocationsCommand).callsFake((input: { CommandId: string }) => ({ CommandInvocations: invocations.get(input.CommandId) ?? [] }));
  ssmMock.on(GetCommandInvocationCommand).callsFake((input: { CommandId: string; InstanceId: string }) => ({
    Status: 'Success',
    StandardOutputContent: outputs.get(`${input.CommandId}/${input.InstanceId}`) ?? '',
    StandardErrorContent: outputs.get(`${input.CommandId}/${input.InstanceId}/err`) ?? '',
  }));
  /** Sets every instance of a sent command to `status`. */
  const finish = (commandId: string, status: string, stdout = '', stderr = '', only?: string) => {
    const command = sent.find((c) => c.CommandId === commandId);
    invocations.set(
      commandId,
      (command?.InstanceIds ?? []).map((instanceId) => {
        const own = only === undefined || only === instanceId ? status : 'Success';
        if (own !== 'Success' || only === undefined) {
          outputs.set(`${commandId}/${instanceId}`, stdout);
          outputs.set(`${commandId}/${instanceId}/err`, stderr);
        }
        return {
          CommandId: commandId,
          InstanceId: instanceId,
          Status: own as CommandInvocation['Status'],
          CommandPlugins: [{ Name: 'aws:runShellScript', Status: own as CommandPlugin['Status'], ResponseCode: own === 'Success' ? 0 : 2, Output: '' }],
        };
      }),
    );
  };
  return { sent, finish };
}

function setup(nodes: ConfigurationNode[], options: Partial<SsmConfigurationOptions> = {}) {
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const ssmMock = mockClient(ssm);
  const { inputs, objects } = memoryInputs();
  const runner = new SsmConfigurationRunner(ssm, 'cluster-service', { controller: { bundleUri: BUNDLE, inputs, presign }, executionTimeoutSeconds: 5400, ...options });
  const fake = fakeSsm(ssmMock);
  const lookups = { clusterId: CLUSTER, nodeName: async (id: string) => nodes.find((node) => node.id === id)?.name ?? id, nodes: async () => nodes };
  const describeRun = (configurationId: string) => runner.describe({ configurationId, ...lookups });
  /** What "Check the configuration" does: describe, then send the next stage when describe names one. */
  const checkRun = async (configurationId: string) => {
    const status = await describeRun(configurationId);
    return status.nextStage === undefined ? status : runner.sendNextStage({ configurationId, ...lookups });
  };
  const start = (profile = 'lambda') => runner.start({ clusterId: CLUSTER, profile, nodes: nodes.map(({ privateIp: _, ...node }) => node), cluster: clusterOf(nodes) });
  return { runner, ssmMock, objects, start, describeRun, checkRun, ...fake };
}

const commandsOf = (request: SendCommandRequest | undefined): string => (request?.Parameters?.commands ?? []).join('\n');
const everyCommand = (sent: SendCommandRequest[]): string => sent.map((request) => JSON.stringify(request)).join('\n');

describe('SsmConfigurationRunner, controller mode (the master as Ansible controller)', () => {
  it('writes the inventory and extra vars under inputs/<cluster>/<attempt>/ and sends `prepare` to the master alone', async () => {
    // Prepare
    const nodes = [master, worker(1), worker(2)];
    const { start, sent, objects } = setup(nodes);

    // Act
    const id = await start();

    // Assess
    expect(id).toBe('ssm-controller:lambda:2:prepare:cmd-1');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: [master.id], Comment: `cluster-service ${CLUSTER} prepare/2 lambda` });
    expect(sent[0]?.Parameters?.executionTimeout).toEqual(['5400']);
    expect(commandsOf(sent[0])).toContain('ssh-keygen -q -t ed25519');
    expect(commandsOf(sent[0])).toContain('apt-get');
    expect(commandsOf(sent[0])).toContain('dnf');
    const inventory = JSON.parse(objects.get(`${CLUSTER}/2/inventory.json`) ?? '{}');
    expect(inventory.all.vars).toMatchObject({ cluster_id: CLUSTER, ansible_user: 'admin', ntp_servers: ['169.254.169.123'] });
    expect(inventory.all.children.master.children.ng_master.hosts['lambda-master']).toMatchObject({ ansible_connection: 'local', ansible_host: '10.0.1.5' });
    const slave = inventory.all.children.workers.children.ng_slaves.hosts['lambda-slave-1'];
    expect(slave).toMatchObject({ ansible_host: '10.0.1.11', private_ip: '10.0.1.11' });
    expect(slave.ansible_connection).toBeUndefined();
    expect(JSON.parse(objects.get(`${CLUSTER}/2/extra-vars.json`) ?? '')).toEqual({ kafka_partitions: 6 });
  });

  it('reports the first component while `prepare` runs, and sends nothing more', async () => {
    const { start, checkRun, sent, finish } = setup([master, worker(1)]);
    const id = await start();
    finish('cmd-1', 'InProgress');

    const status = await checkRun(id);

    expect(status).toMatchObject({ state: 'RUNNING', component: 'common' });
    expect(status.configurationId).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('goes on to `authorize` on every worker with the public key read from `prepare`, held to the master’s address', async () => {
    // Prepare
    const nodes = [master, worker(1), worker(2)];
    const { start, checkRun, sent, finish } = setup(nodes);
    const id = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);

    // Act
    const status = await checkRun(id);

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'common', configurationId: 'ssm-controller:lambda:2:authorize:cmd-2' });
    expect(sent[1]).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: [worker(1).id, worker(2).id], Comment: `cluster-service ${CLUSTER} authorize/2 lambda` });
    expect(commandsOf(sent[1])).toContain(`key='${PUBLIC_KEY}'`);
    expect(commandsOf(sent[1])).toContain(`entry='from="10.0.1.5" ${PUBLIC_KEY} cluster-controller'`);
    expect(commandsOf(sent[1])).toContain("user='admin'");
    expect(everyCommand(sent)).not.toMatch(/PRIVATE KEY|id_ed25519'/);
  });

  it('goes on to `run` on the master with presigned URLs of the bundle, the inventory and the extra vars', async () => {
    // Prepare
    const nodes = [master, worker(1)];
    const { start, checkRun, sent, finish } = setup(nodes);
    const prepare = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);
    const authorize = (await checkRun(prepare)).configurationId ?? '';
    finish('cmd-2', 'Success');

    // Act
    const status = await checkRun(authorize);

    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', component: 'common', configurationId: 'ssm-controller:lambda:2:run:cmd-3' });
    expect(sent[2]).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: [master.id], Comment: `cluster-service ${CLUSTER} run/2 lambda` });
    const script = commandsOf(sent[2]);
    const urls = [...script.matchAll(/fetch '(https:\/\/[^']+)'/g)].map((match) => new URL(match[1]!));
    expect(urls.map((url) => `${url.hostname}${url.pathname}`)).toEqual([
      'cdk-assets-bucket.s3.eu-west-1.amazonaws.com/0123abcd.zip',
      `inputs-bucket.s3.eu-west-1.amazonaws.com/inputs/${CLUSTER}/2/inventory.json`,
      `inputs-bucket.s3.eu-west-1.amazonaws.com/inputs/${CLUSTER}/2/extra-vars.json`,
    ]);
    for (const url of urls) {
      expect(url.searchParams.get('X-Amz-Expires')).toBe('5400');
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(script).toContain("SSH_PRIVATE_KEY_FILE=/var/lib/cluster-controller/id_ed25519");
    expect(script).toMatch(/run-profile\.sh" 'lambda'$/);
    expect(everyCommand(sent)).not.toMatch(/PRIVATE KEY/);
  });

  it('signs URLs for at most 12 hours, whatever the execution timeout', async () => {
    const { start, checkRun, sent, finish } = setup([master], { executionTimeoutSeconds: 86_400 });
    const id = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);

    await checkRun(id);

    const url = new URL(/fetch '(https:[^']+)'/.exec(commandsOf(sent[1]))?.[1] ?? 'https://none');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('43200');
  });

  it('skips `authorize` for a cluster without workers: `run` follows `prepare`', async () => {
    const { start, checkRun, sent, finish } = setup([master]);
    const id = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);

    const status = await checkRun(id);

    expect(status.configurationId).toBe('ssm-controller:lambda:2:run:cmd-2');
    expect(sent.map((request) => request.Comment?.split(' ')[2])).toEqual(['prepare/2', 'run/2']);
  });

  it('answers SUCCEEDED with the last component once `run` succeeded', async () => {
    const { checkRun, sent, finish, start } = setup([master]);
    await start();
    sent.push({ CommandId: 'cmd-9', InstanceIds: [master.id] } as SendCommandRequest & { CommandId: string });
    finish('cmd-9', 'Success', 'COMPONENT flink OK all\n');

    const status = await checkRun('ssm-controller:lambda:2:run:cmd-9');

    expect(status).toMatchObject({ state: 'SUCCEEDED', component: 'flink' });
    expect(status.configurationId).toBeUndefined();
  });

  it('names the component and node of a COMPONENT … FAILED line in the output of a failed `run`', async () => {
    const { checkRun, sent, finish } = setup([master, worker(1), worker(2)]);
    sent.push({ CommandId: 'cmd-7', InstanceIds: [master.id] } as SendCommandRequest & { CommandId: string });
    finish('cmd-7', 'Failed', 'COMPONENT common START all\nCOMPONENT common OK all\nCOMPONENT hdfs START all\nCOMPONENT hdfs FAILED lambda-slave-2\n', 'fatal: [lambda-slave-2]: FAILED! => {"msg": "DataNode did not start"}');

    const status = await checkRun('ssm-controller:lambda:2:run:cmd-7');

    expect(status).toMatchObject({ state: 'FAILED', component: 'hdfs', failedNode: 'lambda-slave-2' });
    expect(status.message).toContain('DataNode did not start');
  });

  it('reports every node SUCCEEDED once `run` succeeded on the master', async () => {
    const nodes = [master, worker(1), worker(2)];
    const { checkRun, sent, finish } = setup(nodes);
    sent.push({ CommandId: 'cmd-9', InstanceIds: [master.id] } as SendCommandRequest & { CommandId: string });
    finish('cmd-9', 'Success', 'COMPONENT flink OK all\n');

    const status = await checkRun('ssm-controller:lambda:2:run:cmd-9');

    expect(status.nodes).toEqual({ 'lambda-master': { state: 'SUCCEEDED' }, 'lambda-slave-1': { state: 'SUCCEEDED' }, 'lambda-slave-2': { state: 'SUCCEEDED' } });
  });

  it('reports the nodes a failed `run` blames in its COMPONENT … FAILED lines as FAILED, and says nothing of the master it ran on', async () => {
    const { checkRun, sent, finish } = setup([master, worker(1), worker(2), worker(3)]);
    sent.push({ CommandId: 'cmd-7', InstanceIds: [master.id] } as SendCommandRequest & { CommandId: string });
    finish(
      'cmd-7',
      'Failed',
      'COMPONENT common START all\nCOMPONENT common OK all\nCOMPONENT hdfs START all\nCOMPONENT hdfs FAILED lambda-slave-2\nCOMPONENT hdfs FAILED lambda-slave-3\n',
      'fatal: [lambda-slave-2]: FAILED! => {"msg": "DataNode did not start"}',
    );

    const status = await checkRun('ssm-controller:lambda:2:run:cmd-7');

    expect(Object.keys(status.nodes ?? {}).sort()).toEqual(['lambda-slave-2', 'lambda-slave-3']);
    expect(status.nodes?.['lambda-slave-2']).toMatchObject({ state: 'FAILED' });
    expect(status.nodes?.['lambda-slave-2']?.message).toContain('DataNode did not start');
    expect(status.nodes?.['lambda-slave-3']).toEqual({ state: 'FAILED', message: 'hdfs failed' });
  });

  it('reports nothing per node while `run` runs: its one invocation is the master’s, not the nodes’', async () => {
    const { checkRun, sent, finish } = setup([master, worker(1)]);
    sent.push({ CommandId: 'cmd-5', InstanceIds: [master.id] } as SendCommandRequest & { CommandId: string });
    finish('cmd-5', 'InProgress');

    const status = await checkRun('ssm-controller:lambda:2:run:cmd-5');

    expect(status).toMatchObject({ state: 'RUNNING', component: 'common' });
    expect(status.nodes).toBeUndefined();
  });

  it('reports the workers while `authorize` runs on them, RUNNING once it succeeded (configured they are not yet), FAILED where it failed', async () => {
    const nodes = [master, worker(1), worker(2), worker(3)];
    const { start, checkRun, sent, finish } = setup(nodes);
    const prepare = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);
    const authorize = (await checkRun(prepare)).configurationId ?? '';
    const workerIds = sent[1]?.InstanceIds ?? [];
    finish('cmd-2', 'Success');

    const done = await checkRun(authorize);
    finish('cmd-2', 'Failed', '', 'no such user admin', worker(3).id);
    const failed = await checkRun(authorize);

    expect(workerIds).toHaveLength(3);
    expect(done.configurationId).toMatch(/:run:/);
    expect(done.nodes).toEqual({
      'lambda-slave-1': { state: 'RUNNING', message: 'authorizing the controller key on the workers' },
      'lambda-slave-2': { state: 'RUNNING', message: 'authorizing the controller key on the workers' },
      'lambda-slave-3': { state: 'RUNNING', message: 'authorizing the controller key on the workers' },
    });
    expect(failed.nodes?.['lambda-slave-1']?.state).toBe('RUNNING');
    expect(failed.nodes?.['lambda-slave-3']?.state).toBe('FAILED');
    expect(failed.nodes?.['lambda-slave-3']?.message).toMatch(/^authorizing the controller key on the workers failed .*no such user admin$/);
  });

  it('names the master and the stage when `prepare` fails', async () => {
    const { start, checkRun, sent, finish } = setup([master, worker(1)]);
    const id = await start();
    finish('cmd-1', 'Failed', '', 'E: Unable to locate package ansible-core');

    const status = await checkRun(id);

    expect(status).toMatchObject({ state: 'FAILED', component: 'common', failedNode: 'lambda-master' });
    expect(status.message).toMatch(/^preparing the master as controller failed on lambda-master .*Unable to locate package ansible-core/);
    expect(sent).toHaveLength(1);
  });

  it('fails, naming the master, when `prepare` succeeded without printing a key', async () => {
    const { start, checkRun, sent, finish } = setup([master, worker(1)]);
    const id = await start();
    finish('cmd-1', 'Success', 'CONTROLLER_KEY ssh-rsa AAAA; rm -rf /\n');

    const status = await checkRun(id);

    expect(status).toMatchObject({ state: 'FAILED', component: 'common', failedNode: 'lambda-master' });
    expect(status.message).toContain('no CONTROLLER_KEY line');
    expect(sent).toHaveLength(1);
  });

  it('names the worker and the stage when `authorize` fails there', async () => {
    const nodes = [master, worker(1), worker(2)];
    const { start, checkRun, finish } = setup(nodes);
    const prepare = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);
    const authorize = (await checkRun(prepare)).configurationId ?? '';
    finish('cmd-2', 'Failed', '', 'authorize: the login user admin does not exist on this node', worker(2).id);

    const status = await checkRun(authorize);

    expect(status).toMatchObject({ state: 'FAILED', component: 'common', failedNode: 'lambda-slave-2' });
    expect(status.message).toMatch(/^authorizing the controller key on the workers failed on lambda-slave-2 .*login user admin/);
  });

  it('adopts the next stage’s command when a stage is described again before its successor was recorded', async () => {
    const { start, checkRun, sent, finish } = setup([master, worker(1)]);
    const id = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);

    const first = await checkRun(id);
    const again = await checkRun(id);

    expect(again.configurationId).toBe(first.configurationId);
    expect(sent).toHaveLength(2);
  });

  it('describes a stage done everywhere without sending anything: RUNNING under the same id, naming the next stage', async () => {
    // Prepare
    const withWorkers = setup([master, worker(1)]);
    const masterOnly = setup([master]);
    const ids = [await withWorkers.start(), await masterOnly.start()];
    withWorkers.finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);
    masterOnly.finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);

    // Act
    const toAuthorize = await withWorkers.describeRun(ids[0]!);
    const toRun = await masterOnly.describeRun(ids[1]!);

    // Assess
    expect(toAuthorize).toMatchObject({ state: 'RUNNING', component: 'common', nextStage: 'authorize' });
    expect(toRun).toMatchObject({ state: 'RUNNING', component: 'common', nextStage: 'run' });
    expect([toAuthorize.configurationId, toRun.configurationId]).toEqual([undefined, undefined]);
    expect(withWorkers.ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(masterOnly.ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(withWorkers.ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
  });

  it('sends exactly the next stage, once, when asked to go on: asked again before the new id is recorded, it adopts what it sent', async () => {
    // Prepare
    const { runner, start, sent, finish } = setup([master, worker(1)]);
    const id = await start();
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);
    const lookups = { configurationId: id, clusterId: CLUSTER, nodes: async () => [master, worker(1)] };

    // Act
    const first = await runner.sendNextStage(lookups);
    const again = await runner.sendNextStage(lookups);

    // Assess
    expect(first).toMatchObject({ state: 'RUNNING', configurationId: 'ssm-controller:lambda:2:authorize:cmd-2' });
    expect(again.configurationId).toBe(first.configurationId);
    expect(sent.map((request) => request.Comment?.split(' ')[2])).toEqual(['prepare/2', 'authorize/2']);
  });

  it('sends nothing when asked to go on while the stage still runs, answering as describe does', async () => {
    const { runner, start, sent, finish } = setup([master, worker(1)]);
    const id = await start();
    finish('cmd-1', 'InProgress');

    const status = await runner.sendNextStage({ configurationId: id, clusterId: CLUSTER, nodes: async () => [master, worker(1)] });

    expect(status).toMatchObject({ state: 'RUNNING', component: 'common' });
    expect(status.configurationId).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('refuses an id it did not make', async () => {
    const { checkRun } = setup([master]);
    await expect(checkRun('ssm-controller:lambda:2:reboot:cmd-1')).rejects.toMatchObject({ code: 'ConfigurationNotFound' });
    await expect(checkRun('ssm-controller:lambda:0:run:cmd-1')).rejects.toMatchObject({ code: 'ConfigurationNotFound' });
  });
});

describe('the controller mode’s profiles', () => {
  it('has lambda and script built in with the bundle, and none of them without it', () => {
    const { runner } = setup([master]);
    const ssm = new SSMClient({ region: 'eu-west-1' });

    expect(runner.profileNames()).toEqual(['none', 'lambda', 'script']);
    expect(new SsmConfigurationRunner(ssm, 'cluster-service', {}).profileNames()).toEqual(['none']);
    expect(() => new SsmConfigurationRunner(ssm, 'cluster-service', { profiles: { lambda: { components: ['common'], run: { kind: 'controller' } } } })).toThrow(
      /runs on the master as controller, but no configuration bundle is set/,
    );
  });

  it('runs `script` as the script playbook, reporting the component script', async () => {
    const { start, checkRun, sent, finish } = setup([master]);
    const id = await start('script');
    finish('cmd-1', 'Success', `CONTROLLER_KEY ${PUBLIC_KEY}\n`);

    const status = await checkRun(id);

    expect(id).toBe('ssm-controller:script:2:prepare:cmd-1');
    expect(status).toMatchObject({ state: 'RUNNING', component: 'script' });
    expect(commandsOf(sent[1])).toMatch(/run-profile\.sh" 'script'$/);
  });

  it('lets a configured profile replace a built-in one by name', async () => {
    const { start, sent } = setup([master], {
      playbooks: { sourceType: 'S3', sourceInfo: { path: 'https://s3.amazonaws.com/b/node-playbooks.zip' } },
      profiles: { lambda: { components: ['common'], run: { kind: 'ansible', playbookFile: 'lambda-node.yml' } } },
    });

    const id = await start('lambda');

    expect(id).toBe('ssm:lambda:cmd-1');
    expect(sent[0]?.DocumentName).toBe('AWS-ApplyAnsiblePlaybooks');
  });
});
