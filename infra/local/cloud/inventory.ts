/**
 * The emulated cloud's state in memory — what it has made and not yet forgotten — with the
 * lookups its calls share. inventory-file.ts keeps it on disk.
 */
import { createHash } from 'node:crypto';
import { ProviderError } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import type { InventoryFile, StoredAddress, StoredClientToken, StoredConfiguration, StoredNetwork, StoredServer } from './inventory-file.ts';
import { clusterSubnet, DEFAULT_SUBNET, type Subnet } from './ip-pool.ts';
import { withoutRepeats } from './security-rules.ts';
import { isGone } from './servers.ts';

export class Inventory {
  readonly servers = new Map<string, StoredServer>();
  readonly networks = new Map<string, StoredNetwork>();
  readonly addresses = new Map<string, StoredAddress>();
  readonly clientTokens = new Map<string, StoredClientToken>();
  readonly configurations = new Map<string, StoredConfiguration>();
  /** Each distinct user data once, by SHA-256. */
  private readonly userData = new Map<string, string>();

  load(inventory: InventoryFile): void {
    for (const server of inventory.servers) this.servers.set(server.id, server);
    for (const network of inventory.networks) this.networks.set(network.id, network);
    for (const address of inventory.addresses) this.addresses.set(address.ip, address);
    for (const token of inventory.clientTokens) this.clientTokens.set(token.token, token);
    for (const run of inventory.configurations) this.configurations.set(run.id, run);
    for (const [sha, userData] of Object.entries(inventory.userData ?? {})) this.userData.set(sha, userData);
  }

  snapshot(): InventoryFile {
    return {
      version: 1,
      servers: [...this.servers.values()],
      networks: [...this.networks.values()],
      addresses: [...this.addresses.values()],
      clientTokens: [...this.clientTokens.values()],
      configurations: [...this.configurations.values()],
      userData: Object.fromEntries(this.userData),
    };
  }

  presentServers(now: number): StoredServer[] {
    return [...this.servers.values()].filter((server) => !isGone(server, now));
  }

  /** Forgets servers whose delete time has passed; their private addresses and user data go with them. */
  sweep(now: number): void {
    let forgot = false;
    for (const server of [...this.servers.values()]) {
      if (isGone(server, now)) {
        this.servers.delete(server.id);
        forgot = true;
      }
    }
    if (forgot && this.userData.size > 0) {
      const used = new Set([...this.servers.values()].map((server) => server.userDataSha256));
      for (const sha of [...this.userData.keys()]) if (!used.has(sha)) this.userData.delete(sha);
    }
  }

  /** Keeps the user data once however many servers are made with it; answers its key. */
  keepUserData(userData: string): string {
    const sha = createHash('sha256').update(userData).digest('hex');
    this.userData.set(sha, userData);
    return sha;
  }

  userDataOf(server: StoredServer): string | null {
    return (server.userDataSha256 && this.userData.get(server.userDataSha256)) ?? null;
  }

  /** The rules of every network the server has a port on, each once. */
  rulesOf(server: StoredServer): SecurityRule[] {
    return withoutRepeats(server.ports.flatMap((port) => this.networks.get(port.networkId)?.securityRules ?? []));
  }

  publicIpsByServer(): Map<string, string> {
    return new Map([...this.addresses.values()].map((address) => [address.serverId, address.ip]));
  }

  clusterNetworks(clusterId: string): StoredNetwork[] {
    return [...this.networks.values()]
      .filter((network) => network.clusterId === clusterId)
      .sort((a, b) => a.index - b.index);
  }

  /** The subnets of these networks of the cluster; the default network's when it names none. */
  subnetsFor(clusterId: string, networkIds: string[]): Subnet[] {
    if (networkIds.length === 0) return [DEFAULT_SUBNET];
    return networkIds.map((networkId) => {
      const network = this.networks.get(networkId);
      if (!network || network.clusterId !== clusterId) {
        throw new ProviderError('NetworkNotFound', `No network ${networkId} in cluster ${clusterId}`);
      }
      return clusterSubnet(networkId, network.subnet);
    });
  }
}
