/**
 * The failed step is the state that failed: every Task state of both workflows is made to fail in
 * turn, in a local execution of the real ASL, and the cluster's `error.step` must name it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloudOptions } from '../../infra/local/cloud/index.ts';
import { ProviderError } from '#domain/errors';
import type { ConfigurationRunner } from '#domain/model';
import { destroyCluster } from '#use-cases/change-cluster';
import { STATE_MACHINES } from '../../infra/routes.ts';
import { loadDefinition } from '../../infra/local/step-functions.ts';
import { seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const ECS_RUN_TASK = 'arn:aws:states:::ecs:runTask.sync';

/** The Task states of a workflow, each with the step it calls (the ECS task calls none). */
const taskStates = (kind: 'provision' | 'destroy'): Map<string, string | null> => {
  const { file, substitutions } = STATE_MACHINES[kind];
  const definition = loadDefinition(file, Object.fromEntries(substitutions.map((name) => [name, `arn:aws:lambda:local:000000000000:function:${name}`])));
  const states = Object.entries(definition.States as Record<string, { Type: string; Resource?: string; Parameters?: { step?: string } }>);
  return new Map(states.filter(([, state]) => state.Type === 'Task').map(([name, state]) => [name, state.Resource === ECS_RUN_TASK ? null : (state.Parameters?.step ?? null)]));
};

interface Case {
  /** What the cluster records as `error.step`; null: nothing can be recorded. */
  step: string | null;
  runner?: ConfigurationRunner;
  cloud?: LocalCloudOptions;
  /** On the failure path: the step that fails first, which this state's own failure must not hide. */
  first?: string;
}

const PROVISION_CASES: Record<string, Case> = {
  'Plan the cluster': { step: 'plan' },
  'Create private networks': { step: 'create-networks' },
  'Create servers': { step: 'create-servers' },
  'Check the servers': { step: 'wait-servers' },
  'Allocate public IPs': { step: 'allocate-ips' },
  'Prepare the configuration container': { step: 'configure:container', runner: 'container' },
  'Run the configuration container': { step: 'configure:container', runner: 'container' },
  'Check the configuration agents': { step: 'configure' },
  'Start the configuration': { step: 'configure' },
  // A run long enough that its first component is the one it is at.
  'Check the configuration': { step: 'configure:common', cloud: { configMs: { min: 60_000, max: 60_000 } } },
  'Mark the cluster active': { step: 'ready' },
  'Name the configuration failure': { step: 'configure:container', runner: 'container', first: 'run-container' },
  'Roll back the cluster': { step: 'allocate-ips', first: 'allocate-ips' },
  'Record the failure': { step: 'allocate-ips', first: 'allocate-ips' },
};

const DESTROY_CASES: Record<string, Case> = {
  'Delete the cluster resources': { step: 'destroy' },
  'Record the cluster destroyed': { step: 'destroyed' },
  // The step that records a destroy's failure cannot record its own.
  'Record the destroy failure': { step: null, first: 'destroy' },
};

const injected = (where: string) => new ProviderError('InjectedFault', `a fault injected at ${where}`);

/** A harness whose `state` fails (and `first` before it): its step throws, or for the ECS task the container does. */
const failing = (states: Map<string, string | null>, state: string, spec: Case) => {
  const steps = new Set([states.get(state), spec.first].filter((step): step is string => typeof step === 'string'));
  const container = states.get(state) === null || spec.first === 'run-container';
  return startWorkflowHarness({
    ...(spec.cloud ? { cloud: spec.cloud } : {}),
    beforeStep: (event) => {
      if (steps.has(event.step)) throw injected(event.step);
    },
    beforeContainer: () => {
      if (container) throw injected('the configuration container');
    },
  });
};

describe('the failed step of the provision workflow', () => {
  const states = taskStates('provision');

  it('has a case for every Task state', () => {
    expect([...states.keys()].sort()).toEqual(Object.keys(PROVISION_CASES).sort());
  });

  it.each(Object.entries(PROVISION_CASES))('records the step of “%s” when that state fails', async (state, spec) => {
    // Prepare
    harness = await failing(states, state, spec);

    // Act
    const { cluster, execution } = await harness.run({ ...seedRequest(), slaves: 1 }, spec.runner);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.states.some((s) => s.name === state && s.event === 'StateEntered')).toBe(true);
    expect(cluster.error?.step).toBe(spec.step);
    expect(cluster.error?.code).toBe('InjectedFault');
  });
});

describe('the failed step of the destroy workflow', () => {
  const states = taskStates('destroy');

  it('has a case for every Task state', () => {
    expect([...states.keys()].sort()).toEqual(Object.keys(DESTROY_CASES).sort());
  });

  it.each(Object.entries(DESTROY_CASES))('records the step of “%s” when that state fails', async (state, spec) => {
    // Prepare: an ACTIVE cluster, whose destroy fails.
    harness = await failing(states, state, spec);
    const { cluster } = await harness.run(seedRequest());
    expect(cluster.status).toBe('ACTIVE');

    // Act
    const destroying = await destroyCluster({ clusters: harness.table.clusters, quotas: harness.table.quotas, workflows: harness.workflows, quotaDefaults: harness.quota }, cluster);
    const execution = await harness.workflows.waitFor('destroy', destroying.destroyExecutionId?.split(':').at(-1) ?? '');
    const after = await harness.table.clusters.getCluster(cluster.id);

    // Assess
    expect(execution?.status).toBe('FAILED');
    expect(execution?.states.some((s) => s.name === state && s.event === 'StateEntered')).toBe(true);
    if (spec.step === null) {
      expect(after?.status).toBe('DESTROYING');
      expect(after?.error).toBeNull();
    } else {
      expect(after?.status).toBe('FAILED');
      expect(after?.error).toMatchObject({ code: 'InjectedFault', step: spec.step });
    }
  });
});
