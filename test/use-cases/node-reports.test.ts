import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster, Server } from '#domain/model';
import { nodeSecret } from '#domain/node-agents';
import { receiveNodeReport, type NodeReportDeps } from '#use-cases/node-reports';
import { clusterRecord } from '../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../support/dynamodb.ts';

const KEY = 'node-report-key-'.repeat(4);
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0l3Gm6vUq3d7dTq1k8Qe0qz9c4pH8xWm3rY2b1aC0d';

let table: TestTable;
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(() => table.stop());

const server = (name: string, role: string, privateIp: string): Server => ({ id: `id-${name}`, name, role, group: role, flavor: 'm1.small', state: 'ACTIVE', privateIp, publicIp: null });

const cloudInitCluster = (overrides: Partial<Cluster> = {}): Cluster => {
  const base = clusterRecord({ status: 'CONFIGURING', phase: 'configure:controller', servers: [server('m', 'master', '10.42.0.10'), server('w', 'worker', '10.42.0.11')] });
  return { ...base, spec: { ...base.spec, configuration: { profile: 'lambda', runner: 'cloud-init', parameters: { kafka_partitions: 6 } } }, ...overrides };
};

const deps = (): NodeReportDeps => ({ clusters: table.clusters, nodeReportKey: async () => KEY, bundleUrl: async () => 'https://bundle.example/zip?sig=1', agentPollSeconds: 1 });

describe('a node’s report', () => {
  it('is refused (401) without its cluster’s own secret — another cluster’s, a project token, none — before the record is read', async () => {
    const { id } = await storeCluster(table, cloudInitCluster());
    const other = await storeCluster(table, cloudInitCluster());
    const poll = { type: 'poll' as const, node: 'm' };

    for (const authorization of [`Node ${nodeSecret(KEY, other.id)}`, `Token ${nodeSecret(KEY, id)}`, undefined, `Node ${nodeSecret('another key', id)}`]) {
      await expect(receiveNodeReport(deps(), id, authorization, poll)).rejects.toMatchObject({ name: 'Unauthorized', statusCode: 401 });
    }
    // No cluster at all: the same answer, so a caller cannot tell which ids exist.
    await expect(receiveNodeReport(deps(), '6c0e7c2b-1f1a-4e55-8c39-000000000000', `Node ${nodeSecret(KEY, other.id)}`, poll)).rejects.toMatchObject({ name: 'Unauthorized' });
  });

  it('goes from the controller key through the workers to the run, which carries the inventory with the master as its own controller, the parameters and the bundle’s URL', async () => {
    const { id, record } = await storeCluster(table, cloudInitCluster());
    const auth = `Node ${nodeSecret(KEY, id)}`;

    expect(await receiveNodeReport(deps(), id, auth, { type: 'poll', node: 'm' })).toEqual({ next: 'controller-key' });
    expect(await receiveNodeReport(deps(), id, auth, { type: 'controller-key', node: 'm', publicKey: PUBLIC_KEY })).toMatchObject({ next: 'wait', seconds: 1 });
    expect(await receiveNodeReport(deps(), id, auth, { type: 'poll', node: 'w' })).toEqual({ next: 'authorize', publicKey: PUBLIC_KEY, masterIp: '10.42.0.10' });
    expect(await receiveNodeReport(deps(), id, auth, { type: 'authorized', node: 'w' })).toMatchObject({ next: 'stop' });
    await table.clusters.updateCluster(id, (current) => ({
      cluster: { ...current, nodeAgents: { ...(current.nodeAgents ?? { ready: [] }), run: { attempt: 1, profile: 'lambda', inventoryVars: { ansible_user: 'debian' } } } },
      message: '',
    }));

    const run = await receiveNodeReport(deps(), id, auth, { type: 'poll', node: 'm' });

    expect(run).toMatchObject({ next: 'run', attempt: 1, profile: 'lambda', bundleUrl: 'https://bundle.example/zip?sig=1', extraVars: { kafka_partitions: 6 } });
    const inventory = (run as { inventory: { all: { vars: Record<string, unknown>; children: Record<string, unknown> } } }).inventory;
    expect(inventory.all.vars).toMatchObject({ cluster_id: id, ansible_user: 'debian' });
    expect(JSON.stringify(inventory.all.children)).toContain('"ansible_connection":"local"');
    const timeline = (await table.clusters.listEvents(id)).map((event) => event.message);
    expect(timeline).toEqual(expect.arrayContaining(['the master m sent its controller key', 'all 1 workers let the controller key in', 'the master m fetched the configuration run']));
    expect((await record()).nodeAgents?.run?.fetchedAt).toEqual(expect.any(String));
  });

  it('applies the master’s COMPONENT lines as the cluster’s phase and failure, and records its exit status', async () => {
    const { id, record } = await storeCluster(
      table,
      cloudInitCluster({ nodeAgents: { controllerKey: PUBLIC_KEY, ready: ['w'], run: { attempt: 1, profile: 'lambda', inventoryVars: {} } } }),
    );
    const auth = `Node ${nodeSecret(KEY, id)}`;

    await receiveNodeReport(deps(), id, auth, { type: 'lines', node: 'm', attempt: 1, lines: ['COMPONENT common START all', 'COMPONENT common OK all', 'COMPONENT hdfs START all', 'not a component line'] });
    expect((await record()).phase).toBe('configure:hdfs');
    await receiveNodeReport(deps(), id, auth, { type: 'lines', node: 'm', attempt: 1, lines: ['COMPONENT hdfs FAILED w'] });
    await receiveNodeReport(deps(), id, auth, { type: 'result', node: 'm', attempt: 1, exitCode: 2 });

    const cluster = await record();
    expect(cluster.configurationReport?.failure).toEqual({ component: 'hdfs', node: 'w', nodes: ['w'] });
    expect(cluster.nodeAgents?.result).toMatchObject({ attempt: 1, exitCode: 2 });
  });

  it('lines from a worker change nothing', async () => {
    const { id, record } = await storeCluster(table, cloudInitCluster({ nodeAgents: { controllerKey: PUBLIC_KEY, ready: ['w'], run: { attempt: 1, profile: 'lambda', inventoryVars: {} } } }));

    const answer = await receiveNodeReport(deps(), id, `Node ${nodeSecret(KEY, id)}`, { type: 'lines', node: 'w', attempt: 1, lines: ['COMPONENT hdfs FAILED m'] });

    expect(answer.next).toBe('stop');
    expect((await record()).configurationReport).toBeUndefined();
  });
});
