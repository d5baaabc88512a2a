/**
 * Neutron's security group rules as Zed keeps them: protocols by name or number, a rule written
 * another way stored as Neutron writes it (icmp for IPv6 becomes ipv6-icmp, every port of tcp or
 * udp becomes no ports), duplicates found on what rules mean (0.0.0.0/0 is no prefix, 6 is tcp),
 * and Neutron's refusals with their types and messages. Bulk creation is atomic.
 */
import { neutronFault, type Reply, type RequestContext } from './server.ts';
import { newId, PROJECT_ID, type CloudState, type Rule } from './state.ts';

/** Neutron's protocol names and their numbers. */
const PROTOCOLS: Record<string, number> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4, 'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58,
  icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};
/** The protocols whose port ranges are ports. */
const WITH_PORTS = new Set([6, 17, 33, 132, 136]);
const ICMP = new Set([1, 58]);

const isRecord = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

const protocolNumber = (protocol: string | null): number | null => {
  if (protocol === null) return null;
  return PROTOCOLS[protocol] ?? Number(protocol);
};

/** A CIDR with its host bits cleared (IPv4); IPv6 as written. */
const normalizedCidr = (cidr: string | null): string | null => {
  if (cidr === null || cidr.includes(':')) return cidr;
  const [address = '', bits = '32'] = cidr.split('/');
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const start = value - (value % size);
  return `${[24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join('.')}/${bits}`;
};

const isCidr = (cidr: string): boolean => /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(cidr) || /^[0-9a-f:]+(\/\d{1,3})?$/i.test(cidr);

export const ruleView = (rule: Rule) => ({
  ...rule,
  remote_address_group_id: null,
  normalized_cidr: normalizedCidr(rule.remote_ip_prefix),
  tenant_id: PROJECT_ID,
  project_id: PROJECT_ID,
});

/** The rules every new group gets: all egress, both families (with no description, unlike rules asked for). */
export const defaultEgressRules = (groupId: string): Rule[] =>
  (['IPv4', 'IPv6'] as const).map((ethertype) => ({
    id: newId(),
    security_group_id: groupId,
    direction: 'egress',
    ethertype,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    description: null,
  }));

/** What a rule means, the way Neutron compares rules for duplicates. */
const meaning = (rule: Rule): string => {
  const prefix = normalizedCidr(rule.remote_ip_prefix);
  return JSON.stringify([
    rule.security_group_id,
    rule.direction,
    rule.ethertype,
    protocolNumber(rule.protocol),
    rule.port_range_min,
    rule.port_range_max,
    prefix === '0.0.0.0/0' || prefix === '::/0' ? null : prefix,
    rule.remote_group_id,
  ]);
};

const fault = (type: string, message: string, status = 400): Reply => neutronFault(status, type, message);

/** The rule a body asks for, as Neutron stores it, or Neutron's refusal. */
const makeRule = (state: CloudState, body: Record<string, any>): Rule | Reply => {
  if (!state.securityGroups.has(body.security_group_id)) return fault('SecurityGroupNotFound', `Security group ${body.security_group_id} does not exist`, 404);
  if (!['ingress', 'egress'].includes(body.direction)) return fault('HTTPBadRequest', `Invalid input for direction. Reason: '${body.direction}' is not in ['ingress', 'egress'].`);
  const ethertype: 'IPv4' | 'IPv6' = body.ethertype ?? 'IPv4';
  let protocol: string | null = body.protocol === undefined || body.protocol === null ? null : String(body.protocol);
  const number = protocolNumber(protocol);
  if (protocol !== null && !(protocol in PROTOCOLS) && !(Number.isInteger(number) && (number as number) >= 0 && (number as number) <= 255)) {
    return fault('SecurityGroupRuleInvalidProtocol', `Security group rule protocol ${protocol} not supported. Only protocol values [None, ${Object.keys(PROTOCOLS).join(', ')}] and integer representations [0 to 255] are supported.`);
  }
  // Neutron keeps IPv6's ICMP by its own name.
  if (protocol === 'icmp' && ethertype === 'IPv6') protocol = 'ipv6-icmp';
  if (number === 58 && ethertype === 'IPv4') return fault('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${ethertype} for protocol ${protocol}.`);
  let min: number | null = body.port_range_min ?? null;
  let max: number | null = body.port_range_max ?? null;
  if ((min !== null || max !== null) && protocol === null) return fault('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  if (number !== null && WITH_PORTS.has(number) && (min !== null || max !== null)) {
    if (min === 0 || max === 0) return fault('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
    if (min === null || max === null || min > max) return fault('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    // Every port is stored as no port range.
    if (min === 1 && max === 65_535) [min, max] = [null, null];
  }
  if (number !== null && ICMP.has(number)) {
    if (min === null && max !== null) return fault('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    for (const [field, value] of [['type', min], ['code', max]] as const) {
      if (value !== null && (value < 0 || value > 255)) return fault('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${field === 'type' ? 'port-range-min' : 'port-range-max'}): ${value}. It must be 0 to 255.`);
    }
  }
  const prefix: string | null = body.remote_ip_prefix ?? null;
  if (prefix !== null && body.remote_group_id) return fault('SecurityGroupRemoteGroupAndRemoteIpPrefix', 'Only remote_ip_prefix or remote_group_id may be provided.');
  if (prefix !== null && !isCidr(prefix)) return fault('HTTPBadRequest', `Invalid input for remote_ip_prefix. Reason: '${prefix}' is not a valid IP subnet.`);
  if (prefix !== null && prefix.includes(':') !== (ethertype === 'IPv6')) return fault('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${prefix}`);
  if (body.remote_group_id && !state.securityGroups.has(body.remote_group_id)) return fault('SecurityGroupNotFound', `Security group ${body.remote_group_id} does not exist`, 404);
  return {
    id: newId(),
    security_group_id: body.security_group_id,
    direction: body.direction,
    ethertype,
    protocol,
    port_range_min: min,
    port_range_max: max,
    remote_ip_prefix: prefix,
    remote_group_id: body.remote_group_id ?? null,
    description: typeof body.description === 'string' ? body.description : '',
  };
};

const isReply = (value: unknown): value is Reply => isRecord(value) && typeof value.status === 'number';

/**
 * `POST /security-group-rules` with one rule or a bulk: all made or none. A rule the group has
 * already is 409 `SecurityGroupRuleExists` naming it; two alike in one bulk, 409
 * `DuplicateSecurityGroupRuleInPost`.
 */
export const createRules = (context: RequestContext, bodies: unknown[], bulk: boolean): Reply => {
  const made: Rule[] = [];
  for (const body of bodies) {
    if (!isRecord(body)) return fault('HTTPBadRequest', 'Resource body required: security_group_rule');
    const rule = makeRule(context.state, body);
    if (isReply(rule)) return rule;
    made.push(rule);
  }
  const meanings = made.map(meaning);
  if (new Set(meanings).size < meanings.length) return fault('DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.', 409);
  for (const rule of made) {
    const existing = [...context.state.rules.values()].find((other) => meaning(other) === meaning(rule));
    if (existing) return fault('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${existing.id}.`, 409);
  }
  for (const rule of made) context.state.rules.set(rule.id, rule);
  return { status: 201, body: bulk ? { security_group_rules: made.map(ruleView) } : { security_group_rule: ruleView(made[0] as Rule) } };
};
