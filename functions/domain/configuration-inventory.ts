/**
 * What the configuration container is given (configuration/README.md, "The contract with a
 * runner"): the inventory in Ansible's YAML-inventory shape, the profile's parameters as extra
 * vars, and the profile's name, as the container's environment — the two documents either in it
 * or, where the deployment keeps them in S3, as URIs the container fetches.
 */
import { InvalidSpec, InventoryTooLarge } from './errors.ts';
import { MASTER_ROLE, type Cluster } from './model.ts';

/**
 * The environment travels through the workflow's state (256 KiB at most, with everything else
 * the state holds), so it is refused well below that rather than overflowing it. Only documents
 * passed inline can come near it.
 */
export const MAX_CONTAINER_ENVIRONMENT_BYTES = 200 * 1024;

/** Operator settings the inventory owns; a client's parameters may not point the servers elsewhere. */
const OPERATOR_SETTINGS = new Set(['artifact_base_url', 'artifact_checksums', 'ntp_servers', 'java_package', 'java_home']);

interface HostVars {
  ansible_host: string;
  private_ip: string;
  public_ip: string | null;
  node_group: string;
  node_role: string;
  /** `local` for the node the runner itself runs on (the master, when it is the controller). */
  ansible_connection?: 'local';
}

type Group = { hosts?: Record<string, HostVars>; children?: Record<string, Group> };

export interface Inventory {
  all: { vars: Record<string, unknown>; children: { master: Group; workers: Group } };
}

/** `ng_<name>`: lower-cased, every character outside [a-z0-9_] turned into `_`. */
export const nodeGroupName = (group: string): string => `ng_${group.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;

/**
 * The inventory of a cluster whose servers run. The container runs inside the VPC, so it
 * reaches every node by its private address.
 */
export const buildInventory = (cluster: Pick<Cluster, 'id' | 'name' | 'servers'>, vars: Record<string, unknown> = {}): Inventory => {
  const master: Group = { children: {} };
  const workers: Group = { children: {} };
  // Workers in a stable order (by name): Kafka broker ids are the nodes' positions, master first.
  const servers = [...cluster.servers].sort((a, b) =>
    a.role === MASTER_ROLE ? -1 : b.role === MASTER_ROLE ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const server of servers) {
    if (server.state === 'DELETED') continue;
    if (!server.privateIp) throw new Error(`server ${server.name} has no private address to configure it through`);
    const parent = server.role === MASTER_ROLE ? master : workers;
    const name = nodeGroupName(server.group);
    const group = (parent.children![name] ??= { hosts: {} });
    group.hosts![server.name] = {
      ansible_host: server.privateIp,
      private_ip: server.privateIp,
      public_ip: server.publicIp,
      node_group: server.group,
      node_role: server.role,
    };
  }
  return { all: { vars: { ...vars, cluster_id: cluster.id, cluster_name: cluster.name }, children: { master, workers } } };
};

/**
 * The inventory for a run whose controller is the cluster's master (the ssm runner): the master
 * configures itself over Ansible's local connection and reaches the workers by their private
 * addresses, as the container does.
 */
export const controllerInventory = (cluster: Pick<Cluster, 'id' | 'name' | 'servers'>, vars: Record<string, unknown> = {}): Inventory => {
  const inventory = buildInventory(cluster, vars);
  for (const group of Object.values(inventory.all.children.master.children ?? {})) {
    for (const host of Object.values(group.hosts ?? {})) host.ansible_connection = 'local';
  }
  return inventory;
};

/**
 * The profile's parameters as extra vars. `ansible_*` names are refused (the create schema
 * already does; a record written before it did must not get through), operator settings dropped.
 */
export const buildExtraVars = (parameters: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> => {
  const refused = Object.keys(parameters).filter((name) => name.toLowerCase().startsWith('ansible_'));
  if (refused.length > 0) {
    throw new InvalidSpec(`configuration parameters may not start with ansible_: ${refused.join(', ')}`, refused.map((name) => ({ path: `configuration.parameters.${name}`, message: 'must not start with ansible_' })));
  }
  return Object.fromEntries(Object.entries(parameters).filter(([name]) => !OPERATOR_SETTINGS.has(name)));
};

export interface ContainerEnvironmentVariable {
  Name: string;
  Value: string;
}

/** The container's two documents, as JSON text. */
export interface ContainerDocuments {
  inventory: string;
  extraVars: string;
}

/** The documents stored elsewhere (S3), by the URIs the container fetches them from. */
export interface ContainerDocumentUris {
  inventoryUri: string;
  extraVarsUri: string;
}

export const containerDocuments = (cluster: Pick<Cluster, 'id' | 'name' | 'servers' | 'spec'>, inventoryVars: Record<string, unknown> = {}): ContainerDocuments => ({
  inventory: JSON.stringify(buildInventory(cluster, inventoryVars)),
  extraVars: JSON.stringify(buildExtraVars(cluster.spec.configuration.parameters)),
});

/**
 * The container overrides' environment (ECS's `{Name, Value}` pairs), refused when too large for
 * the state. CLUSTER_ID and CLUSTER_ATTEMPT make run-profile.sh name the run in every line it
 * logs, which is how the configuration-progress function tells whose lines it reads.
 */
export const containerEnvironment = (
  cluster: Pick<Cluster, 'id' | 'name' | 'servers' | 'spec' | 'attempt'>,
  documents: ContainerDocuments | ContainerDocumentUris = containerDocuments(cluster),
): ContainerEnvironmentVariable[] => {
  const inputs =
    'inventoryUri' in documents
      ? [
          { Name: 'CLUSTER_INVENTORY_S3_URI', Value: documents.inventoryUri },
          { Name: 'CLUSTER_EXTRA_VARS_S3_URI', Value: documents.extraVarsUri },
        ]
      : [
          { Name: 'CLUSTER_INVENTORY_JSON', Value: documents.inventory },
          { Name: 'CLUSTER_EXTRA_VARS_JSON', Value: documents.extraVars },
        ];
  const environment = [
    { Name: 'PROFILE', Value: cluster.spec.configuration.profile },
    { Name: 'CLUSTER_ID', Value: cluster.id },
    { Name: 'CLUSTER_ATTEMPT', Value: String(cluster.attempt) },
    ...inputs,
  ];
  const bytes = Buffer.byteLength(JSON.stringify(environment));
  if (bytes > MAX_CONTAINER_ENVIRONMENT_BYTES) {
    throw new InventoryTooLarge(
      `the configuration container's inventory and parameters take ${bytes} bytes for ${cluster.servers.length} servers; the workflow state allows ${MAX_CONTAINER_ENVIRONMENT_BYTES} (a deployment with the configuration container passes them by reference)`,
    );
  }
  return environment;
};
