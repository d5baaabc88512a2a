import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { causeMessage, runStep, type StepDeps } from '#use-cases/workflow-steps';
import type { Cluster } from '#domain/model';
import type { CloudProvider } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import { clusterRecord } from '../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../support/dynamodb.ts';

const CLUSTER_ID = '35380a49-aae4-4935-9844-dfd6737b8c51';

const clusterOn = (provider: string, networks: string[]): Cluster => {
  const cluster = clusterRecord({
    id: CLUSTER_ID,
    name: 'analytics',
    provider,
    status: 'PROVISIONING',
    phase: 'allocate-ips',
    servers: [{ id: 'i-1', name: 'analytics-master', role: 'master', group: 'master', flavor: 'm', state: 'ACTIVE', privateIp: '10.0.1.5', publicIp: null }],
    networks,
  });
  return { ...cluster, spec: { ...cluster.spec, configuration: { profile: 'lambda', parameters: { kafka_partitions: 6 }, runner: 'container' } } };
};

let table: TestTable;
// A table per test: each starts from its own record under the same cluster id.
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(() => table.stop());

const depsFor = (enabled: boolean, configurationNetwork: CloudProvider['configurationNetwork'] = 'first-private-network'): StepDeps => ({
  clusters: table.clusters,
  quotas: table.quotas,
  // The provider's part here is ec2's unless a test says otherwise: what the container logs in
  // as, and the network it joins to reach the nodes.
  providers: { get: () => ({ name: 'ec2', inventoryVars: { ansible_user: 'admin', ntp_servers: ['169.254.169.123'] }, configurationNetwork }) } as unknown as ProviderRegistry,
  config: {
    SERVER_BOOT_TIMEOUT_SECONDS: 30,
    CONFIGURATION_AGENT_TIMEOUT_SECONDS: 30,
    CONFIGURATION_TIMEOUT_SECONDS: 30,
    POLL_INTERVAL_SECONDS: 1,
    CONTAINER_RUNNER_ENABLED: enabled,
    CONFIGURATION_SUBNETS: 'subnet-0a, subnet-0b',
    CONFIGURATION_SECURITY_GROUPS: 'sg-task',
  },
});

describe('the prepare-container step', () => {
  it('records CONFIGURING configure:container and answers the environment, subnets and security groups', async () => {
    // Prepare
    const { record } = await storeCluster(table, clusterOn('ec2', ['sg-net-0', 'sg-net-1']));

    // Act
    const result = await runStep(depsFor(true), { step: 'prepare-container', clusterId: CLUSTER_ID });

    // Assess
    expect(await record()).toMatchObject({ status: 'CONFIGURING', phase: 'configure:container' });
    expect(result.subnets).toEqual(['subnet-0a', 'subnet-0b']);
    // The task joins the cluster's first private network, which admits its members on every port.
    expect(result.securityGroups).toEqual(['sg-task', 'sg-net-0']);
    expect((result.environment as { Name: string }[]).map((v) => v.Name)).toEqual(['PROFILE', 'CLUSTER_ID', 'CLUSTER_ATTEMPT', 'CLUSTER_INVENTORY_JSON', 'CLUSTER_EXTRA_VARS_JSON']);
  });

  it('passes the inventory and parameters by reference where the deployment keeps them (S3 on AWS), keyed by cluster and attempt', async () => {
    // Prepare: an in-memory stand-in for the bucket.
    const objects = new Map<string, string>();
    const inputs: ConfigurationInputs = {
      put: async (key, body) => {
        objects.set(key, body);
        return `s3://inputs-bucket/inputs/${key}`;
      },
      uriOf: (key) => `s3://inputs-bucket/inputs/${key}`,
    };
    await storeCluster(table, clusterOn('ec2', ['sg-net-0']));

    // Act
    const result = await runStep({ ...depsFor(true), inputs }, { step: 'prepare-container', clusterId: CLUSTER_ID });

    // Assess
    const environment = Object.fromEntries((result.environment as { Name: string; Value: string }[]).map((v) => [v.Name, v.Value]));
    expect(Object.keys(environment)).toEqual(['PROFILE', 'CLUSTER_ID', 'CLUSTER_ATTEMPT', 'CLUSTER_INVENTORY_S3_URI', 'CLUSTER_EXTRA_VARS_S3_URI']);
    expect(environment.CLUSTER_INVENTORY_S3_URI).toBe(`s3://inputs-bucket/inputs/${CLUSTER_ID}/1/inventory.json`);
    expect(environment.CLUSTER_EXTRA_VARS_S3_URI).toBe(`s3://inputs-bucket/inputs/${CLUSTER_ID}/1/extra-vars.json`);
    expect(JSON.parse(objects.get(`${CLUSTER_ID}/1/inventory.json`) ?? '')).toMatchObject({
      all: { vars: { cluster_id: CLUSTER_ID, ansible_user: 'admin', ntp_servers: ['169.254.169.123'] } },
    });
    expect(JSON.parse(objects.get(`${CLUSTER_ID}/1/extra-vars.json`) ?? '')).toEqual({ kafka_partitions: 6 });
  });

  it('takes a cluster whose inventory would not fit the workflow state when it goes by reference, and refuses it inline', async () => {
    const servers = Array.from({ length: 1000 }, (_, i) => ({
      id: `i-${i}`,
      name: `${'a-very-long-node-name-'.repeat(2)}${i}`,
      role: i === 0 ? 'master' : 'worker',
      group: i === 0 ? 'master' : 'a-long-node-group-name-to-be-sure',
      flavor: 'm',
      state: 'ACTIVE',
      privateIp: `10.0.${Math.floor(i / 250)}.${(i % 250) + 3}`,
      publicIp: null,
    }));
    // Two records of the same big cluster, one for each way of passing its inventory.
    const big = async () => (await storeCluster(table, { ...clusterOn('ec2', ['sg-net-0']), id: randomUUID(), servers } as Cluster)).id;
    const inputs: ConfigurationInputs = { put: async (key) => `s3://inputs-bucket/inputs/${key}`, uriOf: (key) => `s3://inputs-bucket/inputs/${key}` };

    const byReference = await runStep({ ...depsFor(true), inputs }, { step: 'prepare-container', clusterId: await big() });

    expect(Buffer.byteLength(JSON.stringify(byReference.environment))).toBeLessThan(1024);
    await expect(runStep(depsFor(true), { step: 'prepare-container', clusterId: await big() })).rejects.toMatchObject({ name: 'InventoryTooLarge' });
  });

  it('fails with ContainerRunnerUnavailable, after recording the phase, where the deployment has no container', async () => {
    const { record } = await storeCluster(table, clusterOn('ec2', ['sg-net-0']));

    await expect(runStep(depsFor(false), { step: 'prepare-container', clusterId: CLUSTER_ID })).rejects.toMatchObject({ name: 'ContainerRunnerUnavailable' });
    expect((await record()).phase).toBe('configure:container');
  });

  it('fails with ContainerRunnerUnavailable for an ec2 cluster without a private network to reach its nodes through', async () => {
    await storeCluster(table, clusterOn('ec2', []));

    await expect(runStep(depsFor(true), { step: 'prepare-container', clusterId: CLUSTER_ID })).rejects.toMatchObject({ name: 'ContainerRunnerUnavailable' });
  });

  it('joins no network, and needs none, for a provider that reaches its servers without one (the emulated cloud)', async () => {
    await storeCluster(table, clusterOn('local', []));

    const result = await runStep(depsFor(true, 'none'), { step: 'prepare-container', clusterId: CLUSTER_ID });

    expect(result.securityGroups).toEqual(['sg-task']);
  });
});

describe('causeMessage of a stopped ECS task (runTask.sync’s States.TaskFailed cause)', () => {
  it('says the container’s exit code, its reason and the task’s', () => {
    const cause = JSON.stringify({
      TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/configuration/abc',
      StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'configuration', ExitCode: 2, Reason: 'COMPONENT hdfs FAILED analytics-worker-2' }],
    });

    expect(causeMessage(cause)).toBe(
      'the configuration container exited with code 2: COMPONENT hdfs FAILED analytics-worker-2; Essential container in task exited (task arn:aws:ecs:eu-west-1:123456789012:task/configuration/abc)',
    );
  });

  it('says the task stopped when the container never ran (no exit code)', () => {
    const cause = JSON.stringify({ StoppedReason: 'CannotPullContainerError: pull access denied', Containers: [{ Name: 'configuration' }] });

    expect(causeMessage(cause)).toBe('the configuration container stopped: CannotPullContainerError: pull access denied');
  });

  it('still unwraps Lambda’s {errorType, errorMessage}', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'ServerBootFailed', errorMessage: 'two servers failed' }))).toBe('two servers failed');
  });
});

describe('the name-container-failure step (after "Run the configuration container" failed)', () => {
  const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/configuration/abc';
  const stopped = (exitCode: number | undefined) => ({
    Error: 'States.TaskFailed',
    Cause: JSON.stringify({
      TaskArn: TASK,
      StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'configuration', ...(exitCode === undefined ? {} : { ExitCode: exitCode }) }],
    }),
  });
  /** A record of a cluster whose container failed, under an id of its own: one test needs two. */
  const failedAt = (report: Cluster['configurationReport']) =>
    storeCluster(table, { ...clusterOn('ec2', ['sg-net-0']), id: randomUUID(), status: 'CONFIGURING', phase: 'configure:hdfs', ...(report ? { configurationReport: report } : {}) });
  const name = (clusterId: string, failure: { Error: string; Cause?: string }) =>
    runStep(depsFor(true), { step: 'name-container-failure', clusterId, failure });

  it('names the component and nodes the container’s FAILED lines gave, as ConfigurationFailed, keeping exit code and stop reason', async () => {
    const { id } = await failedAt({ attempt: 1, lineAt: 5, failure: { component: 'hdfs', node: 'analytics-worker-2', nodes: ['analytics-worker-2', 'analytics-worker-3'] } });

    const named = await name(id, stopped(2));

    expect(named.Error).toBe('ConfigurationFailed');
    expect(causeMessage(named.Cause as string)).toBe(
      `configuration failed at hdfs on analytics-worker-2, analytics-worker-3: the configuration container exited with code 2: Essential container in task exited (task ${TASK})`,
    );
  });

  it('asks again (ConfigurationReportPending) while the line has not arrived, or only an older attempt’s has', async () => {
    const none = await failedAt(undefined);
    const older = await failedAt({ attempt: 0, lineAt: 5, failure: { component: 'common', node: 'analytics-master', nodes: ['analytics-master'] } });

    await expect(name(none.id, stopped(2))).rejects.toMatchObject({ name: 'ConfigurationReportPending' });
    await expect(name(older.id, stopped(2))).rejects.toMatchObject({ name: 'ConfigurationReportPending' });
  });

  it('passes every other failure unchanged: bad input, a container that never ran, a timeout', async () => {
    const { id } = await failedAt({ attempt: 1, lineAt: 5, failure: { component: 'hdfs', node: null, nodes: [] } });
    const timeout = { Error: 'States.Timeout', Cause: 'the task ran too long' };

    expect(await name(id, stopped(64))).toEqual(stopped(64));
    expect(await name(id, stopped(undefined))).toEqual(stopped(undefined));
    expect(await name(id, timeout)).toEqual(timeout);
  });
});
