/**
 * What the contract cloud holds, and its clock. Nothing happens on a timer: a server's boot, a
 * server's or volume's deletion, happen when a request arrives after their time on this clock has
 * come (`settle`), so tests move time with `advance` instead of waiting.
 */
import { randomUUID } from 'node:crypto';

export interface ContractOptions {
  /** From create to ACTIVE (or ERROR) on the contract clock. @default 0 */
  bootMs?: number;
  /** From delete to gone, for servers and volumes. @default 0 */
  deleteMs?: number;
  /** From `os-stop` to SHUTOFF, and from `os-start` to ACTIVE. @default 0 */
  powerMs?: number;
  /** @default 3_600_000 */
  tokenTtlMs?: number;
  /** Nova's `max_limit`: the largest page of servers and flavors. @default 1000 */
  maxLimit?: number;
  /** @default '2.93' (Zed) */
  maxMicroversion?: string;
  /** Nova's instances, cores and RAM (MiB; @default 51200) and Neutron's floating IPs (@default 50). */
  quotas?: { instances?: number; cores?: number; ramMb?: number; floatingIps?: number };
  /**
   * From a floating IP's association (or its end) in Neutron to Nova's `addresses` showing it:
   * Neutron tells Nova in batches and Nova then refreshes its cache. @default 2000
   */
  novaAddressLagMs?: number;
  /** Whether the catalog has Cinder. @default true */
  withCinder?: boolean;
  /** Told when a server turns ACTIVE and when it is gone: what boots it (its user data) and stops it. */
  lifecycle?: ServerLifecycle;
}

export interface ServerLifecycle {
  active(server: Server): void;
  gone(server: Server): void;
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface Image {
  id: string;
  name: string;
  status: string;
  min_disk: number;
}

export interface Server {
  id: string;
  name: string;
  flavor: Flavor;
  imageId: string | null;
  createdAt: number;
  bootAt: number;
  /** Scheduling fails (NoValidHost) when the server's time to boot comes. */
  fails: boolean;
  status: 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF';
  /** An `os-stop` or `os-start` under way (task `powering-off` or `powering-on`) since `at`. */
  power?: { action: 'stop' | 'start'; at: number };
  fault?: { code: number; message: string; created: string };
  /** When it turned ACTIVE: Nova's `OS-SRV-USG:launched_at`. */
  launchedAt?: number;
  /**
   * The server failed scheduling and lives in cell0, where Nova's lists do not look for faults:
   * its fault is shown by `GET /servers/{id}` only, and it has no availability zone.
   */
  inCell0?: boolean;
  deletedAt?: number;
  tags: string[];
  metadata: Record<string, string>;
  /** `auto` takes the project's own network. */
  networkIds: string[];
  securityGroupIds: string[];
  keyName: string | null;
  userData: string | null;
  zone: string;
  bootVolumeGb?: number;
  portIds: string[];
  volumeIds: string[];
}

export interface Network {
  id: string;
  /** The project that owns it: a project sees its own networks and the external ones. */
  projectId: string;
  name: string;
  description: string;
  external: boolean;
  tags: string[];
}

export interface Subnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  gateway_ip: string | null;
  description: string;
  tags: string[];
  /** Next host address handed out. */
  next: number;
}

export interface Port {
  id: string;
  network_id: string;
  device_id: string;
  device_owner: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  security_groups: string[];
  tags: string[];
  /** The floating addresses Nova's cache holds for the port, and when it next refreshes them. */
  novaFloating: string[];
  novaRefreshAt?: number;
}

export interface Router {
  id: string;
  name: string;
  description: string;
  external_gateway_info: { network_id: string; external_fixed_ips: { subnet_id: string; ip_address: string }[] } | null;
  tags: string[];
}

export interface Rule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  /** Null on the rules a new group comes with, '' by default on rules asked for. */
  description: string | null;
}

export interface SecurityGroup {
  id: string;
  /** The project that owns it: a project sees (and its servers join) its own groups only. */
  projectId: string;
  name: string;
  description: string;
  tags: string[];
}

export interface FloatingIp {
  id: string;
  floating_network_id: string;
  floating_ip_address: string;
  port_id: string | null;
  description: string;
  tags: string[];
}

export interface Volume {
  id: string;
  name: string;
  size: number;
  status: string;
  metadata: Record<string, string>;
  attachedTo: string | null;
  deleteOnTermination: boolean;
  deletedAt?: number;
}

export const PROJECT_ID = '6f70656e737461636b20342065766572';
/** The admin user's project: it owns the external network, and an admin token sees every project's resources. */
export const ADMIN_PROJECT_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
export const EXTERNAL_NETWORK = 'public';
export const DEFAULT_IMAGE = 'cirros-fake';
export const KEY_PAIRS = ['ops-key'];
export const ZONES = ['nova'];

export class Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export const newId = (): string => randomUUID();

export class CloudState {
  readonly flavors: Flavor[] = [
    { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
    { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
    { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
    { id: '4', name: 'm1.large', vcpus: 4, ram: 8192, disk: 80 },
    { id: '5', name: 'm1.xlarge', vcpus: 8, ram: 16384, disk: 160 },
    { id: '6', name: 'b1.small', vcpus: 1, ram: 2048, disk: 0 },
    // Asks for a resource no host has: scheduling fails, as on the peer cloud.
    { id: '99', name: 'error.nohost', vcpus: 1, ram: 64, disk: 1 },
  ];
  readonly images: Image[] = [
    { id: '70a599e0-31e7-49b7-b260-868f441e862b', name: DEFAULT_IMAGE, status: 'active', min_disk: 0 },
    { id: '155d900f-4e14-4e4c-a73d-069cbf4541e6', name: 'debian-12', status: 'active', min_disk: 8 },
  ];
  readonly servers = new Map<string, Server>();
  readonly networks = new Map<string, Network>();
  readonly subnets = new Map<string, Subnet>();
  readonly ports = new Map<string, Port>();
  readonly routers = new Map<string, Router>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly rules = new Map<string, Rule>();
  readonly floatingIps = new Map<string, FloatingIp>();
  readonly volumes = new Map<string, Volume>();
  /** Issued tokens and when each expires. */
  readonly tokens = new Map<string, number>();
  /** The project each token is scoped to. */
  readonly tokenProjects = new Map<string, string>();
  /** Where the cloud answers, once started: links in answers are absolute. */
  baseUrl = '';
  readonly externalNetworkId: string;
  /** What `networks: auto` gives a server: the project's own network. */
  readonly projectNetworkId: string;
  private nextFloating = 10;

  constructor(
    readonly clock: Clock,
    readonly options: Required<Omit<ContractOptions, 'quotas' | 'lifecycle'>> & { quotas: { instances: number; cores: number; ramMb: number; floatingIps: number } },
    private readonly lifecycle?: ServerLifecycle,
  ) {
    // The external network is the admin project's: other projects see it, not its subnet.
    this.externalNetworkId = this.addNetwork(EXTERNAL_NETWORK, true, '203.0.113.0/24', ADMIN_PROJECT_ID).id;
    this.projectNetworkId = this.addNetwork('private', false, '192.168.0.0/24', PROJECT_ID).id;
    // Neutron gives every project its `default` group (made at the project's first Neutron call).
    for (const projectId of [PROJECT_ID, ADMIN_PROJECT_ID]) this.addDefaultGroup(projectId);
  }

  /** The project's `default` group: egress anywhere, ingress from its own members, IPv4 and IPv6. */
  private addDefaultGroup(projectId: string): void {
    const group: SecurityGroup = { id: newId(), projectId, name: 'default', description: 'Default security group', tags: [] };
    this.securityGroups.set(group.id, group);
    const rule = (direction: Rule['direction'], ethertype: Rule['ethertype']): Rule => ({
      id: newId(),
      security_group_id: group.id,
      direction,
      ethertype,
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: null,
      remote_group_id: direction === 'ingress' ? group.id : null,
      description: null,
    });
    for (const added of [rule('egress', 'IPv4'), rule('egress', 'IPv6'), rule('ingress', 'IPv4'), rule('ingress', 'IPv6')]) this.rules.set(added.id, added);
  }

  /** The `default` group of a project. */
  defaultGroupOf(projectId: string): SecurityGroup | undefined {
    return [...this.securityGroups.values()].find((group) => group.projectId === projectId && group.name === 'default');
  }

  private addNetwork(name: string, external: boolean, cidr: string, projectId: string): Network {
    const network: Network = { id: newId(), projectId, name, description: '', external, tags: [] };
    this.networks.set(network.id, network);
    const subnet: Subnet = { id: newId(), name: `${name}-subnet`, network_id: network.id, cidr, gateway_ip: cidr.replace(/0\/\d+$/, '1'), description: '', tags: [], next: 10 };
    this.subnets.set(subnet.id, subnet);
    return network;
  }

  /** Makes what the clock says has happened: boots, and the ends of deletions. */
  settle(): void {
    const now = this.clock.now();
    for (const server of this.servers.values()) {
      if (server.deletedAt !== undefined && now >= server.deletedAt + this.options.deleteMs) this.removeServer(server);
      else if (server.status === 'BUILD' && server.deletedAt === undefined && now >= server.bootAt) this.boot(server, now);
      else if (server.power && now >= server.power.at + this.options.powerMs) {
        server.status = server.power.action === 'stop' ? 'SHUTOFF' : 'ACTIVE';
        server.power = undefined;
      }
    }
    for (const volume of this.volumes.values()) {
      if (volume.deletedAt !== undefined && now >= volume.deletedAt + this.options.deleteMs) this.volumes.delete(volume.id);
    }
    for (const port of this.ports.values()) {
      if (port.novaRefreshAt === undefined || now < port.novaRefreshAt) continue;
      port.novaFloating = [...this.floatingIps.values()].filter((ip) => ip.port_id === port.id).map((ip) => ip.floating_ip_address);
      port.novaRefreshAt = undefined;
    }
  }

  /** A floating IP came to or left the port: Nova's addresses show it `novaAddressLagMs` later. */
  floatingChanged(portId: string | null): void {
    const port = portId ? this.ports.get(portId) : undefined;
    if (port) port.novaRefreshAt ??= this.clock.now() + this.options.novaAddressLagMs;
  }

  /**
   * Scheduling: NoValidHost for a flavor no host can take (Nova's message ends in a space: the
   * reason it formats in is empty); a boot volume without Cinder fails on the compute host, after
   * scheduling; else ports and the boot volume.
   */
  private boot(server: Server, now: number): void {
    const created = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    if (server.fails) {
      server.status = 'ERROR';
      server.fault = { code: 500, message: 'No valid host was found. ', created };
      server.inCell0 = true;
      return;
    }
    if (server.bootVolumeGb !== undefined && !this.options.withCinder) {
      server.status = 'ERROR';
      server.fault = { code: 500, message: `Build of instance ${server.id} aborted: publicURL endpoint for volumev3 service in RegionOne region not found`, created };
      return;
    }
    for (const networkId of server.networkIds) {
      const port = this.addPort(networkId, server.id, 'compute:nova', server.securityGroupIds);
      server.portIds.push(port.id);
    }
    if (server.bootVolumeGb !== undefined) {
      const volume: Volume = { id: newId(), name: '', size: server.bootVolumeGb, status: 'in-use', metadata: {}, attachedTo: server.id, deleteOnTermination: true };
      this.volumes.set(volume.id, volume);
      server.volumeIds.push(volume.id);
    }
    server.status = 'ACTIVE';
    server.launchedAt = now;
    this.lifecycle?.active(server);
  }

  private removeServer(server: Server): void {
    this.servers.delete(server.id);
    this.lifecycle?.gone(server);
    for (const portId of server.portIds) this.removePort(portId);
    for (const volumeId of server.volumeIds) {
      const volume = this.volumes.get(volumeId);
      if (!volume) continue;
      volume.attachedTo = null;
      if (volume.deleteOnTermination) this.volumes.delete(volumeId);
      else volume.status = 'available';
    }
  }

  /** A port with the next address of the network's first subnet. */
  addPort(networkId: string, deviceId: string, deviceOwner: string, securityGroups: string[], fixedIp?: { subnet_id: string; ip_address: string }): Port {
    const subnet = [...this.subnets.values()].find((candidate) => candidate.network_id === networkId);
    const ip = fixedIp ?? (subnet ? { subnet_id: subnet.id, ip_address: subnet.cidr.replace(/0\/\d+$/, String(subnet.next++)) } : undefined);
    const port: Port = { id: newId(), network_id: networkId, device_id: deviceId, device_owner: deviceOwner, fixed_ips: ip ? [ip] : [], security_groups: securityGroups, tags: [], novaFloating: [] };
    this.ports.set(port.id, port);
    return port;
  }

  removePort(portId: string): void {
    this.ports.delete(portId);
    for (const ip of this.floatingIps.values()) if (ip.port_id === portId) ip.port_id = null;
  }

  nextFloatingAddress(): string {
    return `203.0.113.${this.nextFloating++}`;
  }

  /** Servers not gone yet, as Nova's quota counts them. */
  usage(): { instances: number; cores: number; ramMb: number } {
    const live = [...this.servers.values()];
    return {
      instances: live.length,
      cores: live.reduce((sum, server) => sum + server.flavor.vcpus, 0),
      ramMb: live.reduce((sum, server) => sum + server.flavor.ram, 0),
    };
  }

  /** How many things a cluster tag still marks, for tests of destroy. */
  tagged(tag: string): number {
    const marked = (items: Iterable<{ tags: string[] }>) => [...items].filter((item) => item.tags.includes(tag)).length;
    return (
      marked(this.servers.values()) +
      marked(this.networks.values()) +
      marked(this.subnets.values()) +
      marked(this.routers.values()) +
      marked(this.securityGroups.values()) +
      marked(this.floatingIps.values())
    );
  }
}
