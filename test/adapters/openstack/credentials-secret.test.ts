import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { openStackProviderFromSecret } from '#adapters/aws-providers';
import { openStackSettingsFromSecret } from '#adapters/openstack/credentials-secret';
import { contractCloud } from './support.ts';

const secrets = mockClient(SecretsManagerClient);
afterEach(() => secrets.reset());

const CLOUDS_YAML = `clouds:
  prod:
    auth:
      auth_url: https://keystone.example.org:5000
      username: svc
      password: s3cret
      project_name: clusters
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
`;

describe('the openstack credentials secret of a deployed function', () => {
  it('reads a clouds.yaml document: its only cloud, or the one OPENSTACK_CLOUD names; what to boot comes from the environment', () => {
    const settings = openStackSettingsFromSecret(CLOUDS_YAML, { OPENSTACK_IMAGE: 'debian-12', OPENSTACK_LOGIN_USER: 'admin' });

    expect(settings).toMatchObject({ authUrl: 'https://keystone.example.org:5000/v3', region: 'RegionOne', image: 'debian-12', loginUser: 'admin' });
    expect(settings.auth).toMatchObject({ type: 'password', password: 's3cret' });
    const two = `${CLOUDS_YAML}  test:\n    auth: {auth_url: 'https://t:5000', username: u, password: p, project_name: x}\n`;
    expect(() => openStackSettingsFromSecret(two, { OPENSTACK_IMAGE: 'i' })).toThrow(/OPENSTACK_CLOUD: is required: .*several clouds \(prod, test\)/);
    expect(openStackSettingsFromSecret(two, { OPENSTACK_IMAGE: 'i', OPENSTACK_CLOUD: 'test' }).authUrl).toBe('https://t:5000/v3');
  });

  it('reads a JSON object of the OS_* login variables, and refuses anything else in it', () => {
    const json = JSON.stringify({ OS_AUTH_URL: 'https://k:5000/v3', OS_APPLICATION_CREDENTIAL_ID: 'cred', OS_APPLICATION_CREDENTIAL_SECRET: 'shh' });

    expect(openStackSettingsFromSecret(json, { OPENSTACK_IMAGE: 'img' }).auth).toEqual({ type: 'application_credential', credential: { id: 'cred' }, secret: 'shh' });
    expect(() => openStackSettingsFromSecret(JSON.stringify({ OS_AUTH_URL: 'https://k', OPENSTACK_IMAGE: 'evil' }), { OPENSTACK_IMAGE: 'img' })).toThrow(/OS_\* login variables only.*OPENSTACK_IMAGE/);
    expect(() => openStackSettingsFromSecret('{not json', {})).toThrow(/neither a JSON object/);
  });

  it('connects the provider from the secret once; a cloud that refuses leaves the provider out instead of failing the function', async () => {
    const cloud = await contractCloud();
    const { OPENSTACK_IMAGE, OPENSTACK_EXTERNAL_NETWORK, OPENSTACK_KEY_NAME: _key, ...login } = cloud.env();
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:secret' }).resolves({ SecretString: JSON.stringify(login) });

    const providers = await openStackProviderFromSecret({ OPENSTACK_CREDENTIALS_SECRET_ARN: 'arn:secret', OPENSTACK_IMAGE, OPENSTACK_EXTERNAL_NETWORK }, new SecretsManagerClient({}));

    expect(providers.map((provider) => provider.name)).toEqual(['openstack']);
    expect(providers[0]?.resolveFlavor({ vcpus: 4, ramMb: 4096, diskGb: 40 })).toBe('m1.large');
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:wrong' }).resolves({ SecretString: JSON.stringify({ ...login, OS_PASSWORD: 'nope' }) });
    expect(await openStackProviderFromSecret({ OPENSTACK_CREDENTIALS_SECRET_ARN: 'arn:wrong', OPENSTACK_IMAGE }, new SecretsManagerClient({}))).toEqual([]);
    expect(await openStackProviderFromSecret({}, new SecretsManagerClient({}))).toEqual([]);
  });
});
