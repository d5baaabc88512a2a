/**
 * Provider `hyperstack` (docs/hyperstack-provider.md): the cloud port over NexGenCloud's Infrahub
 * API v1. Made with `HyperstackProvider.connect`, which reads the environment's region and the
 * flavor catalogue once, since the port's flavor calls answer at once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidSpec, ProviderError, TransientProviderError, type ErrorDetail } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import type {
  CloudProvider,
  ConfigurationStatus,
  CreateServersInput,
  ProviderServer,
  ProviderSpecOptions,
  ProviderTimings,
  ServerRequest,
  ServerSize,
} from '#domain/provider';
import { clientTags } from '#domain/tags';
import { ConfigError } from '#lib/config';
import { cloudInitOnlyRuns } from '../cloud-init-only.ts';
import { InfrahubClient } from './client.ts';
import type { HyperstackSettings } from './settings.ts';

export interface HyperstackProviderOptions {
  /** Value of the `managed-by` label. @default 'cluster-service' */
  serviceTag?: string;
  /** VMs per listing page. @default 100 */
  pageSize?: number;
  /** @default 500 (Infrahub's own limit per address) */
  requestsPerMinute?: number;
  /** @default 5 */
  maxAttempts?: number;
  /** @default 30000 */
  requestTimeoutMs?: number;
  timings?: Partial<ProviderTimings>;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Infrahub's flavor: cpu count, ram and disk in GB. */
export interface InfrahubFlavor {
  id?: number;
  name: string;
  cpu: number;
  ram: number;
  disk: number;
  gpu?: string;
  gpu_count?: number;
  region_name?: string;
  /** False when Infrahub has none of it to give now: a create naming it would be refused. */
  stock_available?: boolean;
}

/** The fields of Infrahub's VM the provider reads. */
export interface InfrahubVm {
  id: number;
  name: string;
  status: string;
  fixed_ip?: string | null;
  floating_ip?: string | null;
  /** `ATTACHING` while Infrahub is giving the VM the floating IP asked for, then `ATTACHED`. */
  floating_ip_status?: string | null;
  labels?: string[];
  vm_state?: string | null;
  power_state?: string | null;
  /** Not in Infrahub's VM schema; read when an answer carries it. */
  error_reason?: string | null;
}

/** Infrahub's most VMs per create call. */
export const MAX_COUNT = 20;
/** Infrahub's longest VM name. */
export const MAX_NAME = 50;
const DEFAULT_TIMINGS: ProviderTimings = { expectedBootSeconds: 60, expectedConfigurationSeconds: 300 };

const STATES: Record<string, ProviderServer['state']> = {
  CREATING: 'BUILD',
  BUILD: 'BUILD',
  STARTING: 'BUILD',
  REBOOTING: 'BUILD',
  ACTIVE: 'ACTIVE',
  STOPPING: 'STOPPING',
  SHUTOFF: 'STOPPED',
  ERROR: 'ERROR',
  DELETING: 'DELETING',
  DELETED: 'DELETED',
};

/** The prefix of every VM name of a cluster: what the listing's `search` finds them by. */
export const namePrefix = (clusterId: string): string => `cs-${clusterId.replace(/-/g, '').slice(0, 12)}-`;
export const clusterLabel = (clusterId: string): string => `cluster-service.cluster=${clusterId}`;
export const groupLabel = (group: string): string => `cluster-service.group=${group}`;
export const roleLabel = (role: string): string => `cluster-service.role=${role}`;
export const managedByLabel = (tag: string): string => `managed-by=${tag}`;

/** What Infrahub's listing says of a VM in ERROR: its status and Nova's states, as it gives no reason. */
const faultOf = (vm: InfrahubVm): string =>
  `Infrahub reports the VM ${vm.status}${[vm.vm_state && `vm_state ${vm.vm_state}`, vm.power_state && `power_state ${vm.power_state}`].filter(Boolean).map((part) => `, ${part}`).join('')}`;

const SUPPORTED_PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'any']);

const ruleBody = (rule: SecurityRule) => ({
  direction: rule.direction,
  protocol: rule.protocol.toLowerCase(),
  ethertype: rule.ethertype,
  remote_ip_prefix: rule.remoteIpPrefix,
  ...(rule.portRangeMin !== undefined ? { port_range_min: rule.portRangeMin } : {}),
  ...(rule.portRangeMax !== undefined ? { port_range_max: rule.portRangeMax } : {}),
});

const bySize = (a: InfrahubFlavor, b: InfrahubFlavor): number =>
  (a.gpu_count ?? 0) - (b.gpu_count ?? 0) || a.cpu - b.cpu || a.ram - b.ram || a.disk - b.disk || a.name.localeCompare(b.name);

export class HyperstackProvider implements CloudProvider {
  readonly name = 'hyperstack';
  /** Its servers are configured by the cloud-init runner: it runs only `none` itself. */
  private readonly ownRuns = cloudInitOnlyRuns(this.name);
  readonly maxBatchSize = MAX_COUNT;
  // No run-command service, and no network a container of the deployment can join.
  readonly configurationRunners = ['cloud-init'] as const;
  readonly configurationNetwork = 'through-master';
  // Infrahub posts a VM's state changes to the callback_url it was made with.
  readonly takesCallbackUrl = true;
  readonly timings: ProviderTimings;
  readonly inventoryVars = { ansible_user: 'ubuntu' };

  private constructor(
    private readonly settings: HyperstackSettings,
    private readonly client: InfrahubClient,
    private readonly flavors: InfrahubFlavor[],
    private readonly serviceTag: string,
    private readonly pageSize: number,
    timings: Partial<ProviderTimings>,
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
  }

  /** Reads the environment's region and the flavors there; a missing environment is a ConfigError. */
  static async connect(settings: HyperstackSettings, options: HyperstackProviderOptions = {}): Promise<HyperstackProvider> {
    const serviceTag = options.serviceTag ?? 'cluster-service';
    if (!/^[A-Za-z0-9._+=@-]{1,40}$/.test(serviceTag)) throw new ConfigError('invalid hyperstack provider options: serviceTag: must be 1-40 letters, digits or ._+=@-');
    const client = new InfrahubClient(settings.apiUrl, settings.apiKey, {
      fetch: options.fetch ?? globalThis.fetch,
      sleep: options.sleep ?? ((ms) => delay(ms)),
      now: options.now ?? Date.now,
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      requestsPerMinute: options.requestsPerMinute ?? 500,
      maxAttempts: options.maxAttempts ?? 5,
    });
    const query = new URLSearchParams({ search: settings.environment, page: '1', pageSize: '100' });
    const environments = await client.call<{ environments?: { name: string; region: string }[] }>('GET', `/core/environments?${query}`);
    const environment = (environments.environments ?? []).find((candidate) => candidate.name === settings.environment);
    if (!environment) throw new ConfigError(`HYPERSTACK_ENVIRONMENT: no environment ${settings.environment} in this Infrahub account`);
    const catalogue = await client.call<{ data?: { region_name?: string; flavors?: InfrahubFlavor[] }[] }>('GET', '/core/flavors');
    const flavors = (catalogue.data ?? [])
      .filter((group) => group.region_name === undefined || group.region_name === environment.region)
      .flatMap((group) => group.flavors ?? []);
    return new HyperstackProvider(settings, client, flavors, serviceTag, options.pageSize ?? 100, options.timings ?? {});
  }

  resolveFlavor(size: ServerSize): string {
    const ramGb = size.ramMb / 1024;
    // Out of stock: Infrahub would refuse the create. A client may still name one (describeFlavor).
    const fitting = this.flavors
      .filter((flavor) => flavor.stock_available !== false && flavor.cpu >= size.vcpus && flavor.ram >= ramGb && flavor.disk >= size.diskGb)
      .sort(bySize);
    const best = fitting[0];
    if (best) return best.name;
    const details: ErrorDetail[] = [];
    const most = (pick: (flavor: InfrahubFlavor) => number) => Math.max(0, ...this.flavors.map(pick));
    if (most((f) => f.cpu) < size.vcpus) details.push({ path: 'vcpus', message: `no hyperstack flavor has ${size.vcpus} vCPUs (the most is ${most((f) => f.cpu)})` });
    else if (most((f) => f.ram) < ramGb) details.push({ path: 'ramMb', message: `no hyperstack flavor has ${size.ramMb} MiB (the most is ${most((f) => f.ram) * 1024})` });
    else if (most((f) => f.disk) < size.diskGb) details.push({ path: 'diskGb', message: `no hyperstack flavor has ${size.diskGb} GB of disk (the most is ${most((f) => f.disk)})` });
    else details.push({ path: 'vcpus', message: `no hyperstack flavor in stock has ${size.vcpus} vCPUs, ${size.ramMb} MiB and ${size.diskGb} GB together` });
    throw new InvalidSpec(`No hyperstack flavor fits: ${details.map((detail) => detail.message).join('; ')}`, details);
  }

  describeFlavor(flavor: string): ServerSize | null {
    const found = this.flavors.find((candidate) => candidate.name === flavor);
    return found ? { vcpus: found.cpu, ramMb: Math.round(found.ram * 1024), diskGb: found.disk } : null;
  }

  /**
   * What Infrahub cannot do: regions and zones are the environment's (HYPERSTACK_ENVIRONMENT),
   * tags are not labels it keeps per key, private networks are its own (one per environment), and
   * rules of a protocol it does not take.
   */
  checkOptions(input: ProviderSpecOptions): ErrorDetail[] {
    const { options } = input;
    const details: ErrorDetail[] = [];
    if (options.region !== undefined) details.push({ path: 'region', message: `hyperstack servers go to the region of the environment ${this.settings.environment}: leave region out` });
    if (options.zone !== undefined) details.push({ path: 'zone', message: 'hyperstack has no availability zones to choose' });
    if (input.privateNetworks > 1) {
      details.push({ path: 'network.privateNetworks', message: 'hyperstack puts every server on its environment\'s one private network: at most 1' });
    }
    for (const [key, value] of clientTags(options.tags)) {
      if (`${key}=${value}`.length > 255) details.push({ path: `tags.${key}`, message: 'hyperstack labels are at most 255 characters (key=value)' });
    }
    input.securityRules.forEach((rule, index) => {
      if (!SUPPORTED_PROTOCOLS.has(rule.protocol.toLowerCase())) {
        details.push({ path: `network.securityRules.${index}.protocol`, message: 'hyperstack takes tcp, udp, icmp or any' });
      }
    });
    return details;
  }

  /** Infrahub's servers share their environment's network: nothing to make, no ids to join. */
  async createNetworks(): Promise<string[]> {
    return [];
  }

  /**
   * Lists the cluster's VMs first (Infrahub has no client token) and adopts those already named
   * and labelled for the cluster; makes each missing one with its own `POST /core/virtual-machines`
   * (`count` 1: every server has its own name, user data and address).
   */
  async createServers(input: CreateServersInput): Promise<ProviderServer[]> {
    if (input.servers.length === 0) return [];
    if (input.servers.length > this.maxBatchSize) {
      throw new ProviderError('BatchTooLarge', `A create call takes at most ${this.maxBatchSize} servers; this one asked for ${input.servers.length}`);
    }
    const prefix = namePrefix(input.clusterId);
    const tooLong = input.servers.filter((server) => `${prefix}${server.name}`.length > MAX_NAME).map((server) => server.name);
    if (tooLong.length > 0) throw new ProviderError('ServerNameTooLong', `hyperstack VM names are at most ${MAX_NAME} characters with the cluster's ${prefix.length}-character prefix: ${tooLong.join(', ')}`);
    const unknown = [...new Set(input.servers.map((server) => server.flavor))].filter((flavor) => !this.describeFlavor(flavor));
    if (unknown.length > 0) throw new ProviderError('FlavorNotFound', `Not a flavor of this hyperstack environment: ${unknown.join(', ')}`);
    const made = await this.listCluster(input.clusterId);
    const servers: ProviderServer[] = [];
    for (const server of input.servers) {
      const adopted = made.find((vm) => vm.name === `${prefix}${server.name}`);
      if (adopted) {
        servers.push(this.toProviderServer(adopted, prefix));
        continue;
      }
      const answer = await this.client.call<{ instances?: InfrahubVm[] }>('POST', '/core/virtual-machines', this.body(input, server));
      const vm = answer.instances?.[0];
      if (!vm) throw new ProviderError('HyperstackBadAnswer', `Infrahub made ${server.name} but answered no instance`);
      servers.push(this.toProviderServer(vm, prefix));
    }
    return servers;
  }

  /** One `GET /core/virtual-machines` round (paged by `page`/`pageSize`), whatever the cluster's size. */
  async describeServers(input: { clusterId: string }): Promise<ProviderServer[]> {
    const prefix = namePrefix(input.clusterId);
    return (await this.listCluster(input.clusterId)).map((vm) => this.toProviderServer(vm, prefix));
  }

  /**
   * The addresses given at create. A server whose address is still being attached, or that had
   * none asked for at create, answers TransientProviderError (the workflow asks again); the latter gets one through `POST /core/virtual-machines/{id}/attach-floatingip`, once.
   */
  async allocatePublicIps(input: { clusterId: string; serverIds: string[] }): Promise<Record<string, string>> {
    const vms = await this.listCluster(input.clusterId);
    const addresses: Record<string, string> = {};
    const pending: string[] = [];
    for (const id of input.serverIds) {
      const vm = vms.find((candidate) => String(candidate.id) === id);
      if (!vm) throw new ProviderError('ServerNotFound', `No hyperstack VM ${id} in cluster ${input.clusterId}`);
      if (vm.floating_ip) {
        addresses[id] = vm.floating_ip;
        continue;
      }
      if (vm.floating_ip_status !== 'ATTACHING') await this.client.call('POST', `/core/virtual-machines/${vm.id}/attach-floatingip`);
      pending.push(vm.name);
    }
    // Transient by name, since that name is what the workflow's Retry matches.
    if (pending.length > 0) throw new TransientProviderError(`Infrahub is still attaching a floating IP to ${pending.join(', ')}`);
    return addresses;
  }

  /** `GET /core/virtual-machines/{id}/stop` per VM: STOPPING, then SHUTOFF; disks and floating IPs stay. */
  async stopServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    await this.power(input, 'stop');
  }

  /** `GET /core/virtual-machines/{id}/start` per VM: STARTING, then ACTIVE. */
  async startServers(input: { clusterId: string; serverIds: string[] }): Promise<void> {
    await this.power(input, 'start');
  }

  startConfiguration(input: { clusterId: string; profile: string }): Promise<string> {
    return this.ownRuns.start(input);
  }

  describeConfiguration(input: { clusterId: string; configurationId: string }): Promise<ConfigurationStatus> {
    return this.ownRuns.describe(input);
  }

  /** Deletes every VM of the cluster the listing shows (not those already deleting); 0 once it shows none. */
  async deleteCluster(input: { clusterId: string }): Promise<{ remaining: number }> {
    const vms = await this.listCluster(input.clusterId);
    for (const vm of vms) {
      if (vm.status === 'DELETING') continue;
      await this.client.call('DELETE', `/core/virtual-machines/${vm.id}`, undefined, [404]);
    }
    return { remaining: vms.length };
  }

  private body(input: CreateServersInput, server: ServerRequest) {
    const options = input.options ?? {};
    const userData = server.userData ?? options.userData;
    const labels = [
      clusterLabel(input.clusterId),
      groupLabel(server.group),
      roleLabel(server.role),
      managedByLabel(this.serviceTag),
      ...clientTags(options.tags).map(([key, value]) => `${key}=${value}`),
    ];
    return {
      name: `${namePrefix(input.clusterId)}${server.name}`,
      environment_name: this.settings.environment,
      image_name: options.image ?? this.settings.image,
      flavor_name: server.flavor,
      key_name: options.keyName ?? this.settings.keyName,
      count: 1,
      assign_floating_ip: server.publicIp,
      ...(input.securityRules && input.securityRules.length > 0 ? { security_rules: input.securityRules.map(ruleBody) } : {}),
      // Infrahub takes the cloud-init document itself, not base64 as the port carries it.
      ...(userData ? { user_data: Buffer.from(userData, 'base64').toString('utf8') } : {}),
      ...(input.callbackUrl && this.reaches(input.callbackUrl) ? { callback_url: input.callbackUrl } : {}),
      labels,
    };
  }

  /** Whether Infrahub could call `url`: not a loopback address, unless Infrahub itself is on one (the contract's). */
  private reaches(url: string): boolean {
    const loopback = (address: string) => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(new URL(address).hostname);
    return !loopback(url) || loopback(this.settings.apiUrl);
  }

  /**
   * Sends the action to each listed VM of the cluster that is not there already or on its way
   * (one listing first, so a repeated stop sends nothing twice): Infrahub refuses a stop but from
   * ACTIVE or ERROR, and a start but from SHUTOFF. A VM the listing does not show as the
   * cluster's is refused, whatever id the caller names.
   */
  private async power(input: { clusterId: string; serverIds: string[] }, action: 'stop' | 'start'): Promise<void> {
    const vms = new Map((await this.listCluster(input.clusterId)).map((vm) => [String(vm.id), vm]));
    const arriving = action === 'stop' ? ['STOPPING', 'SHUTOFF'] : ['STARTING', 'ACTIVE'];
    for (const id of new Set(input.serverIds)) {
      const vm = vms.get(id);
      if (!vm) throw new ProviderError('ServerNotFound', `No hyperstack VM ${id} in cluster ${input.clusterId}`);
      if (!arriving.includes(vm.status)) await this.client.call('GET', `/core/virtual-machines/${vm.id}/${action}`);
    }
  }

  /** Every VM of the cluster: its name prefix as `search`, every page, kept only with the cluster's label. */
  private async listCluster(clusterId: string): Promise<InfrahubVm[]> {
    const prefix = namePrefix(clusterId);
    const label = clusterLabel(clusterId);
    const found: InfrahubVm[] = [];
    for (let page = 1; ; page += 1) {
      const query = new URLSearchParams({ search: prefix, page: String(page), pageSize: String(this.pageSize) });
      const answer = await this.client.call<{ instances?: InfrahubVm[]; count?: number }>('GET', `/core/virtual-machines?${query}`);
      const instances = answer.instances ?? [];
      found.push(...instances.filter((vm) => vm.name.startsWith(prefix) && (vm.labels ?? []).includes(label) && vm.status !== 'DELETED'));
      const more = answer.count === undefined ? instances.length >= this.pageSize : page * this.pageSize < answer.count;
      if (!more || instances.length === 0) return found;
    }
  }

  private toProviderServer(vm: InfrahubVm, prefix: string): ProviderServer {
    const state = STATES[vm.status] ?? 'ERROR';
    return {
      id: String(vm.id),
      name: vm.name.startsWith(prefix) ? vm.name.slice(prefix.length) : vm.name,
      state,
      privateIp: vm.fixed_ip ?? null,
      publicIp: vm.floating_ip ?? null,
      ...(state === 'ERROR' ? { fault: vm.error_reason || faultOf(vm) } : {}),
    };
  }
}
