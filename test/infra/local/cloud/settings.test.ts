import { describe, expect, it } from 'vitest';
import { readLocalCloudSettings } from '../../../../infra/local/cloud/settings.ts';

describe('readLocalCloudSettings', () => {
  it('uses the documented defaults when no variable is set', () => {
    // Act
    const settings = readLocalCloudSettings({});

    // Assess
    expect(settings).toEqual({
      bootMs: { min: 1500, max: 4000 },
      configMs: { min: 1000, max: 3000 },
      agentMs: { min: 0, max: 0 },
      deleteMs: { min: 100, max: 400 },
      powerMs: { min: 300, max: 1200 },
      apiLatencyMs: { min: 2, max: 10 },
      maxVcpus: 4096,
      maxServers: 2000,
      failPattern: null,
      configFailPattern: null,
      apiErrorRate: 0,
    });
  });

  it('reads ranges, single numbers, quotas, patterns and the error rate', () => {
    // Act
    const settings = readLocalCloudSettings({
      LOCAL_CLOUD_BOOT_MS: '100-200',
      LOCAL_CLOUD_CONFIG_MS: '50',
      LOCAL_CLOUD_AGENT_MS: '0-90000',
      LOCAL_CLOUD_MAX_VCPUS: '64',
      LOCAL_CLOUD_MAX_SERVERS: '8',
      LOCAL_CLOUD_FAIL_PATTERN: 'fail-me',
      LOCAL_CLOUD_CONFIG_FAIL_PATTERN: '^worker-3$',
      LOCAL_CLOUD_API_ERROR_RATE: '0.25',
    });

    // Assess
    expect(settings).toMatchObject({
      bootMs: { min: 100, max: 200 },
      configMs: { min: 50, max: 50 },
      agentMs: { min: 0, max: 90_000 },
      maxVcpus: 64,
      maxServers: 8,
      apiErrorRate: 0.25,
    });
    expect(settings.failPattern?.test('node-fail-me')).toBe(true);
    expect(settings.configFailPattern?.test('worker-3')).toBe(true);
  });

  it.each([
    ['LOCAL_CLOUD_BOOT_MS', 'abc'],
    ['LOCAL_CLOUD_CONFIG_MS', '3000-1000'],
    ['LOCAL_CLOUD_AGENT_MS', 'soon'],
    ['LOCAL_CLOUD_DELETE_MS', '-5'],
    ['LOCAL_CLOUD_API_LATENCY_MS', '1-2-3'],
    ['LOCAL_CLOUD_MAX_VCPUS', '-1'],
    ['LOCAL_CLOUD_MAX_SERVERS', '2.5'],
    ['LOCAL_CLOUD_API_ERROR_RATE', '1.5'],
    ['LOCAL_CLOUD_API_ERROR_RATE', 'often'],
    ['LOCAL_CLOUD_FAIL_PATTERN', '(unclosed'],
    ['LOCAL_CLOUD_CONFIG_FAIL_PATTERN', '[a-'],
  ])('rejects %s=%s with an error naming the variable', (name, value) => {
    // Act
    const act = () => readLocalCloudSettings({ [name]: value });

    // Assess
    expect(act).toThrow(name);
  });
});
