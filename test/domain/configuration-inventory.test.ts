import { describe, expect, it } from 'vitest';
import { buildExtraVars, buildInventory, containerEnvironment, MAX_CONTAINER_ENVIRONMENT_BYTES, nodeGroupName } from '#domain/configuration-inventory';
import type { Cluster, Server } from '#domain/model';

const server = (name: string, group: string, role: string, privateIp: string, publicIp: string | null = null): Server => ({
  id: `i-${name}`,
  name,
  role,
  group,
  flavor: 'm.small',
  state: 'ACTIVE',
  privateIp,
  publicIp,
});

const clusterWith = (servers: Server[], parameters: Record<string, string | number | boolean> = {}) =>
  ({
    id: '35380a49-aae4-4935-9844-dfd6737b8c51',
    name: 'My first Lambda Instance',
    servers,
    spec: { configuration: { profile: 'lambda', parameters, runner: 'container' } },
    attempt: 2,
  }) as Pick<Cluster, 'id' | 'name' | 'servers' | 'spec' | 'attempt'>;

const SERVERS = [
  server('lambda-master', 'master', 'master', '10.1.0.2', '100.64.0.1'),
  server('analytics-gpu-2', 'GPU.workers', 'worker', '10.1.0.5'),
  server('analytics-gpu-1', 'GPU.workers', 'worker', '10.1.0.4'),
  server('my-first-lambda-instance-slave-1', 'slaves', 'worker', '10.1.0.3'),
];

describe('the configuration container’s inventory (configuration/README.md, the contract with a runner)', () => {
  it('puts the master alone in master and every other node in workers, each under its ng_ group', () => {
    // Act
    const inventory = buildInventory(clusterWith(SERVERS));

    // Assess
    const { master, workers } = inventory.all.children;
    expect(Object.keys(master.children ?? {})).toEqual(['ng_master']);
    expect(Object.keys(master.children?.ng_master?.hosts ?? {})).toEqual(['lambda-master']);
    expect(Object.keys(workers.children ?? {}).sort()).toEqual(['ng_gpu_workers', 'ng_slaves']);
    // Stable order by name: broker ids are the nodes' positions.
    expect(Object.keys(workers.children?.ng_gpu_workers?.hosts ?? {})).toEqual(['analytics-gpu-1', 'analytics-gpu-2']);
  });

  it('gives each host its addresses, group and role, reached by its private address', () => {
    const inventory = buildInventory(clusterWith(SERVERS));

    expect(inventory.all.children.master.children?.ng_master?.hosts?.['lambda-master']).toEqual({
      ansible_host: '10.1.0.2',
      private_ip: '10.1.0.2',
      public_ip: '100.64.0.1',
      node_group: 'master',
      node_role: 'master',
    });
    expect(inventory.all.children.workers.children?.ng_slaves?.hosts?.['my-first-lambda-instance-slave-1']).toMatchObject({
      ansible_host: '10.1.0.3',
      public_ip: null,
      node_group: 'slaves',
      node_role: 'worker',
    });
  });

  it('carries the cluster id and name as group variables', () => {
    const inventory = buildInventory(clusterWith(SERVERS));

    expect(inventory.all.vars).toEqual({ cluster_id: '35380a49-aae4-4935-9844-dfd6737b8c51', cluster_name: 'My first Lambda Instance' });
  });

  it('names node groups ng_<name>, lower-cased, anything outside [a-z0-9_] as _', () => {
    expect(nodeGroupName('GPU.workers-2')).toBe('ng_gpu_workers_2');
  });

  it('passes the parameters as extra vars, dropping the operator’s settings', () => {
    expect(buildExtraVars({ kafka_partitions: 6, artifact_base_url: 'https://evil.example', flink_task_slots: 4 })).toEqual({ kafka_partitions: 6, flink_task_slots: 4 });
  });

  it('refuses extra vars named ansible_*', () => {
    expect(() => buildExtraVars({ ansible_host: '203.0.113.9' })).toThrow(expect.objectContaining({ name: 'InvalidSpec' }));
  });

  it('hands the container PROFILE, its run’s identity, CLUSTER_INVENTORY_JSON and CLUSTER_EXTRA_VARS_JSON as ECS {Name, Value} pairs', () => {
    const environment = containerEnvironment(clusterWith(SERVERS, { kafka_partitions: 6 }));
    const value = (name: string) => environment.find((v) => v.Name === name)?.Value ?? '';

    expect(environment.map((v) => v.Name)).toEqual(['PROFILE', 'CLUSTER_ID', 'CLUSTER_ATTEMPT', 'CLUSTER_INVENTORY_JSON', 'CLUSTER_EXTRA_VARS_JSON']);
    expect(value('PROFILE')).toBe('lambda');
    // What run-profile.sh prints in every line, so the progress function knows whose lines they are.
    expect([value('CLUSTER_ID'), value('CLUSTER_ATTEMPT')]).toEqual(['35380a49-aae4-4935-9844-dfd6737b8c51', '2']);
    expect(JSON.parse(value('CLUSTER_INVENTORY_JSON'))).toEqual(buildInventory(clusterWith(SERVERS)));
    expect(JSON.parse(value('CLUSTER_EXTRA_VARS_JSON'))).toEqual({ kafka_partitions: 6 });
  });

  it('hands the container the documents’ URIs instead when they are passed by reference', () => {
    const environment = containerEnvironment(clusterWith(SERVERS), { inventoryUri: 's3://b/inputs/c/2/inventory.json', extraVarsUri: 's3://b/inputs/c/2/extra-vars.json' });

    expect(environment).toEqual([
      { Name: 'PROFILE', Value: 'lambda' },
      { Name: 'CLUSTER_ID', Value: '35380a49-aae4-4935-9844-dfd6737b8c51' },
      { Name: 'CLUSTER_ATTEMPT', Value: '2' },
      { Name: 'CLUSTER_INVENTORY_S3_URI', Value: 's3://b/inputs/c/2/inventory.json' },
      { Name: 'CLUSTER_EXTRA_VARS_S3_URI', Value: 's3://b/inputs/c/2/extra-vars.json' },
    ]);
  });

  it('fits a 1000-node cluster with the compat naming in the state', () => {
    const servers = [server('lambda-master', 'master', 'master', '10.1.0.2'), ...Array.from({ length: 999 }, (_, i) => server(`my-first-lambda-instance-slave-${i + 1}`, 'slaves', 'worker', `10.1.${Math.floor(i / 250)}.${(i % 250) + 3}`))];

    const environment = containerEnvironment(clusterWith(servers));

    expect(Buffer.byteLength(JSON.stringify(environment))).toBeLessThan(MAX_CONTAINER_ENVIRONMENT_BYTES);
  });

  it('refuses with InventoryTooLarge an inventory that would not fit in the workflow state', () => {
    const longName = (i: number) => `${'a-very-long-cluster-name-for-a-node'.repeat(2)}-${i}`.slice(0, 63);
    const servers = [server('m', 'master', 'master', '10.1.0.2'), ...Array.from({ length: 999 }, (_, i) => server(`${longName(i)}${i}`, 'a-long-node-group-name-to-be-sure', 'worker', `10.1.${Math.floor(i / 250)}.${(i % 250) + 3}`))];

    expect(() => containerEnvironment(clusterWith(servers))).toThrow(expect.objectContaining({ name: 'InventoryTooLarge' }));
  });
});
