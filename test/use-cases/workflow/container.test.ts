import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStep, type StepDeps } from '#use-cases/workflow/index';
import type { Cluster } from '#domain/model';
import type { CloudProvider } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import { clusterRecord } from '../../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../../support/dynamodb.ts';

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
