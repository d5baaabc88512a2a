/**
 * The cluster model shared by the schemas, the store, the use cases and the workflow tests.
 * Status and phase names are part of the public contract (docs/architecture.md, "Statuses and phases").
 */

export const CLUSTER_STATUSES = [
  'PENDING',
  'PROVISIONING',
  'CONFIGURING',
  'ACTIVE',
  'FAILED',
  'DESTROYING',
  'DESTROYED',
  'STOPPING',
  'STOPPED',
  'STARTING',
] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

/** Workflow steps, as recorded in `phase`. Configuration phases are `configure:<component>`. */
export const PHASES = [
  'accepted',
  'plan',
  'create-networks',
  'create-servers',
  'wait-servers',
  'allocate-ips',
  'configure',
  'ready',
  'rollback',
  'failed',
  'destroy-requested',
  'destroy',
  'destroyed',
  'stop',
  'stopped',
  'start',
] as const;
export type FixedPhase = (typeof PHASES)[number];
export type Phase = FixedPhase | `configure:${string}`;

/**
 * What applies the configuration profile: the provider's own way (the emulated cloud locally,
 * SSM Run Command on ec2), the configuration container as an ECS Fargate task, or the nodes
 * themselves from their user data, reporting to the service (`cloud-init`, for clouds without SSM).
 */
export const CONFIGURATION_RUNNERS = ['ssm', 'container', 'cloud-init'] as const;
export type ConfigurationRunner = (typeof CONFIGURATION_RUNNERS)[number];

export const IP_ALLOCATIONS = ['none', 'master', 'all'] as const;
export type IpAllocation = (typeof IP_ALLOCATIONS)[number];

export const SERVER_STATES = ['PLANNED', 'BUILD', 'ACTIVE', 'STOPPED', 'ERROR', 'DELETED'] as const;
export type ServerState = (typeof SERVER_STATES)[number];

/** One node group of a cluster: `count` identical servers sharing a role. */
export interface NodeGroup {
  name: string;
  role: string;
  count: number;
  /** The provider flavor asked for by name; otherwise one is resolved from the size. */
  flavor?: string;
  /** Server names: exactly this for a single master, `<hostname>-<n>` (n from 1) otherwise. */
  hostname: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export interface SecurityRule {
  direction: 'ingress' | 'egress';
  protocol: string;
  ethertype: 'IPv4' | 'IPv6';
  remoteIpPrefix: string;
  portRangeMin?: number;
  portRangeMax?: number;
}

/** The provider-neutral description of what the client asked for. */
export interface ClusterSpec {
  name: string;
  provider: string;
  /** The region the client expects; a provider that serves another one refuses. */
  region?: string;
  zone?: string;
  image?: string;
  keyName?: string;
  /** Base64, as the client sent it: the servers' user data / cloud-init. */
  userData?: string;
  /** The client's tags: beside the provider's own, never in their place. */
  tags?: Record<string, string>;
  nodeGroups: NodeGroup[];
  network: { privateNetworks: number; publicIp: IpAllocation; securityRules?: SecurityRule[] };
  configuration: {
    profile: string;
    parameters?: Record<string, string | number | boolean>;
    /** Absent: the deployment's DEFAULT_CONFIGURATION_RUNNER, resolved when the cluster is planned. */
    runner?: ConfigurationRunner;
  };
  callbackUrl?: string;
  onFailure: 'rollback' | 'keep';
  /** The cluster is destroyed this many hours after it was created. */
  ttlHours?: number;
}

/**
 * Where one node's configuration is, as the configuration run reports it: PENDING until the node
 * starts on it, RUNNING, then SUCCEEDED or FAILED (with a short message saying why).
 */
export const NODE_CONFIGURATION_STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type NodeConfigurationState = (typeof NODE_CONFIGURATION_STATES)[number];

export interface NodeConfiguration {
  state: NodeConfigurationState;
  /** Short: the step it is at, or the tail of a failure. */
  message?: string;
}

export interface Server {
  /** Provider id; absent until the provider has created the server. */
  id: string | null;
  name: string;
  role: string;
  group: string;
  flavor: string;
  state: ServerState;
  privateIp: string | null;
  publicIp: string | null;
  /**
   * The current attempt's configuration of this node, as its run last reported it; absent until
   * the run reports the node (and for runners that cannot tell nodes apart).
   */
  configuration?: NodeConfiguration;
}

export interface ClusterError {
  code: string;
  message: string;
  step: string;
}

/**
 * What the configuration container's `COMPONENT` lines said about one provision attempt, as the
 * configuration-progress function read them from the task's log group.
 */
export interface ConfigurationReport {
  /** The attempt whose container printed the lines; lines of any other attempt change nothing. */
  attempt: number;
  /** When the latest line applied was logged (ms since the epoch): an older line arriving late changes nothing. */
  lineAt: number;
  /** The component that failed and the nodes it blamed (the first as `node`; none for a `-` line). */
  failure?: { component: string; node: string | null; nodes: string[] };
}

/** The cloud-init runner's state (#domain/node-agents): what the nodes' agents said, and the run released to the master. */
export interface NodeAgents {
  /** The master's controller key (an ssh-ed25519 public key), once its agent sent it. */
  controllerKey?: string;
  /** The workers that let the controller key in, by server name. */
  ready: string[];
  /** The run "Start the configuration" released to the master, for one attempt. */
  run?: { attempt: number; profile: string; inventoryVars: Record<string, unknown>; fetchedAt?: string };
  /** How the master's run-profile.sh exited, for one attempt. */
  result?: { attempt: number; exitCode: number; at: string };
}

export interface Cluster {
  id: string;
  project: string;
  name: string;
  provider: string;
  status: ClusterStatus;
  phase: Phase;
  spec: ClusterSpec;
  /** The request as the client sent it, for the compat family's answers. */
  request: Record<string, unknown>;
  servers: Server[];
  networks: string[];
  configurationId: string | null;
  /** The container or cloud-init runner's progress and failure, from its lines; absent until a line arrives. */
  configurationReport?: ConfigurationReport | null;
  /** What the cloud-init runner's node agents reported; absent until one does. */
  nodeAgents?: NodeAgents | null;
  error: ClusterError | null;
  /** The provision execution of the current attempt. */
  executionId: string | null;
  /** The destroy execution, once one was started. */
  destroyExecutionId: string | null;
  /** The latest stop or start execution (the power workflow); absent until one was started. */
  powerExecutionId?: string | null;
  /** ISO times after which a waiting step gives up with a named error. */
  deadlines: { servers?: string; agents?: string; configuration?: string; rollback?: string; destroy?: string; settle?: string; power?: string };
  /** Provision attempts: 1, then one more per retry. Client tokens carry it. */
  attempt: number;
  /** Whether the project's quota holds this cluster's vCPUs and servers now. */
  quotaReserved: boolean;
  /** When `ttlHours` makes the cluster expire (destroyed then); null = never. */
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Optimistic-locking counter, incremented by every write. */
  version: number;
}

export interface ClusterEvent {
  at: string;
  status: ClusterStatus;
  phase: Phase;
  message: string;
}

/**
 * A status or phase change as the timeline stores it: self-contained, so whoever reads the
 * table's change stream can publish it without reading the cluster.
 */
export interface StatusChange extends ClusterEvent {
  clusterId: string;
  project: string;
  error: ClusterError | null;
  callbackUrl: string | null;
}

export const MASTER_ROLE = 'master';
export const WORKER_ROLE = 'worker';

export const totalNodes = (spec: ClusterSpec): number =>
  spec.nodeGroups.reduce((sum, group) => sum + group.count, 0);

export const totalVcpus = (spec: ClusterSpec): number =>
  spec.nodeGroups.reduce((sum, group) => sum + group.count * group.vcpus, 0);
