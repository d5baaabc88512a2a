import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failedStepOf } from '#domain/failed-step';
import type { Workflows } from '#domain/workflow';
import { retryOwnCluster } from '#use-cases/change-cluster';
import { runStep, type StepDeps } from '#use-cases/workflow-steps';
import { clusterRecord } from '../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../support/dynamodb.ts';

const caught = { Error: 'TransientProviderError', Cause: '{"errorType":"TransientProviderError","errorMessage":"SSM unreachable"}' };
const failure = { code: 'TransientProviderError', message: 'SSM unreachable' };

describe('the failed step, from what the failing state’s Catch filed', () => {
  it('is the step the error was filed under, whatever phase the record was left in', () => {
    const found = failedStepOf({ configure: caught }, { status: 'PROVISIONING', phase: 'allocate-ips' });

    expect(found).toEqual({ step: 'configure', error: caught });
  });

  it('names the step by its phase', () => {
    expect(failedStepOf({ 'describe-servers': caught }, { status: 'PROVISIONING', phase: 'create-servers' })?.step).toBe('wait-servers');
    expect(failedStepOf({ activate: caught }, { status: 'CONFIGURING', phase: 'configure:flink' })?.step).toBe('ready');
    expect(failedStepOf({ 'record-destroyed': caught })?.step).toBe('destroyed');
  });

  it('takes the component a configuration step stopped at from the record', () => {
    expect(failedStepOf({ 'check-configuration': caught }, { status: 'CONFIGURING', phase: 'configure:hdfs' })?.step).toBe('configure:hdfs');
    expect(failedStepOf({ 'run-container': caught }, { status: 'CONFIGURING', phase: 'configure:kafka' })?.step).toBe('configure:kafka');
    expect(failedStepOf({ 'run-container': caught }, { status: 'CONFIGURING', phase: 'configure:container' })?.step).toBe('configure:container');
  });

  it('never takes a phase of another step from the record', () => {
    expect(failedStepOf({ 'allocate-ips': caught }, { status: 'CONFIGURING', phase: 'configure:common' })?.step).toBe('allocate-ips');
  });

  it('is undefined when nothing was filed', () => {
    expect(failedStepOf(undefined, { status: 'PROVISIONING', phase: 'plan' })).toBeUndefined();
    expect(failedStepOf({}, { status: 'PROVISIONING', phase: 'plan' })).toBeUndefined();
  });
});

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
