import { describe, expect, it } from 'vitest';
import { failedStepOf } from '#domain/failed-step';

const caught = { Error: 'TransientProviderError', Cause: '{"errorType":"TransientProviderError","errorMessage":"SSM unreachable"}' };

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
