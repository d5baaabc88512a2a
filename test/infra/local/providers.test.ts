import { afterEach, describe, expect, it } from 'vitest';
import type { CloudProvider } from '#domain/provider';
import { ConfigError } from '#lib/config';
import { readLocalConfig } from '../../../infra/local/config.ts';
import { localProviders } from '../../../infra/local/providers.ts';
import { ContractCloud } from '../../contract/openstack/server.ts';

const local = { name: 'local' } as CloudProvider;
const EC2_ENV = { AWS_REGION: 'eu-west-1', EC2_VPC_ID: 'vpc-0abc', EC2_SUBNET_IDS: 'subnet-0a', EC2_IMAGE_ID: 'ami-0123', EC2_INSTANCE_PROFILE_ARN: 'arn:aws:iam::123456789012:instance-profile/nodes' };

const clouds: ContractCloud[] = [];
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((cloud) => cloud.close()));
});
const contractCloud = async () => {
  const cloud = await new ContractCloud().start();
  clouds.push(cloud);
  return cloud;
};

describe('local mode’s providers', () => {
  it('has the emulated cloud alone when no other cloud’s settings are present, and says why each other one is missing', async () => {
    const { providers, availability } = await localProviders(local, 'local', {});

    expect(providers.map((provider) => provider.name)).toEqual(['local']);
    expect(availability).toEqual([
      { name: 'local', available: true, reason: 'the emulated cloud' },
      { name: 'ec2', available: false, reason: 'EC2_VPC_ID is not set' },
      { name: 'openstack', available: false, reason: 'neither OS_CLOUD nor OS_AUTH_URL is set' },
      { name: 'hyperstack', available: false, reason: 'HYPERSTACK_API_KEY is not set' },
      { name: 'lightsail', available: false, reason: expect.stringContaining('lightsail') },
    ]);
  });

  it('builds ec2 from its EC2_* settings and openstack from the OS_* variables, next to the emulated cloud', async () => {
    const cloud = await contractCloud();

    const { providers, availability } = await localProviders(local, 'openstack', { ...EC2_ENV, ...cloud.env() });

    expect(providers.map((provider) => provider.name)).toEqual(['local', 'ec2', 'openstack']);
    expect(availability.filter((entry) => entry.available).map((entry) => entry.name)).toEqual(['local', 'ec2', 'openstack']);
    expect(availability.find((entry) => entry.name === 'openstack')?.reason).toContain(cloud.url);
  });

  it('refuses to start when PROVIDER names a cloud whose settings are absent, saying which', async () => {
    const attempt = localProviders(local, 'openstack', {});

    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow('PROVIDER=openstack is not available: neither OS_CLOUD nor OS_AUTH_URL is set');
  });

  it('refuses to start when PROVIDER names a cloud whose settings are wrong, naming the variable at fault', async () => {
    const cloud = await contractCloud();
    const { OS_PASSWORD: _password, ...env } = cloud.env();

    await expect(localProviders(local, 'openstack', env)).rejects.toThrow(/^PROVIDER=openstack: .*OS_PASSWORD: is required/);
  });

  it('leaves a cloud with wrong settings out when it is not the default, and says why', async () => {
    const cloud = await contractCloud();

    const { providers, availability } = await localProviders(local, 'local', { ...cloud.env(), OS_PASSWORD: 'not-the-password' });

    expect(providers.map((provider) => provider.name)).toEqual(['local']);
    const openstack = availability.find((entry) => entry.name === 'openstack');
    expect(openstack?.available).toBe(false);
    expect(openstack?.reason).toMatch(/auth/i);
  });

  it('takes PROVIDER as the default provider, over DEFAULT_PROVIDER', () => {
    expect(readLocalConfig({ PROVIDER: 'openstack', DEFAULT_PROVIDER: 'ec2' }).DEFAULT_PROVIDER).toBe('openstack');
    expect(readLocalConfig({ DEFAULT_PROVIDER: 'ec2' }).DEFAULT_PROVIDER).toBe('ec2');
    expect(() => readLocalConfig({ PROVIDER: 'azure' })).toThrow(/PROVIDER: /);
  });
});
