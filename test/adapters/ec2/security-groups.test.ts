import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { ipPermissionOf } from '#adapters/ec2/index';
import type { SecurityRule } from '#domain/model';
import { CLUSTER, CLUSTER_TAGS, setup, ec2Exception } from './support.ts';

describe('Ec2Provider.createNetworks', () => {
  it('makes one tagged security group per private network, open between its members', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-0` }).resolves({ GroupId: 'sg-0001' });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-1` }).resolves({ GroupId: 'sg-0002' });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });

    // Assess
    expect(ids).toEqual(['sg-0001', 'sg-0002']);
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)[0]?.args[0].input).toMatchObject({
      GroupName: `${CLUSTER}-net-0`,
      VpcId: 'vpc-0abc',
      TagSpecifications: [{ ResourceType: 'security-group', Tags: expect.arrayContaining(CLUSTER_TAGS) }],
    });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input)).toEqual([
      { GroupId: 'sg-0001', IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0001' }] }] },
      { GroupId: 'sg-0002', IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0002' }] }] },
    ]);
  });

  it('finds the groups an earlier call made by tag and name, and makes nothing again', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [1, 0].map((i) => ({
        GroupId: `sg-000${i + 1}`,
        GroupName: `${CLUSTER}-net-${i}`,
        IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: `sg-000${i + 1}` }] }],
      })),
    });

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 2 });

    // Assess
    expect(ids).toEqual(['sg-0001', 'sg-0002']);
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'vpc-id', Values: ['vpc-0abc'] },
      { Name: 'tag:cluster-service:cluster-id', Values: [CLUSTER] },
      { Name: 'tag:managed-by', Values: ['cluster-service'] },
    ]);
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
  });
});

describe('Ec2Provider security rules', () => {
  const rule = (change: Partial<SecurityRule>): SecurityRule => ({ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', ...change });
  const members = (groupId: string) => ({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }] });

  it.each([
    ['tcp 22', rule({ portRangeMin: 22, portRangeMax: 22 }), { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    ['udp from 8000 up', rule({ protocol: 'udp', portRangeMin: 8000 }), { IpProtocol: 'udp', FromPort: 8000, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    ['tcp without ports', rule({}), { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    ['icmp', rule({ protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' }), { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    ['icmp over IPv6', rule({ protocol: 'icmp', ethertype: 'IPv6', remoteIpPrefix: '::/0' }), { IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    ['any protocol over IPv6', rule({ protocol: 'any', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }), { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }] }],
  ])('maps %s to EC2’s IpPermission', (_, securityRule, permission) => {
    expect(ipPermissionOf(securityRule)).toEqual(permission);
  });

  it('adds the client’s ingress rules to every security group of the cluster, after the members’ rule, in one call per group', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-0` }).resolves({ GroupId: 'sg-0001' });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `${CLUSTER}-net-1` }).resolves({ GroupId: 'sg-0002' });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const rules = [rule({ portRangeMin: 22, portRangeMax: 22 }), rule({ protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' }), rule({ portRangeMin: 22, portRangeMax: 22 })];

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 2, securityRules: rules });

    // Assess
    const clientPermissions = [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ];
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input)).toEqual([
      members('sg-0001'),
      { GroupId: 'sg-0001', IpPermissions: clientPermissions },
      members('sg-0002'),
      { GroupId: 'sg-0002', IpPermissions: clientPermissions },
    ]);
  });

  it('adds only the rules a group found again lacks, and none when it has them all', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: 'sg-0001',
          GroupName: `${CLUSTER}-net-0`,
          IpPermissions: [
            { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0001' }] },
            // As EC2 describes it: one permission per protocol and ports, its ranges together.
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '192.0.2.0/24' }, { CidrIp: '10.0.0.0/8' }] },
          ],
        },
      ],
    });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });

    // Act
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 }), rule({ portRangeMin: 443, portRangeMax: 443 })] });
    const calls = ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input);
    await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 })] });

    // Assess
    expect(calls).toEqual([{ GroupId: 'sg-0001', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }]);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it('counts InvalidPermission.Duplicate as done: after a duplicate answer it adds the rules one by one, each duplicate skipped', async () => {
    // Prepare: a concurrent call already added the tcp 22 rule, which the group was described without
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupName: `${CLUSTER}-net-0`, ...members('sg-0001') }] });
    const added: string[] = [];
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).callsFake((input: { IpPermissions: { FromPort?: number }[] }) => {
      if (input.IpPermissions.some((permission) => permission.FromPort === 22)) {
        throw ec2Exception('InvalidPermission.Duplicate', 'the specified rule already exists', 'client', 400);
      }
      added.push(...input.IpPermissions.map((permission) => String(permission.FromPort)));
      return { Return: true };
    });

    // Act
    const ids = await provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 }), rule({ portRangeMin: 443, portRangeMax: 443 })] });

    // Assess
    expect(ids).toEqual(['sg-0001']);
    expect(added).toEqual(['443']);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input.IpPermissions?.length)).toEqual([2, 1, 1]);
  });

  it('fails on any other refusal of a rule with EC2’s code', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupName: `${CLUSTER}-net-0`, ...members('sg-0001') }] });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Exception('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.', 'client', 400));

    // Act
    const made = provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ portRangeMin: 22, portRangeMax: 22 })] });

    // Assess
    await expect(made).rejects.toMatchObject({ name: 'RulesPerSecurityGroupLimitExceeded' });
  });

  it('refuses an egress rule with UnsupportedSecurityRule before making any group', async () => {
    // Prepare
    const { provider, ec2Mock } = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    // Act
    const made = provider.createNetworks({ clusterId: CLUSTER, count: 1, securityRules: [rule({ direction: 'egress' })] });

    // Assess
    await expect(made).rejects.toMatchObject({ name: 'UnsupportedSecurityRule' });
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
  });
});
