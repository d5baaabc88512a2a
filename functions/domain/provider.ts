/**
 * The cloud provider port (docs/architecture.md, "The provider port"). The workflow steps see only this interface;
 * each adapter (local, ec2, openstack, …) holds its own client.
 *
 * Every mutating call is idempotent: a call retried with the same arguments (same client
 * token) returns what the first call made instead of making it again.
 */
import type { CloudQuotaAmount } from './cloud-quota.ts';
import type { ErrorDetail } from './errors.ts';
import type { Cluster, ClusterSpec, ConfigurationRunner, NodeConfiguration, SecurityRule } from './model.ts';

export interface ServerSize {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export interface ServerRequest {
  name: string;
  role: string;
  /** The node group the server belongs to (the spec's `nodeGroups[].name`). */
  group: string;
  flavor: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  /**
   * Whether the cluster's `publicIp` policy gives this server a public address; a provider that
   * can only give one at create time (Hyperstack) asks for it here, the others in `allocatePublicIps`.
   */
  publicIp: boolean;
  /**
   * This server's own user data (base64), in place of the options' (the cloud-init runner's
   * agent, with the client's user data inside); only for providers that offer `cloud-init`.
   */
  userData?: string;
}

/**
 * What the client asked of its servers beyond their size: the native body's fields of the same
 * names. An absent field is the provider's default (its image, its key, no user data, …). The same
 * for every batch of a cluster, since it comes from the recorded spec.
 */
export type ServerOptions = Pick<ClusterSpec, 'region' | 'zone' | 'image' | 'keyName' | 'userData' | 'tags'>;

/**
 * One change a provider's call made, as the cloud reports it (Lightsail answers every mutating
 * call with its `operations[]`): what it did, to which resource, and how it stood.
 */
export interface ProviderOperation {
  id: string;
  /** The cloud's name for what was done, e.g. `CreateInstance`. */
  type: string;
  /** The resource it was done to, by the cloud's name for it. */
  resource: string;
  /** As the cloud says it, e.g. `Succeeded`, `Started`, `Failed`. */
  status: string;
  /** The cloud's error code and details, when it failed. */
  error?: string;
}

/**
 * Optional on every mutating call: told of the operations it made, once each, for the cluster's
 * timeline. A provider whose cloud reports none never calls it; one that does awaits it.
 */
export type OperationsListener = (operations: ProviderOperation[]) => Promise<void>;

/** One batch of servers to create; `clientToken` makes a retried call return the same servers. */
export interface CreateServersInput {
  clusterId: string;
  clientToken: string;
  networkIds: string[];
  servers: ServerRequest[];
  options?: ServerOptions;
  /** The client's rules, for a provider whose firewall belongs to each server rather than to a network. */
  securityRules?: SecurityRule[];
  onOperations?: OperationsListener;
  /**
   * Where the cloud may post the servers' state changes (the cluster's own callback URL, whose
   * path holds its secret), for a provider with `takesCallbackUrl`; absent where the deployment
   * has no route the cloud can reach.
   */
  callbackUrl?: string;
}

export interface CreateNetworksInput {
  clusterId: string;
  count: number;
  /** The client's rules, applied to every one of the networks (every server joins every network). */
  securityRules?: SecurityRule[];
}

/** The part of a spec a provider may be unable to honour, checked before a cluster is recorded. */
export interface ProviderSpecOptions {
  options: ServerOptions;
  securityRules: SecurityRule[];
  /** How many private networks the spec asks for (`network.privateNetworks`). */
  privateNetworks: number;
}

/** A plan, for `describeQuota`: the servers as they would be asked for, and the spec's networks and rules. */
export interface CloudQuotaInput {
  servers: Pick<ServerRequest, 'name' | 'flavor' | 'diskGb' | 'publicIp'>[];
  privateNetworks: number;
  securityRules: SecurityRule[];
}

export interface ProviderServer {
  id: string;
  name: string;
  /**
   * Provider-neutral lifecycle: BUILD until booted, then ACTIVE, or ERROR; STOPPING and STOPPED
   * once stopped (`stopServers`), BUILD again while it starts.
   */
  state: 'BUILD' | 'ACTIVE' | 'STOPPING' | 'STOPPED' | 'ERROR' | 'DELETING' | 'DELETED';
  privateIp: string | null;
  publicIp: string | null;
  /** Why the server is in ERROR, as the provider says it. */
  fault?: string;
}

export interface ConfigurationStatus {
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** The component being configured now, e.g. `hadoop` (for the phase `configure:<component>`). */
  component: string;
  message?: string;
  /** The node that failed, when one did. */
  failedNode?: string;
  /**
   * Where each node is, by server name, as far as the provider can tell; absent when it cannot.
   * A node it says nothing about this time keeps what it was last reported as.
   */
  nodes?: Record<string, NodeConfiguration>;
  /**
   * Present when the run goes in stages and its current stage has finished everywhere: the stage
   * `continueConfiguration` sends next. Describing sends nothing, so the run stays RUNNING until
   * the caller continues it.
   */
  nextStage?: string;
  /**
   * The id the run goes on under, when it moved on to another (`continueConfiguration` sent its
   * next stage); the caller records it and describes that id next time. Absent: the same id.
   */
  configurationId?: string;
}

/**
 * The recorded cluster, for a runner that builds the contract's inventory and extra vars
 * (configuration/README.md) itself; other providers ignore it.
 */
export type ConfigurationCluster = Pick<Cluster, 'id' | 'name' | 'attempt' | 'servers' | 'spec'>;

export interface ProviderTimings {
  /** Typical seconds from create to running, used for the first polling wait. */
  expectedBootSeconds: number;
  /** Typical seconds a configuration run takes. */
  expectedConfigurationSeconds: number;
}

export interface CloudProvider {
  readonly name: string;
  /** Largest number of servers one create call may ask for. */
  readonly maxBatchSize: number;
  readonly timings: ProviderTimings;
  /**
   * Group variables a runner that reaches the servers over SSH puts in its inventory (the image's
   * login user, the cloud's time servers), per configuration/README.md; none when the provider
   * needs none.
   */
  readonly inventoryVars?: Readonly<Record<string, unknown>>;
  /**
   * What a runner outside the cluster (the configuration container) joins to reach the servers
   * over SSH. `first-private-network`: the cluster's first private network, where a private
   * network is what admits its members to each other (every server is in every one); a cluster
   * with none cannot be configured that way. `through-master`: the runner reaches the master at
   * its public address and every node through it (SSH_JUMP_HOST), for clouds whose networks it
   * cannot join; a cluster whose master has no public address cannot be configured that way.
   * `none`: nothing (the emulated cloud's stand-in for the container reaches its servers in-process).
   */
  readonly configurationNetwork: 'first-private-network' | 'through-master' | 'none';
  /**
   * The runners that can configure this provider's servers, its default first: `ssm` where the
   * provider has its own run-command service, `container` where an ECS task can reach the
   * servers, `cloud-init` where they boot user data and can reach the service.
   */
  readonly configurationRunners: readonly [ConfigurationRunner, ...ConfigurationRunner[]];
  /**
   * The cloud posts its servers' state changes to a URL given at create (Infrahub's
   * `callback_url`): the workflow gives `createServers` the cluster's `callbackUrl`.
   */
  readonly takesCallbackUrl?: boolean;

  /** The provider's flavor name for a size; throws `InvalidSpec` when none fits. */
  resolveFlavor(size: ServerSize): string;

  /** The size of a flavor named by the client; null when the provider has no such flavor. */
  describeFlavor(flavor: string): ServerSize | null;

  /**
   * Why this provider cannot honour a spec's options: one detail per field, named by its path in
   * the native body (`region`, `zone`, `image`, `userData`, `tags`, `network.securityRules.<i>.<field>`);
   * empty when it can. `createServers` and `createNetworks` refuse the same things with a
   * ProviderError, for specs that were recorded without this check.
   */
  checkOptions(input: ProviderSpecOptions): ErrorDetail[];

  /**
   * Present when the cloud answers its own quota: per resource it counts (`instances`, `cores`,
   * `ramMb`, `floatingIps`, `networks`, …) its limit (-1: unlimited), its usage, and what the plan
   * would add. Resources of a service the cloud lacks are left out. Makes nothing (the dry run).
   */
  describeQuota?(input: CloudQuotaInput): Promise<Record<string, CloudQuotaAmount>>;

  /**
   * Makes (or finds) `count` private networks for the cluster, each with the security rules
   * (rules already there are not added twice); returns their ids in order.
   */
  createNetworks(input: CreateNetworksInput): Promise<string[]>;

  /** Creates one batch of servers; `clientToken` makes a retried call return the same servers. */
  createServers(input: CreateServersInput): Promise<ProviderServer[]>;

  /** Every server carrying the cluster's tag, in one call. */
  describeServers(input: { clusterId: string }): Promise<ProviderServer[]>;

  /** Gives each listed server a public address (or returns the one it has). */
  allocatePublicIps(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }): Promise<Record<string, string>>;

  /**
   * Present when the provider's configuration reaches the servers through an agent on each that
   * comes online some time after the server runs (SSM's agent on ec2): the servers whose agent is
   * not online yet, by id — none when the profile needs no agent. The workflow starts the
   * configuration once none is left. Throws `UnknownProfile` for a profile it cannot apply.
   */
  describeConfigurationAgents?(input: {
    clusterId: string;
    profile: string;
    servers: { id: string; name: string; role: string }[];
  }): Promise<{ offline: string[] }>;

  /** Starts applying a configuration profile to the servers; returns the run's id. */
  startConfiguration(input: {
    clusterId: string;
    profile: string;
    servers: { id: string; name: string; role: string }[];
    cluster?: ConfigurationCluster;
  }): Promise<string>;

  /**
   * Where the run is; it changes nothing, so it can be asked any number of times. `servers`: the
   * cluster's servers with their provider ids, as recorded; a provider whose run knows nodes by id
   * names them from it.
   */
  describeConfiguration(input: {
    clusterId: string;
    configurationId: string;
    servers?: { id: string; name: string; role: string }[];
  }): Promise<ConfigurationStatus>;

  /**
   * Present when the provider's runs go in stages (ec2's controller mode): sends the stage a
   * describe named in `nextStage` and answers the run under its new id (`configurationId`), or
   * FAILED when the finished stage left the next one nothing to go on. Called again before the new
   * id is recorded, it adopts what it sent instead of sending it twice; a run with no stage to
   * send is answered as `describeConfiguration` answers it.
   */
  continueConfiguration?(input: {
    clusterId: string;
    configurationId: string;
    servers?: { id: string; name: string; role: string }[];
  }): Promise<ConfigurationStatus>;

  /**
   * Stops the listed servers of the cluster, keeping their disks and addresses. Asking again, or
   * for a server already stopped or stopping, is not an error; `describeServers` answers STOPPED
   * once a server is.
   */
  stopServers(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }): Promise<void>;

  /** Starts the listed stopped servers again; asking again, or for a running server, is not an error. */
  startServers(input: { clusterId: string; serverIds: string[]; onOperations?: OperationsListener }): Promise<void>;

  /**
   * Deletes everything tagged with the cluster id (servers, addresses, networks) and answers
   * how many resources still exist; callers repeat until it answers 0.
   */
  deleteCluster(input: { clusterId: string; onOperations?: OperationsListener }): Promise<{ remaining: number }>;
}
