/**
 * The wait for the servers' configuration agents (SSM's on ec2) before the configuration starts:
 * "Check the configuration agents" ⇄ "Wait for the configuration agents", in a local execution of
 * the real ASL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TransientProviderError } from '#domain/errors';
import type { CloudProvider } from '#domain/provider';
import type { ExecutionRecord } from '../../infra/local/step-functions.ts';
import { seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const entered = (execution: ExecutionRecord, state: string) => execution.states.filter((s) => s.name === state && s.event === 'StateEntered').length;

type Servers = { id: string; name: string; role: string }[];

/**
 * The local provider with agents as SSM's behave: an agent is Online `afterMs` after the cluster's
 * agents were first asked about (never, for a server whose name matches `never`), and, as the SSM
 * runner does, starting a configuration is refused while one is not.
 */
const ssmAgents = (afterMs: number, never?: RegExp) => (provider: CloudProvider): CloudProvider => {
  let firstAsked: number | undefined;
  const offline = (servers: Servers) => {
    firstAsked ??= Date.now();
    const late = Date.now() - firstAsked < afterMs;
    return servers.filter((server) => late || never?.test(server.name)).map((server) => server.id);
  };
  return Object.assign(Object.create(provider) as CloudProvider, {
    describeConfigurationAgents: async (input: { servers: Servers }) => ({ offline: offline(input.servers) }),
    startConfiguration: async (input: Parameters<CloudProvider['startConfiguration']>[0]) => {
      const waiting = offline(input.servers);
      if (waiting.length > 0) throw new TransientProviderError(`${waiting.length} of ${input.servers.length} instance(s) not yet Online in SSM`);
      return provider.startConfiguration(input);
    },
  });
};

describe('the wait for the configuration agents (statemachine/provision.asl.json, executed locally)', () => {
  it('waits for agents that come online later than the start’s retries would have waited, then reaches ACTIVE', async () => {
    // Prepare: locally a retry pauses 5 ms, so the start's retries span a few tens of ms; the agents take 1 s.
    harness = await startWorkflowHarness({ provider: ssmAgents(1000) });

    // Act
    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 2 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(cluster.status).toBe('ACTIVE');
    expect(entered(execution, 'Wait for the configuration agents')).toBeGreaterThan(0);
    expect(entered(execution, 'Start the configuration')).toBe(1);
    expect(execution.states.some((s) => s.name === 'Start the configuration' && s.event === 'StateRetried')).toBe(false);
    const phases = (await harness.table.clusters.listEvents(cluster.id)).map((e) => `${e.status}/${e.phase}`);
    expect(phases[phases.indexOf('PROVISIONING/allocate-ips') + 1]).toBe('CONFIGURING/configure');
  });

  it('fails with ConfigurationAgentsOffline at the configure step, naming each server whose agent never came online, and cleans up', async () => {
    // Prepare
    harness = await startWorkflowHarness({ provider: ssmAgents(0, /slave-2$/), config: { CONFIGURATION_AGENT_TIMEOUT_SECONDS: 1 } });

    // Act
    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 3 });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'ConfigurationAgentsOffline', step: 'configure' });
    const late = cluster.servers.find((server) => server.name.endsWith('slave-2'));
    expect(cluster.error?.message).toBe(`1 of 4 servers' configuration agents were still not online after 1 s: ${late?.id} (${late?.name})`);
    expect(entered(execution, 'Start the configuration')).toBe(0);
    expect(harness.cloud.listServers().filter((server) => server.clusterId === cluster.id)).toEqual([]);
  });

  it('asks the local cloud about its agents, and reaches ACTIVE once they are online LOCAL_CLOUD_AGENT_MS after the servers run', async () => {
    harness = await startWorkflowHarness({ cloud: { agentMs: { min: 300, max: 300 } } });

    const { cluster, execution } = await harness.run(seedRequest());

    expect(cluster.status).toBe('ACTIVE');
    expect(entered(execution, 'Check the configuration agents')).toBeGreaterThan(0);
    expect(entered(execution, 'Start the configuration')).toBe(1);
  });

  it('fails with ConfigurationAgentsOffline listing every server when the local cloud’s agents never come online in time', async () => {
    harness = await startWorkflowHarness({ cloud: { agentMs: { min: 600_000, max: 600_000 } }, config: { CONFIGURATION_AGENT_TIMEOUT_SECONDS: 1 } });

    const { cluster } = await harness.run({ ...seedRequest(), slaves: 1 });

    expect(cluster.error).toMatchObject({ code: 'ConfigurationAgentsOffline', step: 'configure' });
    for (const server of cluster.servers) expect(cluster.error?.message).toContain(`${server.id} (${server.name})`);
  });

  it('skips the wait for a provider whose configuration has no agents', async () => {
    // Prepare
    const withoutAgents = (provider: CloudProvider): CloudProvider => Object.assign(Object.create(provider) as CloudProvider, { describeConfigurationAgents: undefined });
    harness = await startWorkflowHarness({ provider: withoutAgents });

    // Act
    const { cluster, execution } = await harness.run(seedRequest());

    // Assess
    expect(cluster.status).toBe('ACTIVE');
    expect(entered(execution, 'Check the configuration agents')).toBe(0);
  });

  it('skips it for the container runner, which reaches the servers without their agents', async () => {
    harness = await startWorkflowHarness({ cloud: { agentMs: { min: 600_000, max: 600_000 } } });

    const { cluster, execution } = await harness.run(seedRequest(), 'container');

    expect(cluster.status).toBe('ACTIVE');
    expect(entered(execution, 'Check the configuration agents')).toBe(0);
  });
});
