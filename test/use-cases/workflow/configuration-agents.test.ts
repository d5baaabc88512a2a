import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster } from '#domain/model';
import type { CloudProvider } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';
import { runStep, type StepDeps } from '#use-cases/workflow/index';
import { clusterRecord } from '../../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../../support/dynamodb.ts';

const CLUSTER_ID = '35380a49-aae4-4935-9844-dfd6737b8c51';
const T0 = Date.UTC(2025, 0, 1);

const server = (i: number) => ({
  id: `i-${i}`,
  name: i === 0 ? 'analytics-master' : `analytics-slave-${i}`,
  role: i === 0 ? 'master' : 'worker',
  group: i === 0 ? 'master' : 'worker',
  flavor: 'm',
  state: 'ACTIVE' as const,
  privateIp: null,
  publicIp: null,
});

/** A provider whose agents are offline for the servers `offline` names; remembers every question. */
const providerWithAgents = (offline: (ids: string[]) => string[]) => {
  const asked: string[][] = [];
  const provider = {
    name: 'local',
    describeConfigurationAgents: async (input: { servers: { id: string }[] }) => {
      const ids = input.servers.map((s) => s.id);
      asked.push(ids);
      return { offline: offline(ids) };
    },
  } as unknown as CloudProvider;
  return { provider, asked };
};

let table: TestTable;
// A table per test: each starts from its own record under the same cluster id.
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(() => table.stop());

const setup = async (cluster: Partial<Cluster>, offline: (ids: string[]) => string[]) => {
  const clock = { now: T0 };
  const { record } = await storeCluster(table, clusterRecord({ id: CLUSTER_ID, status: 'PROVISIONING', phase: 'allocate-ips', ...cluster }));
  const { provider, asked } = providerWithAgents(offline);
  const deps: StepDeps = {
    clusters: table.clusters,
    quotas: table.quotas,
    providers: { get: () => provider } as unknown as ProviderRegistry,
    config: { SERVER_BOOT_TIMEOUT_SECONDS: 30, CONFIGURATION_AGENT_TIMEOUT_SECONDS: 600, CONFIGURATION_TIMEOUT_SECONDS: 600, POLL_INTERVAL_SECONDS: 5 },
    now: () => clock.now,
  };
  const check = () => runStep(deps, { step: 'check-configuration-agents', clusterId: CLUSTER_ID });
  return { check, record, asked, advance: (ms: number) => (clock.now += ms) };
};

describe('the check-configuration-agents step', () => {
  it('records CONFIGURING and its deadline on the first check, and keeps that deadline on the next ones', async () => {
    // Prepare
    const { check, record, advance } = await setup({ servers: [server(0), server(1)] }, (ids) => ids);

    // Act
    const first = await check();
    const deadline = (await record()).deadlines.agents;
    advance(5000);
    const second = await check();

    // Assess
    expect(first).toEqual({ online: false, offline: 2, waitSeconds: 5 });
    expect(second).toEqual({ online: false, offline: 2, waitSeconds: 5 });
    expect((await record())).toMatchObject({ status: 'CONFIGURING', phase: 'configure' });
    expect(deadline).toBe(new Date(T0 + 600_000).toISOString());
    expect((await record()).deadlines.agents).toBe(deadline);
  });

  it('answers online once the provider reports no agent offline, asking about every server in one call', async () => {
    const { check, asked } = await setup({ servers: [server(0), server(1), server(2)] }, () => []);

    expect(await check()).toEqual({ online: true, offline: 0, waitSeconds: 0 });
    expect(asked).toEqual([['i-0', 'i-1', 'i-2']]);
  });

  it('fails with ConfigurationAgentsOffline once the deadline passed, naming at most 20 servers and counting the rest', async () => {
    // Prepare
    const servers = Array.from({ length: 26 }, (_, i) => server(i));
    const { check, advance } = await setup({ servers }, (ids) => ids.slice(1));
    await check();
    advance(600_001);

    // Act
    const failed = check();

    // Assess
    await expect(failed).rejects.toMatchObject({ name: 'ConfigurationAgentsOffline' });
    const message = await failed.catch((error: Error) => error.message);
    expect(message).toMatch(/^25 of 26 servers' configuration agents were still not online after 600 s: i-1 \(analytics-slave-1\), i-2 \(analytics-slave-2\), /);
    expect(message).toContain('i-20 (analytics-slave-20), … (25 in all)');
    expect(message).not.toContain('i-21 ');
  });

  it('answers online at once, asking nothing, for a configuration already started (a resumed execution)', async () => {
    const { check, asked, record } = await setup({ status: 'CONFIGURING', phase: 'configure:hdfs', servers: [server(0)], configurationId: 'run-1' }, (ids) => ids);

    expect(await check()).toEqual({ online: true, offline: 0, waitSeconds: 0 });
    expect(asked).toEqual([]);
    expect((await record()).phase).toBe('configure:hdfs');
  });
});
