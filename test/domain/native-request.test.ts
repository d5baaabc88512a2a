import { describe, expect, it } from 'vitest';
import { nativeCreateRequestSchema, nativeToSpec } from '#domain/native-request';
import { issuesToDetails } from '#domain/validation';
import { nativeBody } from '../support/http.ts';

const problems = (body: unknown) => {
  const result = nativeCreateRequestSchema.safeParse(body);
  return result.success ? [] : issuesToDetails(result.error.issues, body).map((d) => d.path);
};

describe('the native create request schema', () => {
  it('fills the documented defaults', () => {
    const parsed = nativeCreateRequestSchema.parse(nativeBody(1));

    expect(parsed.network).toEqual({ privateNetworks: 1, publicIp: 'master', securityRules: [] });
    expect(parsed.configuration).toEqual({ profile: 'none', parameters: {} });
    expect(parsed.onFailure).toBe('rollback');
  });

  it('accepts every optional field at once', () => {
    const body = nativeBody(2, {
      provider: 'local',
      region: 'eu-1',
      zone: 'eu-1a',
      image: 'debian-12',
      keyName: 'ops',
      userData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
      tags: { team: 'data', env: 'test' },
      network: { privateNetworks: 2, publicIp: 'all', securityRules: [{ direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 }] },
      configuration: { profile: 'lambda', parameters: { kafka_partitions: 6, flink: true } },
      callbackUrl: 'https://hooks.example.org/clusters',
      onFailure: 'keep',
      ttlHours: 48,
    });

    expect(problems(body)).toEqual([]);
  });

  it.each([
    ['two masters', { nodeGroups: [{ name: 'a', role: 'master', count: 1, vcpus: 1, ramMb: 1024, diskGb: 10 }, { name: 'b', role: 'master', count: 1, vcpus: 1, ramMb: 1024, diskGb: 10 }] }, 'nodeGroups'],
    ['a master group of two', { nodeGroups: [{ name: 'a', role: 'master', count: 2, vcpus: 1, ramMb: 1024, diskGb: 10 }] }, 'nodeGroups'],
    ['a group name used twice', { nodeGroups: [{ name: 'a', role: 'master', count: 1, vcpus: 1, ramMb: 1024, diskGb: 10 }, { name: 'a', role: 'worker', count: 1, vcpus: 1, ramMb: 1024, diskGb: 10 }] }, 'nodeGroups.1.name'],
    ['more than 1000 nodes', { nodeGroups: [{ name: 'm', role: 'master', count: 1, vcpus: 1, ramMb: 1024, diskGb: 10 }, { name: 'w', role: 'worker', count: 1000, vcpus: 1, ramMb: 1024, diskGb: 10 }] }, 'nodeGroups'],
    ['user data that is not base64', { userData: 'not base64!' }, 'userData'],
    ['a port range upside down', { network: { securityRules: [{ direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 90, portRangeMax: 80 }] } }, 'network.securityRules.0.portRangeMin'],
    ['a rule without a CIDR', { network: { securityRules: [{ direction: 'ingress', protocol: 'tcp', remoteIpPrefix: 'anywhere' }] } }, 'network.securityRules.0.remoteIpPrefix'],
    ['an unknown profile', { configuration: { profile: 'kubernetes' } }, 'configuration.profile'],
    ['a ttl of zero hours', { ttlHours: 0 }, 'ttlHours'],
    ['a callback with another scheme', { callbackUrl: 'ftp://example.org/x' }, 'callbackUrl'],
  ])('refuses %s, naming the field', (_, extra, path) => {
    expect(problems({ ...nativeBody(1), ...extra })).toContain(path);
  });

  it.each([
    ['an ICMP rule with ports (ports are for tcp and udp)', { protocol: 'icmp', portRangeMin: 8 }, 'network.securityRules.0.portRangeMin'],
    ['an any-protocol rule with ports', { protocol: 'any', portRangeMax: 80 }, 'network.securityRules.0.portRangeMax'],
    ['an IPv6 prefix under ethertype IPv4', { remoteIpPrefix: '2001:db8::/32' }, 'network.securityRules.0.ethertype'],
    ['an IPv4 prefix under ethertype IPv6', { ethertype: 'IPv6', remoteIpPrefix: '10.0.0.0/8' }, 'network.securityRules.0.ethertype'],
    ['a prefix with host bits set', { remoteIpPrefix: '10.0.0.1/8' }, 'network.securityRules.0.remoteIpPrefix'],
    ['an IPv6 prefix with host bits set', { ethertype: 'IPv6', remoteIpPrefix: '2001:db8::1/64' }, 'network.securityRules.0.remoteIpPrefix'],
    ['an address out of range', { remoteIpPrefix: '300.0.0.0/8' }, 'network.securityRules.0.remoteIpPrefix'],
    ['a prefix length out of range', { remoteIpPrefix: '10.0.0.0/33' }, 'network.securityRules.0.remoteIpPrefix'],
  ])('refuses a security rule with %s, naming the field', (_, change, path) => {
    const rule = { direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.0.0.0/8', ...change };

    expect(problems(nativeBody(1, { network: { securityRules: [rule] } }))).toEqual([path]);
  });

  it.each([
    ['tcp, one port', { protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }],
    ['udp, open-ended', { protocol: 'udp', portRangeMin: 8000 }],
    ['icmp, no ports', { protocol: 'icmp' }],
    ['IPv6', { ethertype: 'IPv6', remoteIpPrefix: '2001:db8:1234::/48' }],
    ['one IPv6 host', { ethertype: 'IPv6', remoteIpPrefix: '2001:db8::1/128' }],
    ['everywhere', { remoteIpPrefix: '0.0.0.0/0' }],
  ])('accepts a security rule: %s', (_, change) => {
    const rule = { direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.0.0.0/8', ...change };

    expect(problems(nativeBody(1, { network: { securityRules: [rule] } }))).toEqual([]);
  });

  it('refuses security rules on a cluster without private networks, where there is nothing to apply them to', () => {
    const rule = { direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 };

    expect(problems(nativeBody(1, { network: { privateNetworks: 0, securityRules: [rule] } }))).toEqual(['network.securityRules']);
    expect(problems(nativeBody(1, { network: { privateNetworks: 0 } }))).toEqual([]);
  });

  it.each(['cluster-service:cluster-id', 'managed-by', 'Name', 'name', 'Managed-By', 'cluster-service:role', 'CLUSTER-SERVICE:anything', 'aws:cloudformation:stack-name', 'AWS:x'])(
    'refuses the reserved tag key %s with a 400 detail naming tags.<key>',
    (key) => {
      const body = nativeBody(1, { tags: { team: 'data', [key]: 'spoofed' } });

      const result = nativeCreateRequestSchema.safeParse(body);

      expect(result.success).toBe(false);
      const details = issuesToDetails(result.error?.issues ?? [], body);
      expect(details).toEqual([{ path: `tags.${key}`, message: expect.stringMatching(/reserved/) }]);
    },
  );

  it('accepts tag keys that only contain a reserved word', () => {
    expect(problems(nativeBody(1, { tags: { 'team-name': 'data', 'my-aws:x': 'y', 'cluster-service': 'z', 'managed-by-team': 'ops' } }))).toEqual([]);
  });

  it('refuses configuration parameters named ansible_*, which would outrank the inventory', () => {
    const body = nativeBody(1, { configuration: { profile: 'script', parameters: { ansible_host: '203.0.113.9', script_b64: 'ZWNobw==' } } });

    const paths = problems(body);

    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(/^configuration\.parameters/);
  });

  it('takes configuration.runner ssm or container, and nothing else', () => {
    const runner = (value: unknown) => problems(nativeBody(1, { configuration: { profile: 'lambda', runner: value } }));

    expect(runner('container')).toEqual([]);
    expect(runner('ssm')).toEqual([]);
    expect(runner('provider')).toEqual(['configuration.runner']);
    expect(nativeCreateRequestSchema.parse(nativeBody(1, { configuration: { profile: 'lambda', runner: 'container' } })).configuration.runner).toBe('container');
  });

  it('names servers after the cluster and the group, and sizes flavor groups from the provider', () => {
    const parsed = nativeCreateRequestSchema.parse(
      nativeBody(0, { name: 'Big Data Lab', nodeGroups: [{ name: 'head', role: 'master', count: 1, flavor: 'c4r8192d40' }] }),
    );

    const spec = nativeToSpec(parsed, 'local', () => ({ vcpus: 4, ramMb: 8192, diskGb: 40 }));

    expect(spec.nodeGroups).toEqual([{ name: 'head', role: 'master', count: 1, hostname: 'big-data-lab-head', flavor: 'c4r8192d40', vcpus: 4, ramMb: 8192, diskGb: 40 }]);
  });
});
