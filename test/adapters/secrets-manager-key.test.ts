import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { secretsManagerKey } from '#adapters/secrets-manager-key';

const secrets = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:PageTokenSecret-abc';

describe('a key kept in Secrets Manager', () => {
  beforeEach(() => secrets.reset());

  it('reads the secret once however often the key is asked for', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: 'k'.repeat(64) });
    const key = secretsManagerKey(ARN, new SecretsManagerClient({ region: 'eu-west-1' }));

    const values = await Promise.all([key(), key(), key()]);

    expect(values).toEqual(['k'.repeat(64), 'k'.repeat(64), 'k'.repeat(64)]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('asks again after a failed read instead of keeping the failure', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'k'.repeat(64) });
    const key = secretsManagerKey(ARN, new SecretsManagerClient({ region: 'eu-west-1' }));

    const first = await key().catch((error: Error) => error.message);
    const second = await key();

    expect(first).toBe('throttled');
    expect(second).toBe('k'.repeat(64));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a secret without a string value', async () => {
    secrets.on(GetSecretValueCommand).resolves({});
    const key = secretsManagerKey(ARN, new SecretsManagerClient({ region: 'eu-west-1' }));

    await expect(key()).rejects.toThrow(/no string value/);
  });
});
