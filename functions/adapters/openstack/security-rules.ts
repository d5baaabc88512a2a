/**
 * A cluster's security group rules as Neutron takes them (docs/openstack-provider.md, "Security
 * group"): the spec's rules, and every protocol between the cluster's own nodes.
 */
import type { SecurityRule } from '#domain/model';
import type { NeutronRule } from './network.ts';

export type RuleBody = Omit<NeutronRule, 'id'>;

const ETHERTYPES = ['IPv4', 'IPv6'] as const;

const ALL_PORTS: [number, number] = [1, 65_535];

/**
 * tcp/udp with their ports (an absent end is open: from 1, up to 65535), icmp as every type
 * (`ipv6-icmp` for IPv6), any as no protocol. Every port is written as no ports: Neutron stores
 * 1-65535 that way, and a rule must read back as it was written to be found again.
 */
export const ruleOf = (rule: SecurityRule): RuleBody => {
  const ports = rule.protocol === 'tcp' || rule.protocol === 'udp';
  const min = rule.portRangeMin ?? ALL_PORTS[0];
  const max = rule.portRangeMax ?? ALL_PORTS[1];
  const every = min === ALL_PORTS[0] && max === ALL_PORTS[1];
  const protocol = rule.protocol === 'any' ? null : rule.protocol === 'icmp' && rule.ethertype === 'IPv6' ? 'ipv6-icmp' : rule.protocol;
  return {
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol,
    port_range_min: ports && !every ? min : null,
    port_range_max: ports && !every ? max : null,
    remote_ip_prefix: rule.remoteIpPrefix,
    remote_group_id: null,
  };
};

/** Every protocol from (ingress) or to (egress) the group's own members, both families. */
export const memberRules = (groupId: string, direction: 'ingress' | 'egress'): RuleBody[] =>
  ETHERTYPES.map((ethertype) => ({
    direction,
    ethertype,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: groupId,
  }));

/** Neutron describes some protocols by number, whatever they were made as. */
const PROTOCOL_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'ipv6-icmp', icmpv6: 'ipv6-icmp' };
const protocolName = (protocol: string | null): string | null => (protocol === null ? null : (PROTOCOL_NAMES[protocol] ?? protocol));

/** `0.0.0.0/0` and no prefix admit the same. */
const prefixOf = (prefix: string | null): string | null => (prefix === '0.0.0.0/0' || prefix === '::/0' ? null : prefix);

/** A rule's ports; 1-65535 of tcp or udp is every port, which Neutron stores as none. */
const portsOf = (rule: RuleBody): [number | null, number | null] => {
  const ports: [number | null, number | null] = [rule.port_range_min ?? null, rule.port_range_max ?? null];
  return ports[0] === ALL_PORTS[0] && ports[1] === ALL_PORTS[1] ? [null, null] : ports;
};

const sameRule = (a: RuleBody, b: RuleBody): boolean =>
  a.direction === b.direction &&
  a.ethertype === b.ethertype &&
  protocolName(a.protocol) === protocolName(b.protocol) &&
  portsOf(a)[0] === portsOf(b)[0] &&
  portsOf(a)[1] === portsOf(b)[1] &&
  prefixOf(a.remote_ip_prefix) === prefixOf(b.remote_ip_prefix) &&
  (a.remote_group_id ?? null) === (b.remote_group_id ?? null);

/** The egress rules Neutron gives every new group: all traffic out, both families. */
export const isDefaultEgress = (rule: RuleBody): boolean =>
  rule.direction === 'egress' && rule.protocol === null && prefixOf(rule.remote_ip_prefix) === null && !rule.remote_group_id && rule.port_range_min === null;

/**
 * What the group must hold: the members' rules and the spec's. A spec with egress rules replaces
 * Neutron's allow-all egress with them (and egress to the members, which the nodes talk to);
 * without any, the allow-all egress stays.
 */
export const wantedRules = (groupId: string, rules: readonly SecurityRule[]): { add: RuleBody[]; removeDefaultEgress: boolean } => {
  const restrictsEgress = rules.some((rule) => rule.direction === 'egress');
  const wanted = [...memberRules(groupId, 'ingress'), ...(restrictsEgress ? memberRules(groupId, 'egress') : []), ...rules.map(ruleOf)];
  const unique = wanted.filter((rule, i) => wanted.findIndex((other) => sameRule(rule, other)) === i);
  return { add: unique, removeDefaultEgress: restrictsEgress };
};

/** The wanted rules a group lacks. */
export const missingRules = (wanted: readonly RuleBody[], existing: readonly RuleBody[]): RuleBody[] =>
  wanted.filter((rule) => !existing.some((other) => sameRule(rule, other)));
