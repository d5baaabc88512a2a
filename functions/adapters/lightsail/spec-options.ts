/**
 * What a spec may ask of Lightsail (docs/lightsail-provider.md, "The spec's options"): its region,
 * zone, blueprint, tags and the auto-snapshot tag, and its rules as Lightsail's public ports.
 */
import type { PortInfo } from '@aws-sdk/client-lightsail';
import type { ErrorDetail } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import type { ProviderSpecOptions } from '#domain/provider';
import { clientTags } from '#domain/tags';

/** The client tag that asks for Lightsail's automatic snapshot add-on: `{"lightsail:auto-snapshot": "HH:00"}`. */
export const AUTO_SNAPSHOT_TAG = 'lightsail:auto-snapshot';
const TAG_TEXT = /^[\p{L}\p{N} +\-=._:/@]+$/u;

const ANY_PROTOCOL = new Set(['any', 'all', '-1']);
/** An egress rule that allows what Lightsail allows anyway: everything out. */
const allowsAllOut = (rule: SecurityRule): boolean =>
  rule.direction === 'egress' && ANY_PROTOCOL.has(rule.protocol.toLowerCase()) && (rule.remoteIpPrefix === '0.0.0.0/0' || rule.remoteIpPrefix === '::/0');

/**
 * The ingress rules as Lightsail's public ports (Lightsail has no egress rules: everything goes
 * out), one per protocol and port range with every address the rules give it.
 */
export const portInfos = (rules: readonly SecurityRule[]): PortInfo[] => {
  const ports = new Map<string, PortInfo & { cidrs: string[]; ipv6Cidrs: string[] }>();
  for (const rule of rules.filter((candidate) => candidate.direction === 'ingress')) {
    const any = ANY_PROTOCOL.has(rule.protocol.toLowerCase());
    const icmp = rule.protocol.toLowerCase() === 'icmp';
    const protocol: PortInfo['protocol'] = any ? 'all' : icmp ? (rule.ethertype === 'IPv6' ? 'icmpv6' : 'icmp') : (rule.protocol.toLowerCase() as PortInfo['protocol']);
    // ICMP's "ports" are its type and code: -1 for every one.
    const fromPort = any ? 0 : icmp ? -1 : (rule.portRangeMin ?? 0);
    const toPort = any ? 65_535 : icmp ? -1 : (rule.portRangeMax ?? rule.portRangeMin ?? 65_535);
    const key = `${protocol}/${fromPort}/${toPort}`;
    const port = ports.get(key) ?? { protocol, fromPort, toPort, cidrs: [], ipv6Cidrs: [] };
    (rule.ethertype === 'IPv6' ? port.ipv6Cidrs : port.cidrs).push(rule.remoteIpPrefix);
    ports.set(key, port);
  }
  return [...ports.values()].map(({ cidrs, ipv6Cidrs, ...port }) => ({
    ...port,
    ...(cidrs.length > 0 ? { cidrs } : {}),
    ...(ipv6Cidrs.length > 0 ? { ipv6Cidrs } : {}),
  }));
};

/** Why Lightsail cannot honour a spec's options, one detail per field; `servedRegion` is the deployment's. */
export const checkSpecOptions = (input: ProviderSpecOptions, servedRegion: string | undefined): ErrorDetail[] => {
  const details: ErrorDetail[] = [];
  if (input.privateNetworks > 1) {
    details.push({ path: 'network.privateNetworks', message: 'lightsail has no private networks of its own: its instances share the region\'s private network, so at most 1' });
  }
  const { region, zone, image } = input.options;
  if (region !== undefined && servedRegion !== undefined && region !== servedRegion) {
    details.push({ path: 'region', message: `lightsail works in ${servedRegion} only` });
  }
  if (zone !== undefined && !zone.startsWith(region ?? servedRegion ?? '')) {
    details.push({ path: 'zone', message: 'must be a zone of the region' });
  }
  if (image !== undefined && !/^[a-z0-9_.-]{1,64}$/.test(image)) details.push({ path: 'image', message: 'must be a Lightsail blueprint id' });
  const tags = clientTags(input.options.tags);
  // Lightsail keeps 50 tags a resource; the service puts two of its own beside the client's.
  if (tags.length > 48) details.push({ path: 'tags', message: 'lightsail keeps at most 50 tags per instance, 2 of them the service\'s: at most 48' });
  for (const [key, value] of tags) {
    if (!TAG_TEXT.test(key) || key.length > 128) details.push({ path: `tags.${key}`, message: 'lightsail tag keys are 1-128 letters, digits, spaces or + - = . _ : / @' });
    else if (!TAG_TEXT.test(value || 'x') || value.length > 256) details.push({ path: `tags.${key}`, message: 'lightsail tag values are at most 256 letters, digits, spaces or + - = . _ : / @' });
  }
  const snapshot = input.options.tags?.[AUTO_SNAPSHOT_TAG];
  if (snapshot !== undefined && !/^([01]\d|2[0-3]):00$/.test(snapshot)) {
    details.push({ path: `tags.${AUTO_SNAPSHOT_TAG}`, message: 'must be a time of day HH:00 (UTC)' });
  }
  input.securityRules.forEach((rule, index) => {
    if (rule.direction !== 'ingress' && !allowsAllOut(rule)) {
      details.push({ path: `network.securityRules.${index}.direction`, message: 'lightsail instances have inbound rules only (public ports): all outbound traffic is allowed, so only an egress rule allowing everything can be honoured' });
    }
    if (!['tcp', 'udp', 'icmp', 'all', 'any', '-1'].includes(rule.protocol.toLowerCase())) {
      details.push({ path: `network.securityRules.${index}.protocol`, message: 'lightsail public ports take tcp, udp, icmp or all' });
    }
  });
  return details;
};
