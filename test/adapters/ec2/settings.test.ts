import { describe, expect, it } from 'vitest';
import { setup } from './support.ts';

describe('Ec2Provider settings', () => {
  it('is named ec2 and defaults to batches of 50, a 60 s boot and a 300 s configuration', () => {
    // Act
    const { provider } = setup();

    // Assess
    expect(provider.name).toBe('ec2');
    expect(provider.maxBatchSize).toBe(50);
    expect(provider.timings).toEqual({ expectedBootSeconds: 60, expectedConfigurationSeconds: 300 });
  });

  it('gives SSH runners the image\'s login user (admin unless set) and the Amazon Time Sync address as inventory variables', () => {
    expect(setup().provider.inventoryVars).toEqual({ ansible_user: 'admin', ntp_servers: ['169.254.169.123'] });
    expect(setup({ loginUser: 'ubuntu' }).provider.inventoryVars).toMatchObject({ ansible_user: 'ubuntu' });
    expect(() => setup({ loginUser: 'root; rm -rf /' })).toThrow(/loginUser: must be a user name/);
  });

  it('refuses settings without subnets, naming the setting', () => {
    // Act
    const make = () => setup({ subnetIds: [] });

    // Assess
    expect(make).toThrow(/invalid ec2 provider settings: subnetIds: needs at least one subnet/);
  });

  it('refuses an ansible profile when no playbook source is set', () => {
    // Act
    const make = () => setup({ configuration: { profiles: { lambda: { components: ['common'], run: { kind: 'ansible', playbookFile: 'lambda.yml' } } } } });

    // Assess
    expect(make).toThrow(/configuration: .*no playbook source|neither it nor the settings name a playbook source/);
  });
});
