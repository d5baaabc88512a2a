/**
 * The seed service's terms for a cluster ("lambda instance"): its status names, mapped from
 * ours, and its field names for the rest of its API family.
 */
import type { Cluster } from './model.ts';
import type { ComponentOf } from './profiles.ts';

export const COMPAT_STATUSES = [
  'PENDING',
  'CLUSTER_CREATED',
  'INIT_DONE',
  'COMMONS_INSTALLED',
  'HADOOP_INSTALLED',
  'KAFKA_INSTALLED',
  'FLINK_INSTALLED',
  'STARTED',
  'FAILED',
  'DESTROYING',
  'DESTROYED',
  'STOPPING',
  'STOPPED',
  'STARTING',
] as const;
export type CompatStatus = (typeof COMPAT_STATUSES)[number];

/**
 * The seed service reports what is *done*: CLUSTER_CREATED once the VMs run, then one
 * `<component>_INSTALLED` per finished component, STARTED when the whole stack runs. Keyed by
 * the lambda profile's components, so a component added to or dropped from it fails to compile
 * here until the seed's name for it is settled.
 */
const DONE_BEFORE_COMPONENT: Readonly<Record<string, CompatStatus>> = {
  common: 'CLUSTER_CREATED',
  hdfs: 'INIT_DONE',
  yarn: 'COMMONS_INSTALLED',
  kafka: 'HADOOP_INSTALLED',
  flink: 'KAFKA_INSTALLED',
} satisfies Record<ComponentOf<'lambda'>, CompatStatus>;

export const compatStatus = (cluster: Pick<Cluster, 'status' | 'phase'>): CompatStatus => {
  switch (cluster.status) {
    case 'PENDING':
      return 'PENDING';
    case 'PROVISIONING':
      return cluster.phase === 'allocate-ips' ? 'CLUSTER_CREATED' : 'PENDING';
    case 'CONFIGURING': {
      const component = cluster.phase.startsWith('configure:') ? cluster.phase.slice('configure:'.length) : '';
      return DONE_BEFORE_COMPONENT[component] ?? 'CLUSTER_CREATED';
    }
    case 'ACTIVE':
      return 'STARTED';
    case 'FAILED':
      return 'FAILED';
    case 'DESTROYING':
      return 'DESTROYING';
    case 'DESTROYED':
      return 'DESTROYED';
    case 'STOPPING':
    case 'STOPPED':
    case 'STARTING':
      return cluster.status;
  }
};

/** One lambda instance as the seed service's family answers it. */
export const toCompatInstance = (cluster: Cluster) => {
  const request = cluster.request;
  const master = cluster.servers.find((server) => server.role === 'master');
  return {
    uuid: cluster.id,
    name: cluster.name,
    status: compatStatus(cluster),
    instance_name: cluster.name,
    project_name: request.project_name ?? cluster.project,
    master_name: request.master_name ?? master?.name ?? null,
    slaves: request.slaves ?? cluster.servers.filter((server) => server.role !== 'master').length,
    vcpus_master: request.vcpus_master ?? null,
    vcpus_slave: request.vcpus_slave ?? null,
    ram_master: request.ram_master ?? null,
    ram_slave: request.ram_slave ?? null,
    disk_master: request.disk_master ?? null,
    disk_slave: request.disk_slave ?? null,
    ip_allocation: request.ip_allocation ?? cluster.spec.network.publicIp,
    network_request: request.network_request ?? cluster.spec.network.privateNetworks,
    master_ip: master?.publicIp ?? null,
    failure_message: cluster.error ? `${cluster.error.code} at ${cluster.error.step}: ${cluster.error.message}` : null,
    created_at: cluster.createdAt,
    updated_at: cluster.updatedAt,
  };
};
