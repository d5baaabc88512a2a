/**
 * The emulated cloud's address space. No traffic is ever sent to these addresses: private ones
 * come from 10.0.0.0/8, public ones from 100.64.0.0/10, shared address space that the internet
 * never routes.
 */
import { ProviderError } from '#domain/errors';

/** A server's attachment to a network, with its private address there. */
export interface Port {
  networkId: string;
  ip: string;
}

export interface Subnet {
  networkId: string;
  /** First address, as a 32-bit number. */
  base: number;
  size: number;
}

/** Servers created without a network land on this one, as on clouds with a default network. */
export const DEFAULT_NETWORK_ID = 'net-default';
export const DEFAULT_SUBNET: Subnet = { networkId: DEFAULT_NETWORK_ID, base: ipv4(10, 0, 0, 0), size: 65_536 };
/** Cluster networks are /20s from 10.1.0.0 up: 4080 networks of 4093 hosts each. */
const CLUSTER_SUBNETS = { base: ipv4(10, 1, 0, 0), size: 4096, count: 4080 };
const PUBLIC_POOL = { base: ipv4(100, 64, 0, 0), size: 1 << 22 };

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

const ipToString = (ip: number): string => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');

const ipToNumber = (ip: string): number => {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ipv4(a, b, c, d);
};

/** The `count` lowest numbers in [from, to] not in `used`, or null when there are not enough. */
function lowestFree(used: ReadonlySet<number>, from: number, to: number, count: number): number[] | null {
  const found: number[] = [];
  for (let candidate = from; candidate <= to && found.length < count; candidate += 1) {
    if (!used.has(candidate)) found.push(candidate);
  }
  return found.length === count ? found : null;
}

/** The `count` lowest cluster subnet numbers not in `used`; NetworkQuotaExceeded when there are not enough. */
export function freeClusterSubnets(used: ReadonlySet<number>, count: number): number[] {
  const subnets = lowestFree(used, 0, CLUSTER_SUBNETS.count - 1, count);
  if (!subnets) throw new ProviderError('NetworkQuotaExceeded', 'No private address space left for another network');
  return subnets;
}

export const clusterSubnetCidr = (subnet: number): string => `${ipToString(CLUSTER_SUBNETS.base + subnet * CLUSTER_SUBNETS.size)}/20`;

export const clusterSubnet = (networkId: string, subnet: number): Subnet => ({
  networkId,
  base: CLUSTER_SUBNETS.base + subnet * CLUSTER_SUBNETS.size,
  size: CLUSTER_SUBNETS.size,
});

/**
 * One port per subnet for each of `count` servers, beside the ports `taken` already. Host .0
 * (network), .1 (gateway) and the last (broadcast) stay free, as on a real subnet.
 */
export function assignPorts(subnets: Subnet[], taken: Port[], count: number): Port[][] {
  const ports: Port[][] = Array.from({ length: count }, () => []);
  for (const subnet of subnets) {
    const used = new Set(taken.filter((port) => port.networkId === subnet.networkId).map((port) => ipToNumber(port.ip) - subnet.base));
    const hosts = lowestFree(used, 2, subnet.size - 2, count);
    if (!hosts) throw new ProviderError('AddressSpaceExhausted', `Network ${subnet.networkId} has no free address left`);
    hosts.forEach((host, i) => ports[i]?.push({ networkId: subnet.networkId, ip: ipToString(subnet.base + host) }));
  }
  return ports;
}

/** The `count` lowest public addresses not in `taken`; AddressQuotaExceeded when the pool has not enough. */
export function freePublicIps(taken: Iterable<string>, count: number): string[] {
  const used = new Set([...taken].map((ip) => ipToNumber(ip) - PUBLIC_POOL.base));
  const offsets = lowestFree(used, 1, PUBLIC_POOL.size - 2, count);
  if (!offsets) throw new ProviderError('AddressQuotaExceeded', 'The public address pool is exhausted');
  return offsets.map((offset) => ipToString(PUBLIC_POOL.base + offset));
}
