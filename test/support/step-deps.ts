/**
 * One workflow step at a time, as the step tests call them: a fresh table for each test (each
 * starts from its own record under the same cluster id) and the step's dependencies over it.
 */
import { afterEach, beforeEach } from 'vitest';
import type { StepDeps } from '#use-cases/workflow/index';
import { providerRegistry } from '#domain/providers';
import type { CloudProvider } from '#domain/provider';
import { startTestTable, type TestTable } from './dynamodb.ts';

export const stepTablePerTest = (config: Partial<StepDeps['config']> = {}) => {
  let table: TestTable | undefined;
  beforeEach(async () => {
    table = await startTestTable();
  });
  afterEach(() => table?.stop());
  const current = (): TestTable => {
    if (!table) throw new Error('the table exists only inside a test');
    return table;
  };
  return {
    get table() {
      return current();
    },
    depsFor: (provider: CloudProvider): StepDeps => ({
      clusters: current().clusters,
      quotas: current().quotas,
      providers: providerRegistry([provider]),
      config: { SERVER_BOOT_TIMEOUT_SECONDS: 30, CONFIGURATION_AGENT_TIMEOUT_SECONDS: 30, CONFIGURATION_TIMEOUT_SECONDS: 600, POLL_INTERVAL_SECONDS: 1, ...config },
    }),
  };
};
