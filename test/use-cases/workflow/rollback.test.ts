import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStep, type StepDeps } from '#use-cases/workflow/index';
import { clusterRecord } from '../../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../../support/dynamodb.ts';

const failure = { code: 'TransientProviderError', message: 'SSM unreachable' };

let table: TestTable;
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(() => table.stop());

describe('the rollback step', () => {
  const rollback = async (input: Record<string, unknown>) => {
    // As a configuration's start leaves it when it fails before it records its own phase.
    const { id, record } = await storeCluster(table, clusterRecord({ status: 'PROVISIONING', phase: 'allocate-ips' }));
    const deps = { clusters: table.clusters, quotas: table.quotas, providers: {}, config: {} } as unknown as StepDeps;
    await runStep(deps, { step: 'rollback', clusterId: id, ...input });
    return record();
  };

  it('records the step the error was filed under', async () => {
    const cluster = await rollback({ failed: { configure: failure } });

    expect(cluster.error).toEqual({ code: 'TransientProviderError', message: 'SSM unreachable', step: 'configure' });
    expect(cluster.phase).toBe('rollback');
  });

  it('keeps the error of an execution whose definition filed it by no step, the phase standing for the step', async () => {
    const cluster = await rollback({ failure });

    expect(cluster.error).toEqual({ code: 'TransientProviderError', message: 'SSM unreachable', step: 'allocate-ips' });
  });
});
