import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Workflows } from '#domain/workflow';
import { retryOwnCluster } from '#use-cases/change-cluster';
import { clusterRecord } from '../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../support/dynamodb.ts';

let table: TestTable;
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(() => table.stop());

describe('retrying a cluster whose destroy failed', () => {
  const workflows = { executionIdFor: (_kind: string, name: string) => name, start: async () => undefined } as unknown as Workflows;

  it.each(['destroy', 'destroyed'])('is refused (409) when it failed at %s: its resources may be gone', async (step) => {
    const { id, record } = await storeCluster(table, clusterRecord({ status: 'FAILED', phase: 'failed', error: { code: 'DeleteRefused', message: 'no', step } }));

    await expect(
      retryOwnCluster({ clusters: table.clusters, quotas: table.quotas, workflows, quotaDefaults: { vcpus: 100, servers: 100, clusters: 10 } }, 'alpha', id),
    ).rejects.toMatchObject({
      name: 'Conflict',
      details: [{ path: 'error.step', message: step }],
    });
    expect((await record()).status).toBe('FAILED');
  });
});
