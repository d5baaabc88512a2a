import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import validator from 'asl-validator';
import { STEP_NAMES, STEPS, type StepName } from '#use-cases/workflow/index';
import { FAILING_STEPS, type FailingStep } from '#domain/failed-step';
import { STATE_MACHINES } from '../../infra/routes.ts';
import { WORKFLOW_KINDS } from '#domain/workflow';
import { loadDefinition } from '../../infra/local/step-functions.ts';

interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  Retry?: { ErrorEquals: string[]; BackoffRate?: number; JitterStrategy?: string; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Choices?: { Next: string }[];
}

describe.each(WORKFLOW_KINDS)('the %s workflow definition', (kind) => {
  const { file: FILE, substitutions: names } = STATE_MACHINES[kind];
  const text = readFileSync(path.resolve(import.meta.dirname, '../..', FILE), 'utf8');
  const substitutions = Object.fromEntries(names.map((name) => [name, `arn:aws:lambda:eu-west-1:123456789012:function:${name}`]));
  const definition = loadDefinition(FILE, substitutions) as { States: Record<string, State>; TimeoutSeconds?: number };
  const states = Object.entries(definition.States);
  const tasks = states.filter(([, state]) => state.Type === 'Task');
  // Service integrations (`arn:aws:states:::…`) call no step; every other Task calls the step function.
  const integrations = tasks.filter(([, state]) => state.Resource?.startsWith('arn:aws:states:::'));
  const lambdaTasks = tasks.filter(([, state]) => !state.Resource?.startsWith('arn:aws:states:::'));

  /** The states one can come to from `starts` (themselves included), by any transition. */
  const reachableFrom = (starts: string[]): Set<string> => {
    const seen = new Set<string>();
    const next = [...starts];
    for (let name = next.pop(); name !== undefined; name = next.pop()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const state = definition.States[name];
      next.push(...[state?.Next, state?.Default, ...(state?.Choices ?? []).map((c) => c.Next), ...(state?.Catch ?? []).map((c) => c.Next)].filter((n): n is string => n !== undefined));
    }
    return seen;
  };

  it('has a substitution for every ${…} placeholder, and uses every substitution', () => {
    const placeholders = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]));
    expect([...placeholders].sort()).toEqual([...names].sort());
  });

  it('passes asl-validator once substituted', () => {
    const result = validator(definition);
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('gives every step Task a Retry on transient errors with backoff and full jitter', () => {
    for (const [name, state] of lambdaTasks) {
      const transient = state.Retry?.find((retrier) => retrier.ErrorEquals.includes('TransientProviderError'));
      expect(transient, name).toBeDefined();
      expect(transient?.BackoffRate, name).toBeGreaterThan(1);
      expect(transient?.JitterStrategy, name).toBe('FULL');
      expect(state.Retry?.some((retrier) => retrier.ErrorEquals.includes('Lambda.TooManyRequestsException')), name).toBe(true);
    }
  });

  it('gives every ECS Task a Retry on ECS’s transient errors with backoff and full jitter', () => {
    for (const [name, state] of integrations.filter(([, state]) => state.Resource?.startsWith('arn:aws:states:::ecs:'))) {
      const transient = state.Retry?.find((retrier) => retrier.ErrorEquals.includes('ECS.ServerException'));
      expect(transient, name).toBeDefined();
      expect(transient?.ErrorEquals, name).toContain('ECS.AmazonECSException');
      expect(transient?.BackoffRate, name).toBeGreaterThan(1);
      expect(transient?.JitterStrategy, name).toBe('FULL');
      // A failed container is not transient: running the configuration again would not change its result.
      expect(state.Retry?.some((retrier) => retrier.ErrorEquals.includes('States.TaskFailed') || retrier.ErrorEquals.includes('States.ALL')), name).toBe(false);
    }
  });

  it('uses no service integration other than ECS runTask.sync', () => {
    for (const [name, state] of integrations) expect(state.Resource, name).toBe('arn:aws:states:::ecs:runTask.sync');
  });

  it('gives every Task a Catch on States.ALL that leads to a failure path, never back into the happy path', () => {
    const failurePath = new Set([
      'Name the configuration failure',
      'Roll back the cluster',
      'Record the failure',
      'Provisioning failed',
      'Record the destroy failure',
      'Destroy failed',
      'Record the power failure',
      'Stop or start failed',
    ]);
    for (const [name, state] of tasks) {
      const catcher = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(catcher, name).toBeDefined();
      expect(failurePath.has(catcher?.Next ?? ''), `${name} → ${catcher?.Next}`).toBe(true);
      expect(definition.States[catcher?.Next ?? ''], name).toBeDefined();
    }
  });

  // The key a Task files its caught error under: its step; the ECS task runs none, so it has its own.
  const keyOf = (state: State): string => (state.Resource === 'arn:aws:states:::ecs:runTask.sync' ? 'run-container' : String(state.Parameters?.step));
  const isStep = (state: State): boolean => FAILING_STEPS.includes(keyOf(state) as FailingStep);

  it('files every step Task’s caught error under its own step, so the failed step is the state that failed', () => {
    const steps = tasks.filter(([, state]) => isStep(state));
    expect(steps.length).toBeGreaterThan(0);
    for (const [name, state] of steps) {
      expect(state.Catch?.map((c) => c.ResultPath), name).toEqual(state.Catch?.map(() => `$.failed.${keyOf(state)}`));
    }
    expect(new Set(steps.map(([, state]) => keyOf(state))).size, 'one state per step').toBe(steps.length);
  });

  it('hands the failure path what the failing state filed, and files nothing there under a step but the container’s named error', () => {
    for (const [name, state] of tasks.filter(([, state]) => !isStep(state))) {
      for (const catcher of state.Catch ?? []) expect(catcher.ResultPath, name).not.toMatch(/^\$\.failed/);
      const parameters = state.Parameters ?? {};
      if (parameters.step === 'rollback') expect(parameters['failed.$'], name).toBe('$.failed');
      if (['record-failure', 'record-destroy-failure', 'record-power-failure'].includes(String(parameters.step))) expect(parameters['state.$'], name).toBe('$');
      if (parameters.step === 'name-container-failure') {
        expect(parameters['failure.$'], name).toBe('$.failed.run-container');
        expect(state.ResultPath, name).toBe('$.failed.run-container');
      }
    }
  });

  it('leaves the failure path only for the rollback', () => {
    const naming = definition.States['Name the configuration failure'];
    if (kind !== 'provision') {
      expect(naming).toBeUndefined();
      return;
    }
    // It names the caught error, so it must hand the rollback a failure whatever happens.
    expect(naming?.Next).toBe('Roll back the cluster');
    expect(naming?.Catch?.map((c) => c.Next)).toEqual(['Roll back the cluster']);
    expect(naming?.Retry?.find((r) => r.ErrorEquals.includes('ConfigurationReportPending'))?.MaxAttempts).toBeGreaterThan(0);
  });

  it('ends every failure path in a Fail state, so the console shows the execution failed', () => {
    expect(states.filter(([, state]) => state.Type === 'Fail').length).toBeGreaterThan(0);
    // Every state a Catch leads to, and every state after it by Next, Choice, Default or Catch.
    const onFailurePaths = reachableFrom(states.flatMap(([, state]) => (state.Catch ?? []).map((c) => c.Next)));
    const failing = states.filter(([, state]) => state.Type === 'Fail').map(([name]) => name);
    expect(onFailurePaths.size).toBeGreaterThan(0);
    for (const name of onFailurePaths) {
      const state = definition.States[name];
      expect(state, name).toBeDefined();
      // No failure path ends anywhere but in a Fail state…
      expect(state?.End !== true && state?.Type !== 'Succeed', `${name} ends a failure path without failing`).toBe(true);
      // …and none is caught in a loop it cannot leave for one.
      expect(failing.some((fail) => reachableFrom([name]).has(fail)), `${name} reaches no Fail state`).toBe(true);
    }
  });

  it('calls only steps the step handler knows, each from the workflow the step belongs to', () => {
    for (const [name, state] of lambdaTasks) {
      expect(STEP_NAMES, name).toContain(state.Parameters?.step);
      expect(STEPS[state.Parameters?.step as StepName]?.workflow, name).toBe(kind);
    }
  });

  it('has no per-node Map or Parallel state, so transitions do not grow with the node count', () => {
    expect(states.filter(([, state]) => state.Type === 'Map' || state.Type === 'Parallel')).toEqual([]);
  });

  it('has a workflow-level timeout', () => {
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  it('names its states as sentences', () => {
    for (const [name] of states) expect(name).toMatch(/^[A-Z][a-z]+( [a-zA-Z]+)+\??$/);
  });
});

describe('the step table', () => {
  it('has no step that neither workflow calls', () => {
    const called = WORKFLOW_KINDS.flatMap((kind) => {
      const { file, substitutions } = STATE_MACHINES[kind];
      const definition = loadDefinition(file, Object.fromEntries(substitutions.map((name) => [name, `arn:aws:lambda:eu-west-1:123456789012:function:${name}`])));
      return Object.values(definition.States as Record<string, State>).map((state) => state.Parameters?.step);
    });

    expect(STEP_NAMES.filter((step) => !called.includes(step))).toEqual([]);
  });
});
