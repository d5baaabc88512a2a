/**
 * A cluster's private networks as security groups (docs/ec2-provider.md, "Private networks"):
 * each open between its members and carrying the spec's ingress rules; found by tags and name
 * before anything is made, so a retried call adds only what is missing.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { cidrFamily } from '#domain/cidr';
import { ProviderError } from '#domain/errors';
import type { SecurityRule } from '#domain/model';
import type { CreateNetworksInput } from '#domain/provider';
import { errorName } from '../aws/index.ts';
import { callEc2, callEc2Done, ec2Error, type Ec2Context } from './calls.ts';
import { EGRESS_MESSAGE } from './spec-options.ts';
import { clusterFilters, clusterTags } from './tags.ts';

/**
 * A client's ingress rule as EC2 takes it: tcp/udp with their port range (an absent end is open:
 * 0 or 65535), icmp as every ICMP type (icmpv6 for an IPv6 prefix), any as protocol -1; the
 * prefix's family picks IpRanges or Ipv6Ranges.
 */
export const ipPermissionOf = (rule: SecurityRule): IpPermission => {
  const ipv6 = cidrFamily(rule.remoteIpPrefix) === 'IPv6';
  const ranges = ipv6 ? { Ipv6Ranges: [{ CidrIpv6: rule.remoteIpPrefix }] } : { IpRanges: [{ CidrIp: rule.remoteIpPrefix }] };
  switch (rule.protocol) {
    case 'tcp':
    case 'udp':
      return { IpProtocol: rule.protocol, FromPort: rule.portRangeMin ?? 0, ToPort: rule.portRangeMax ?? 65_535, ...ranges };
    case 'icmp':
      return { IpProtocol: ipv6 ? 'icmpv6' : 'icmp', FromPort: -1, ToPort: -1, ...ranges };
    case 'any':
      return { IpProtocol: '-1', ...ranges };
    default:
      throw new ProviderError('UnsupportedSecurityRule', `protocol ${rule.protocol} is not one ec2 security groups take here (tcp, udp, icmp, any)`);
  }
};

/** Each permission once: EC2 refuses a request that names one twice. */
const uniquePermissions = (permissions: IpPermission[]): IpPermission[] => [...new Map(permissions.map((p) => [JSON.stringify(p), p])).values()];

/** EC2 describes protocols by name where it has one, whatever they were authorized as. */
const PROTOCOL_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };
const protocolName = (protocol: string | undefined): string => PROTOCOL_NAMES[protocol ?? ''] ?? protocol ?? '';

/** Whether a group's permissions already allow what `wanted` (one protocol, ports, one range) does. */
const isCovered = (wanted: IpPermission, existing: readonly IpPermission[]): boolean => {
  const cidr = wanted.IpRanges?.[0]?.CidrIp;
  const cidrIpv6 = wanted.Ipv6Ranges?.[0]?.CidrIpv6;
  return existing.some(
    (permission) =>
      protocolName(permission.IpProtocol) === protocolName(wanted.IpProtocol) &&
      (permission.FromPort ?? -1) === (wanted.FromPort ?? -1) &&
      (permission.ToPort ?? -1) === (wanted.ToPort ?? -1) &&
      (cidr !== undefined
        ? (permission.IpRanges ?? []).some((range) => range.CidrIp === cidr)
        : (permission.Ipv6Ranges ?? []).some((range) => range.CidrIpv6 === cidrIpv6)),
  );
};

/** The groups `<clusterId>-net-<i>`, made where missing, each completed with what it lacks; their ids in order. */
export const createNetworks = async (ctx: Ec2Context, input: CreateNetworksInput): Promise<string[]> => {
  const rules = input.securityRules ?? [];
  if (rules.some((rule) => rule.direction !== 'ingress')) throw new ProviderError('UnsupportedSecurityRule', EGRESS_MESSAGE);
  const wanted = uniquePermissions(rules.map(ipPermissionOf));
  const names = Array.from({ length: input.count }, (_, i) => `${input.clusterId}-net-${i}`);
  if (names.length === 0) return [];
  const existing = new Map((await securityGroups(ctx, input.clusterId)).map((group) => [group.GroupName, group]));
  const ids: string[] = [];
  for (const name of names) {
    const group = existing.get(name) ?? (await createSecurityGroup(ctx, input.clusterId, name));
    const groupId = group.GroupId ?? '';
    const permissions = group.IpPermissions ?? [];
    const open = permissions.some(
      (permission) => permission.IpProtocol === '-1' && (permission.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === groupId),
    );
    if (!open) await allowMembers(ctx, groupId);
    // Every server joins every network, so each group carries the client's rules.
    await allowRules(ctx, groupId, wanted.filter((permission) => !isCovered(permission, permissions)));
    ids.push(groupId);
  }
  return ids;
};

/**
 * One deletion round's part: the cluster's groups, deleted once no instance is left to use them.
 * Answers how many remain.
 */
export const deleteSecurityGroups = async (ctx: Ec2Context, clusterId: string, instancesLeft: number): Promise<number> => {
  const groups = await securityGroups(ctx, clusterId);
  if (instancesLeft > 0) return groups.length;
  let groupsLeft = 0;
  for (const group of groups) {
    // An instance's network interface can outlive it by a little: DependencyViolation means next round.
    const deleted = await callEc2Done(
      'DeleteSecurityGroup',
      () => ctx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId })),
      ['InvalidGroup.NotFound'],
      ['DependencyViolation'],
    );
    if (!deleted) groupsLeft += 1;
  }
  return groupsLeft;
};

const securityGroups = async (ctx: Ec2Context, clusterId: string): Promise<SecurityGroup[]> => {
  const all: SecurityGroup[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callEc2('DescribeSecurityGroups', () =>
      ctx.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: 'vpc-id', Values: [ctx.settings.vpcId] }, ...clusterFilters(ctx, clusterId)],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      ),
    );
    all.push(...(page.SecurityGroups ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  return all;
};

const createSecurityGroup = async (ctx: Ec2Context, clusterId: string, name: string): Promise<SecurityGroup> => {
  try {
    const created = await ctx.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: `Private network ${name} of cluster ${clusterId}`,
        VpcId: ctx.settings.vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: clusterTags(ctx, clusterId, [{ Key: 'Name', Value: name }]) }],
      }),
    );
    return { GroupId: created.GroupId, GroupName: name, IpPermissions: [] };
  } catch (error) {
    // Made by a call that ran at the same time: take that one.
    if (errorName(error) === 'InvalidGroup.Duplicate') {
      const found = (await securityGroups(ctx, clusterId)).find((group) => group.GroupName === name);
      if (found) return found;
    }
    throw ec2Error('CreateSecurityGroup', error);
  }
};

const allowMembers = async (ctx: Ec2Context, groupId: string): Promise<void> => {
  await callEc2(
    'AuthorizeSecurityGroupIngress',
    () =>
      ctx.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }] }),
      ),
    [],
    ['InvalidPermission.Duplicate'],
  );
};

/**
 * Adds the client's ingress rules a group lacks, in one call. A duplicate answer means some
 * were there after all (a concurrent call, or a form EC2 wrote differently): then one call per
 * rule, each duplicate counting as done.
 */
const allowRules = async (ctx: Ec2Context, groupId: string, permissions: IpPermission[]): Promise<void> => {
  if (permissions.length === 0) return;
  const authorize = (list: IpPermission[]) => () => ctx.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: list }));
  const done = await callEc2('AuthorizeSecurityGroupIngress', authorize(permissions), [], [], ['InvalidPermission.Duplicate']);
  if (done !== false || permissions.length === 1) return;
  for (const permission of permissions) {
    await callEc2('AuthorizeSecurityGroupIngress', authorize([permission]), [], ['InvalidPermission.Duplicate']);
  }
};
