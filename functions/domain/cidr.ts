/** CIDR blocks of security rules: which family, and whether they name a network exactly. */
import { z } from 'zod';

export type IpFamily = 'IPv4' | 'IPv6';

export const cidrFamily = (prefix: string): IpFamily | null =>
  z.cidrv4().safeParse(prefix).success ? 'IPv4' : z.cidrv6().safeParse(prefix).success ? 'IPv6' : null;

const ipv4Bits = (address: string): bigint => address.split('.').reduce((bits, octet) => (bits << 8n) | BigInt(Number(octet)), 0n);

/** An IPv6 address as 128 bits; `::` and a dotted IPv4 tail are expanded. */
const ipv6Bits = (address: string): bigint => {
  const groupsOf = (part: string | undefined): string[] =>
    (part ? part.split(':') : []).flatMap((group) => {
      if (!group.includes('.')) return [group];
      const bits = ipv4Bits(group);
      return [(bits >> 16n).toString(16), (bits & 0xffffn).toString(16)];
    });
  const [head, tail] = address.split('::');
  const first = groupsOf(head);
  const last = groupsOf(tail);
  const groups = tail === undefined ? first : [...first, ...Array<string>(8 - first.length - last.length).fill('0'), ...last];
  return groups.reduce((bits, group) => (bits << 16n) | BigInt(parseInt(group, 16)), 0n);
};

/**
 * Whether a valid CIDR block has bits set after its prefix (`10.0.0.1/8`). Clouds differ on
 * those (refused, or silently masked), so they are refused before any cloud sees them.
 */
export const hasHostBits = (prefix: string): boolean => {
  const family = cidrFamily(prefix);
  if (!family) return false;
  const [address = '', length = '0'] = prefix.split('/');
  const width = family === 'IPv4' ? 32n : 128n;
  const bits = family === 'IPv4' ? ipv4Bits(address) : ipv6Bits(address);
  const hostMask = (1n << (width - BigInt(Number(length)))) - 1n;
  return (bits & hostMask) !== 0n;
};
