/** The local stack for end-to-end tests: in memory, loopback, system-chosen ports, a fast cloud. */
import type { LocalCloudOptions } from '../../infra/local/cloud/index.ts';
import { readLocalConfig } from '../../infra/local/config.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.ts';
import { FAST_CLOUD } from './workflow.ts';

export const startTestStack = (
  options: { cloud?: LocalCloudOptions; env?: Record<string, string> } & Pick<LocalStackOptions, 'webhookRetryDelaysMs' | 'providerEnv' | 'configurationShellEnv'> = {},
): Promise<LocalStack> =>
  startLocalStack({
    config: readLocalConfig({ PORT: '0', DYNAMODB_PORT: '0', HOST: '127.0.0.1', LOCAL_POLL_MS: '20', POLL_INTERVAL_SECONDS: '1', ...options.env }),
    cloud: { ...FAST_CLOUD, ...options.cloud },
    inMemory: true,
    retryMs: 5,
    // Only the clouds a test points at: never the ones this machine's environment may name.
    providerEnv: options.providerEnv ?? {},
    ...(options.configurationShellEnv ? { configurationShellEnv: options.configurationShellEnv } : {}),
    ...(options.webhookRetryDelaysMs ? { webhookRetryDelaysMs: options.webhookRetryDelaysMs } : {}),
  });
