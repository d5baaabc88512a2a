import { describe, expect, it } from 'vitest';
import { nativeCreateRequestSchema, nativeToSpec } from '#domain/native-request';
import { issuesToDetails } from '#lib/http';
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
