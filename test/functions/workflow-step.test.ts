/**
 * The workflow-step function between Step Functions and the steps: it reads what a Catch put into
 * the state (Lambda's error, or the configuration container's stopped task) into the failures the
 * steps take, and answers "Name the configuration failure" as a caught error.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster } from '#domain/model';
import type { ProviderRegistry } from '#domain/providers';
import { workflowStepHandler } from '../../functions/workflow-step/index.ts';
import { causeMessage, stepFailureOf } from '../../functions/workflow-step/envelopes.ts';
import { clusterRecord } from '../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../support/dynamodb.ts';
import { lambdaContext } from '../support/events.ts';

let table: TestTable;
// A table per test: records are written under fresh ids, and one table keeps them apart.
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(() => table.stop());

/** One invocation of the function, as a Task state makes it. */
const step = (event: Record<string, unknown>) =>
  workflowStepHandler({
    clusters: table.clusters,
    quotas: table.quotas,
    // No step here reaches a provider: the records below made nothing to delete.
    providers: {} as ProviderRegistry,
    config: { SERVER_BOOT_TIMEOUT_SECONDS: 30, CONFIGURATION_AGENT_TIMEOUT_SECONDS: 30, CONFIGURATION_TIMEOUT_SECONDS: 30, POLL_INTERVAL_SECONDS: 1 },
  })(event, lambdaContext) as Promise<Record<string, unknown>>;

const lambdaError = (errorType: string, errorMessage: string) => ({ Error: errorType, Cause: JSON.stringify({ errorType, errorMessage }) });

describe('causeMessage of a stopped ECS task (runTask.sync’s States.TaskFailed cause)', () => {
  it('says the container’s exit code, its reason and the task’s', () => {
    const cause = JSON.stringify({
      TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/configuration/abc',
      StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'configuration', ExitCode: 2, Reason: 'COMPONENT hdfs FAILED analytics-worker-2' }],
    });

    expect(causeMessage(cause)).toBe(
      'the configuration container exited with code 2: COMPONENT hdfs FAILED analytics-worker-2; Essential container in task exited (task arn:aws:ecs:eu-west-1:123456789012:task/configuration/abc)',
    );
  });

  it('says the task stopped when the container never ran (no exit code)', () => {
    const cause = JSON.stringify({ StoppedReason: 'CannotPullContainerError: pull access denied', Containers: [{ Name: 'configuration' }] });

    expect(causeMessage(cause)).toBe('the configuration container stopped: CannotPullContainerError: pull access denied');
  });

  it('still unwraps Lambda’s {errorType, errorMessage}', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'ServerBootFailed', errorMessage: 'two servers failed' }))).toBe('two servers failed');
  });
});

describe('the name-container-failure step (after "Run the configuration container" failed)', () => {
  const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/configuration/abc';
  const stopped = (exitCode: number | undefined) => ({
    Error: 'States.TaskFailed',
    Cause: JSON.stringify({
      TaskArn: TASK,
      StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'configuration', ...(exitCode === undefined ? {} : { ExitCode: exitCode }) }],
    }),
  });
  /** A record of a cluster whose container failed, under an id of its own: one test needs two. */
  const failedAt = (report: Cluster['configurationReport']) =>
    storeCluster(table, clusterRecord({ status: 'CONFIGURING', phase: 'configure:hdfs', ...(report ? { configurationReport: report } : {}) }));
  const name = (clusterId: string, failure: { Error: string; Cause?: string }) => step({ step: 'name-container-failure', clusterId, failure });

  it('names the component and nodes the container’s FAILED lines gave, as ConfigurationFailed, keeping exit code and stop reason', async () => {
    const { id } = await failedAt({ attempt: 1, lineAt: 5, failure: { component: 'hdfs', node: 'analytics-worker-2', nodes: ['analytics-worker-2', 'analytics-worker-3'] } });

    const named = await name(id, stopped(2));

    expect(named.Error).toBe('ConfigurationFailed');
    expect(causeMessage(named.Cause as string)).toBe(
      `configuration failed at hdfs on analytics-worker-2, analytics-worker-3: the configuration container exited with code 2: Essential container in task exited (task ${TASK})`,
    );
  });

  it('asks again (ConfigurationReportPending) while the line has not arrived, or only an older attempt’s has', async () => {
    const none = await failedAt(undefined);
    const older = await failedAt({ attempt: 0, lineAt: 5, failure: { component: 'common', node: 'analytics-master', nodes: ['analytics-master'] } });

    await expect(name(none.id, stopped(2))).rejects.toMatchObject({ name: 'ConfigurationReportPending' });
    await expect(name(older.id, stopped(2))).rejects.toMatchObject({ name: 'ConfigurationReportPending' });
  });

  it('passes every other failure unchanged: bad input, a container that never ran, a timeout', async () => {
    const { id } = await failedAt({ attempt: 1, lineAt: 5, failure: { component: 'hdfs', node: null, nodes: [] } });
    const timeout = { Error: 'States.Timeout', Cause: 'the task ran too long' };

    expect(await name(id, stopped(64))).toEqual(stopped(64));
    expect(await name(id, stopped(undefined))).toEqual(stopped(undefined));
    expect(await name(id, timeout)).toEqual(timeout);
  });
});

describe('the failures a Catch filed, as the failure path’s steps are handed them', () => {
  it('takes the code and message from Lambda’s error, and an exit code only from a stopped task', () => {
    const task = { Error: 'States.TaskFailed', Cause: JSON.stringify({ StoppedReason: 'Essential container in task exited', Containers: [{ Name: 'configuration', ExitCode: 2 }] }) };

    expect(stepFailureOf(lambdaError('ServerBootFailed', 'two servers failed'))).toEqual({ code: 'ServerBootFailed', message: 'two servers failed' });
    expect(stepFailureOf(task)).toEqual({ code: 'States.TaskFailed', message: 'the configuration container exited with code 2: Essential container in task exited', exitCode: 2 });
    expect(stepFailureOf({ Error: 'States.Timeout' })).toEqual({ code: 'States.Timeout', message: '' });
  });

  it('records the error the rollback is handed, filed under its step, with Lambda’s message', async () => {
    // Prepare
    const { id, record } = await storeCluster(table, clusterRecord({ status: 'PROVISIONING', phase: 'allocate-ips' }));

    // Act
    await step({ step: 'rollback', clusterId: id, failed: { configure: lambdaError('TransientProviderError', 'SSM unreachable') } });

    // Assess
    expect((await record()).error).toEqual({ code: 'TransientProviderError', message: 'SSM unreachable', step: 'configure' });
  });

  it('records FAILED with the rollback’s own failure read from the execution’s state', async () => {
    // Prepare: the rollback recorded the error, then failed itself.
    const error = { code: 'ServerBootFailed', message: 'two servers failed', step: 'wait-servers' };
    const { id, record } = await storeCluster(table, clusterRecord({ status: 'PROVISIONING', phase: 'rollback', error }));

    // Act
    await step({ step: 'record-failure', clusterId: id, state: { clusterId: id, rollbackFailure: lambdaError('DeleteRefused', 'the cloud refused') } });

    // Assess
    expect(await record()).toMatchObject({
      status: 'FAILED',
      error: { ...error, message: 'two servers failed; the rollback did not complete (DeleteRefused: the cloud refused)' },
    });
  });
});
