import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError, TransientProviderError } from '#domain/errors';
import type { CloudProvider } from '#domain/provider';
import { CONTAINER_LAMBDA_PHASES, seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, transitionsOutsidePolling, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const serversOf = (h: WorkflowHarness, clusterId: string) => h.cloud.listServers().filter((server) => server.clusterId === clusterId);

/** The local provider, except that starting a configuration always fails with `error()`. */
const refusingToConfigure = (error: () => Error) => (provider: CloudProvider): CloudProvider =>
  Object.assign(Object.create(provider) as CloudProvider, {
    startConfiguration: async () => {
      throw error();
    },
  });

describe('the provision workflow (statemachine/provision.asl.json, executed locally)', () => {
  it('takes the seed request to ACTIVE with a master, its slaves and the master’s public IP', async () => {
    // Prepare
    harness = await startWorkflowHarness();

    // Act
    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 3 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.phase).toBe('ready');
    expect(cluster.servers.map((s) => [s.role, s.state])).toEqual([
      ['master', 'ACTIVE'],
      ['worker', 'ACTIVE'],
      ['worker', 'ACTIVE'],
      ['worker', 'ACTIVE'],
    ]);
    const [master, ...workers] = cluster.servers;
    expect(master?.name).toBe('lambda-master');
    expect(master?.publicIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(workers.every((w) => w.publicIp === null)).toBe(true);
    expect(cluster.servers.every((s) => s.privateIp !== null && s.id !== null)).toBe(true);
    expect(serversOf(harness, cluster.id)).toHaveLength(4);
  });

  it('records every status and phase change on the timeline, in order', async () => {
    harness = await startWorkflowHarness();

    const { cluster } = await harness.run(seedRequest());
    const events = await harness.table.clusters.listEvents(cluster.id);

    const phases = events.map((e) => `${e.status}/${e.phase}`);
    expect(phases.slice(0, 6)).toEqual([
      'PENDING/accepted',
      'PROVISIONING/plan',
      'PROVISIONING/create-networks',
      'PROVISIONING/create-servers',
      'PROVISIONING/wait-servers',
      'PROVISIONING/allocate-ips',
    ]);
    expect(phases.filter((p) => p.startsWith('CONFIGURING/configure:')).length).toBeGreaterThanOrEqual(1);
    expect(phases.at(-1)).toBe('ACTIVE/ready');
    // Nothing else in between: the wait for the agents, then each component the checks saw, once
    // and in the profile's order (how many they saw depends on how the polls fall).
    const components = phases.slice(7, -1).map((p) => p.replace('CONFIGURING/configure:', ''));
    expect(phases[6]).toBe('CONFIGURING/configure');
    expect(components).toEqual(['common', 'hdfs', 'yarn', 'kafka', 'flink'].filter((component) => components.includes(component)));
  });

  it('gives every public IP to every server when ip_allocation is all, and none when none', async () => {
    harness = await startWorkflowHarness();

    const all = await harness.run({ ...seedRequest(), slaves: 2, ip_allocation: 'all' });
    const none = await harness.run({ ...seedRequest(), slaves: 2, ip_allocation: 'none' });

    expect(all.cluster.servers.every((s) => s.publicIp !== null)).toBe(true);
    expect(none.cluster.servers.every((s) => s.publicIp === null)).toBe(true);
  });

  it('rolls back and records FAILED when a server fails to boot, leaving no server behind', async () => {
    harness = await startWorkflowHarness({ cloud: { failPattern: /slave-2$/ } });

    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 3 });

    expect(execution.status).toBe('FAILED');
    expect(cluster.status).toBe('FAILED');
    expect(cluster.error?.code).toBe('ServerBootFailed');
    expect(cluster.error?.step).toBe('wait-servers');
    expect(cluster.error?.message).toContain('my-first-lambda-instance-slave-2');
    expect(serversOf(harness, cluster.id)).toEqual([]);
    const events = await harness.table.clusters.listEvents(cluster.id);
    expect(events.map((e) => e.phase)).toContain('rollback');
  });

  it('fails with ServersBootTimeout when servers are not running by the deadline, and cleans up', async () => {
    harness = await startWorkflowHarness({
      cloud: { bootMs: { min: 60_000, max: 60_000 } },
      config: { SERVER_BOOT_TIMEOUT_SECONDS: 1 },
      waitMs: 100,
    });

    const { cluster, execution } = await harness.run(seedRequest());

    expect(execution.status).toBe('FAILED');
    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'ServersBootTimeout', step: 'wait-servers' });
    expect(serversOf(harness, cluster.id)).toEqual([]);
  });

  it('fails at create-servers with the provider’s QuotaExceeded, creating nothing', async () => {
    harness = await startWorkflowHarness({ cloud: { maxServers: 3 } });

    const { cluster } = await harness.run({ ...seedRequest(), slaves: 5 });

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'QuotaExceeded', step: 'create-servers' });
    expect(serversOf(harness, cluster.id)).toEqual([]);
  });

  it('fails at the failing configuration component, names the node, and deletes the servers', async () => {
    harness = await startWorkflowHarness({ cloud: { configFailPattern: /slave-1$/ } });

    const { cluster } = await harness.run({ ...seedRequest(), slaves: 2 });

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error?.code).toBe('ConfigurationFailed');
    expect(cluster.error?.step).toMatch(/^configure:/);
    expect(cluster.error?.message).toContain('my-first-lambda-instance-slave-1');
    expect(serversOf(harness, cluster.id)).toEqual([]);
  });

  it('fails at the configure step, CONFIGURING on its timeline, when the configuration cannot be started (SSM unreachable)', async () => {
    // Prepare
    harness = await startWorkflowHarness({
      provider: refusingToConfigure(() => new TransientProviderError('SSM SendCommand: connect ETIMEDOUT ssm.eu-west-1.amazonaws.com')),
    });

    // Act
    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 2 });

    // Assess
    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'TransientProviderError', step: 'configure' });
    expect(cluster.error?.message).toContain('ETIMEDOUT');
    expect(execution.states.some((s) => s.name === 'Start the configuration' && s.event === 'StateRetried')).toBe(true);
    const phases = (await harness.table.clusters.listEvents(cluster.id)).map((e) => `${e.status}/${e.phase}`);
    expect(phases).toContain('CONFIGURING/configure');
    expect(phases.indexOf('CONFIGURING/configure')).toBeGreaterThan(phases.indexOf('PROVISIONING/allocate-ips'));
    expect(serversOf(harness, cluster.id)).toEqual([]);
  });

  it.each([
    ['an unknown profile', () => new ProviderError('UnknownProfile', "No SSM configuration for profile 'lambda'; this deployment has none")],
    ['a configuration variable SSM cannot take', () => new ProviderError('InvalidConfigurationVariable', 'configuration variable master_name=a b cannot be passed to SSM safely')],
  ])('fails at the configure step, not the one before, for %s', async (_, error) => {
    harness = await startWorkflowHarness({ provider: refusingToConfigure(error) });

    const { cluster } = await harness.run(seedRequest());

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: error().name, step: 'configure' });
  });

  describe('with the container runner (configuration.runner container: the ECS task’s local stand-in)', () => {
    const entered = (execution: { states: { name: string; event: string }[] }) =>
      new Set(execution.states.filter((s) => s.event === 'StateEntered').map((s) => s.name));

    it('reaches ACTIVE through the configuration container, never starting the provider’s configuration', async () => {
      // Prepare
      harness = await startWorkflowHarness();

      // Act
      const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 2 }, 'container');

      // Assess
      expect(execution.status).toBe('SUCCEEDED');
      expect(cluster.status).toBe('ACTIVE');
      const states = entered(execution);
      expect(states).toContain('Prepare the configuration container');
      expect(states).toContain('Run the configuration container');
      expect(states).not.toContain('Start the configuration');
      const phases = (await harness.table.clusters.listEvents(cluster.id)).map((e) => `${e.status}/${e.phase}`);
      // The container's COMPONENT lines, through the configuration-progress handler, as from its log group on AWS.
      expect(phases.filter((p) => p.startsWith('CONFIGURING/'))).toEqual(CONTAINER_LAMBDA_PHASES);
      expect(serversOf(harness, cluster.id)).toHaveLength(3);
      // Its exit 0 says every node is configured.
      expect(cluster.servers.map((server) => server.configuration?.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    });

    it('keeps the ssm runner for a cluster that asks for it', async () => {
      harness = await startWorkflowHarness({ config: { DEFAULT_CONFIGURATION_RUNNER: 'container' } });

      const { cluster, execution } = await harness.run(seedRequest(), 'ssm');

      expect(cluster.status).toBe('ACTIVE');
      expect(entered(execution)).toContain('Start the configuration');
      expect(entered(execution)).not.toContain('Run the configuration container');
    });

    it('fails with ConfigurationFailed at the failed component, naming it and the node as the ssm runner does, and deletes the servers', async () => {
      // Prepare
      harness = await startWorkflowHarness({ cloud: { configFailPattern: /slave-2$/ } });

      // Act
      const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 2 }, 'container');

      // Assess
      expect(execution.status).toBe('FAILED');
      expect(cluster.status).toBe('FAILED');
      expect(cluster.error?.code).toBe('ConfigurationFailed');
      expect(cluster.error?.step).toBe('configure:hdfs');
      expect(cluster.error?.message).toMatch(
        /^configuration failed at hdfs on my-first-lambda-instance-slave-2: the configuration container exited with code 2: Essential container in task exited \(task arn:aws:ecs:/,
      );
      expect(cluster.configurationReport?.failure).toEqual({ component: 'hdfs', node: 'my-first-lambda-instance-slave-2', nodes: ['my-first-lambda-instance-slave-2'] });
      // The node to blame carries the failure; the container reports no other node's result.
      expect(cluster.servers.map((server) => [server.name, server.configuration])).toEqual([
        ['lambda-master', undefined],
        ['my-first-lambda-instance-slave-1', undefined],
        ['my-first-lambda-instance-slave-2', { state: 'FAILED', message: 'failed at hdfs' }],
      ]);
      expect(entered(execution)).toContain('Name the configuration failure');
      expect(serversOf(harness, cluster.id)).toEqual([]);
    });

    it('keeps the container’s exit code and stop reason as States.TaskFailed when its FAILED line never arrives, after asking a few times', async () => {
      // Prepare: the task's lines reach nobody, as with a broken log subscription.
      harness = await startWorkflowHarness({ cloud: { configFailPattern: /slave-2$/ }, containerProgress: false });

      // Act
      const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 2 }, 'container');

      // Assess
      expect(cluster.status).toBe('FAILED');
      expect(cluster.error?.code).toBe('States.TaskFailed');
      expect(cluster.error?.step).toBe('configure:container');
      expect(cluster.error?.message).toMatch(/^the configuration container exited with code 2: Essential container in task exited/);
      const retried = execution.states.filter((s) => s.name === 'Name the configuration failure' && s.event === 'StateRetried');
      expect(retried.length).toBeGreaterThan(0);
      expect(serversOf(harness, cluster.id)).toEqual([]);
    });

    it('fails fast with ContainerRunnerUnavailable where the deployment has no container, and cleans up', async () => {
      harness = await startWorkflowHarness({ config: { CONTAINER_RUNNER_ENABLED: false } });

      const { cluster, execution } = await harness.run(seedRequest(), 'container');

      expect(cluster.status).toBe('FAILED');
      expect(cluster.error?.code).toBe('ContainerRunnerUnavailable');
      expect(cluster.error?.step).toBe('configure:container');
      expect(entered(execution)).not.toContain('Run the configuration container');
      expect(serversOf(harness, cluster.id)).toEqual([]);
    });
  });

  it('retries throttled provider calls and still reaches ACTIVE', async () => {
    // Every fourth call to the cloud is throttled; never two in a row.
    const draws = [0.9, 0.9, 0.9, 0.1];
    let call = 0;
    harness = await startWorkflowHarness({ cloud: { apiErrorRate: 0.25, random: () => draws[call++ % draws.length] ?? 0.9 } });

    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 2 });

    expect(cluster.status).toBe('ACTIVE');
    expect(execution.states.some((s) => s.event === 'StateRetried')).toBe(true);
    expect(serversOf(harness, cluster.id)).toHaveLength(3);
  });

  it('makes at most two state transitions more for 120 nodes (three batches) than for one, outside the polling loops whose rounds follow the clock', async () => {
    harness = await startWorkflowHarness();

    const one = await harness.run({ ...seedRequest(), slaves: 0 });
    const many = await harness.run({ ...seedRequest(), slaves: 119 });

    expect(one.cluster.status).toBe('ACTIVE');
    expect(many.cluster.status).toBe('ACTIVE');
    expect(many.cluster.servers).toHaveLength(120);
    expect(transitionsOutsidePolling(many.execution)).toBeLessThanOrEqual(transitionsOutsidePolling(one.execution) + 2);
  });

  it('resumes a cluster whose workflow was stopped midway, without duplicating a server', async () => {
    harness = await startWorkflowHarness({ cloud: { bootMs: { min: 400, max: 400 } } });
    const created = await harness.create({ ...seedRequest(), slaves: 4 });
    // Stop the run once the servers exist but are still booting, as a crash would.
    for (let i = 0; i < 200 && serversOf(harness, created.id).length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    await harness.workflow.stopAll();
    const stopped = await harness.table.clusters.getCluster(created.id);
    expect(stopped?.status).toBe('PROVISIONING');

    const restarted = harness.restart();
    restarted.machines.provision.start(created.id, { clusterId: created.id });
    const execution = await restarted.waitFor('provision', created.id);

    const cluster = await harness.table.clusters.getCluster(created.id);
    expect(execution?.status).toBe('SUCCEEDED');
    expect(cluster?.status).toBe('ACTIVE');
    expect(serversOf(harness, created.id)).toHaveLength(5);
    expect(new Set(cluster?.servers.map((s) => s.id)).size).toBe(5);
  });
});
