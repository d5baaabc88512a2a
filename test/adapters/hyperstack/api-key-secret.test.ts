import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { hyperstackProviderFromSecret } from '#adapters/aws-providers';
import { apiKeyFromSecret, hyperstackSettingsFromSecret } from '#adapters/hyperstack/api-key-secret';
import { HyperstackContract } from '../../contract/hyperstack/server.ts';

const secrets = mockClient(SecretsManagerClient);
const started: HyperstackContract[] = [];
afterEach(async () => {
  secrets.reset();
  await Promise.all(started.splice(0).map((cloud) => cloud.close()));
});

describe('the hyperstack API key secret of a deployed function', () => {
  it('holds the key alone or as {"HYPERSTACK_API_KEY": …}; what to boot comes from the environment', () => {
    const boot = { HYPERSTACK_ENVIRONMENT: 'env', HYPERSTACK_IMAGE: 'img', HYPERSTACK_KEY_NAME: 'key' };

    expect(hyperstackSettingsFromSecret(' k-123\n', boot)).toEqual({ apiKey: 'k-123', apiUrl: 'https://infrahub-api.nexgencloud.com/v1', environment: 'env', image: 'img', keyName: 'key' });
    expect(hyperstackSettingsFromSecret(JSON.stringify({ HYPERSTACK_API_KEY: 'k-456' }), { ...boot, HYPERSTACK_API_URL: 'https://h.example.org/v1/' })).toMatchObject({ apiKey: 'k-456', apiUrl: 'https://h.example.org/v1' });
    expect(() => hyperstackSettingsFromSecret('k', {})).toThrow(/HYPERSTACK_ENVIRONMENT: is required/);
  });

  it('refuses anything else, without repeating the secret’s text', () => {
    const refusal = (text: string) => {
      try {
        apiKeyFromSecret(text);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refusal('two words-secretish')).toMatch(/the key alone/);
    expect(refusal('{"HYPERSTACK_API_KEY": "k", "HYPERSTACK_IMAGE": "x"}')).toMatch(/HYPERSTACK_API_KEY only: not HYPERSTACK_IMAGE/);
    expect(refusal('{"HYPERSTACK_API_KEY": ""}')).toMatch(/non-empty string/);
    expect(refusal('{not json secretish')).toMatch(/neither the key nor a JSON object/);
    expect(['two words-secretish', '{not json secretish'].map(refusal).join(' ')).not.toMatch(/secretish/);
  });

  it('connects the provider from the secret; an Infrahub that refuses the key leaves the provider out instead of failing the function', async () => {
    const cloud = await new HyperstackContract().start();
    started.push(cloud);
    const { HYPERSTACK_API_KEY, ...boot } = cloud.env();
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:key' }).resolves({ SecretString: HYPERSTACK_API_KEY });
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:wrong' }).resolves({ SecretString: JSON.stringify({ HYPERSTACK_API_KEY: 'not-the-key' }) });

    const providers = await hyperstackProviderFromSecret({ HYPERSTACK_API_KEY_SECRET_ARN: 'arn:key', ...boot }, new SecretsManagerClient({}));

    expect(providers.map((provider) => provider.name)).toEqual(['hyperstack']);
    expect(providers[0]?.resolveFlavor({ vcpus: 4, ramMb: 4096, diskGb: 40 })).toBe('n1-cpu-medium');
    expect(await hyperstackProviderFromSecret({ HYPERSTACK_API_KEY_SECRET_ARN: 'arn:wrong', ...boot }, new SecretsManagerClient({}))).toEqual([]);
    expect(cloud.calls.filter((call) => call.status === 401)).toHaveLength(1);
    expect(await hyperstackProviderFromSecret(boot, new SecretsManagerClient({}))).toEqual([]);
  });
});
