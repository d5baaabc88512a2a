import { describe, expect, it } from 'vitest';
import { CLUSTER_ID_TAG, MANAGED_BY_TAG, MAX_CLIENT_TAGS, ROLE_TAG } from '#adapters/ec2/index';
import type { SecurityRule } from '#domain/model';
import { isReservedTagKey } from '#domain/tags';
import { setup } from './support.ts';

describe('Ec2Provider.checkOptions', () => {
  const ingress = (change: Partial<SecurityRule> = {}): SecurityRule => ({ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22, ...change });

  it('finds nothing to refuse in what EC2 in its region can do', () => {
    const { provider } = setup();

    const details = provider.checkOptions({
      options: { region: 'eu-west-1', zone: 'eu-west-1b', image: 'ami-0fedcba9876543210', keyName: 'ops', userData: Buffer.alloc(16_384).toString('base64'), tags: { team: 'data' } },
      securityRules: [ingress(), ingress({ protocol: 'any', remoteIpPrefix: '2001:db8::/32', ethertype: 'IPv6' })],
      privateNetworks: 1,
    });

    expect(details).toEqual([]);
  });

  it('names each field EC2 here cannot honour, with the native body’s paths', () => {
    const { provider } = setup();
    const tags = Object.fromEntries(Array.from({ length: MAX_CLIENT_TAGS + 1 }, (_, i) => [`k${i}`, 'v']));

    const details = provider.checkOptions({
      options: { region: 'us-east-1', zone: 'us-east-1a', image: 'debian-12', userData: Buffer.alloc(16_385).toString('base64'), tags },
      securityRules: [ingress(), ingress({ direction: 'egress' })],
      privateNetworks: 1,
    });

    expect(details.map((detail) => detail.path)).toEqual(['region', 'zone', 'image', 'userData', 'tags', 'network.securityRules.1.direction']);
    expect(details[0]?.message).toBe('region us-east-1 is not served here: this deployment\'s ec2 provider works in eu-west-1');
  });

  it('leaves region and zone to create time when the settings name no region', () => {
    const { provider } = setup({ region: undefined });

    expect(provider.checkOptions({ options: { region: 'us-east-1', zone: 'us-east-1a' }, securityRules: [], privateNetworks: 1 })).toEqual([]);
  });

  it('counts only the client tags it would apply against EC2’s limit', () => {
    const { provider } = setup();
    const tags = { ...Object.fromEntries(Array.from({ length: MAX_CLIENT_TAGS }, (_, i) => [`k${i}`, 'v'])), Name: 'dropped' };

    expect(provider.checkOptions({ options: { tags }, securityRules: [], privateNetworks: 1 })).toEqual([]);
  });

  it('keeps the provider’s own tag keys among those a client may not use', () => {
    expect([CLUSTER_ID_TAG, MANAGED_BY_TAG, ROLE_TAG, 'Name'].every(isReservedTagKey)).toBe(true);
  });
});
