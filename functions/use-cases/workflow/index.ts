/** The workflow steps, one per Task state of statemachine/provision.asl.json, destroy.asl.json and power.asl.json. */
import type { WorkflowKind } from '#domain/workflow';
import { activate, allocateIps, createNetworks, createServers, describeServers, plan } from './provision.ts';
import { checkConfiguration, checkConfigurationAgents, configure } from './configuration.ts';
import { nameContainerFailure, prepareContainer } from './container.ts';
import { recordFailure, rollback } from './rollback.ts';
import { destroy, recordDestroyed, recordDestroyFailure } from './destroy.ts';
import { changePower, checkPower, recordPowerFailure, recordStarted, recordStopped } from './power.ts';
import { StepContext, type FailureInput, type Step, type StepDeps, type StepResult } from './context.ts';

export type { FailureInput, StepDeps, StepResult } from './context.ts';
export { MAX_NODE_MESSAGES } from './configuration.ts';
export { COMPONENT_FAILED_EXIT } from './container.ts';

const of = (workflow: WorkflowKind, run: Step['run']): Step => ({ workflow, run });

/** Each step by the name its Task states call it with (`Parameters.step`). */
export const STEPS = {
  plan: of('provision', plan),
  'create-networks': of('provision', createNetworks),
  'create-servers': of('provision', createServers),
  'describe-servers': of('provision', describeServers),
  'allocate-ips': of('provision', allocateIps),
  'prepare-container': of('provision', prepareContainer),
  'name-container-failure': of('provision', (ctx, input) => nameContainerFailure(ctx, input.failure)),
  'check-configuration-agents': of('provision', checkConfigurationAgents),
  configure: of('provision', configure),
  'check-configuration': of('provision', checkConfiguration),
  activate: of('provision', activate),
  rollback: of('provision', (ctx, input) => rollback(ctx, input.failed, input.failure)),
  'record-failure': of('provision', (ctx, input) => recordFailure(ctx, input.state)),
  destroy: of('destroy', destroy),
  'record-destroyed': of('destroy', recordDestroyed),
  'record-destroy-failure': of('destroy', (ctx, input) => recordDestroyFailure(ctx, input.state)),
  'stop-servers': of('power', changePower('stop')),
  'check-stopped': of('power', checkPower('stop')),
  'record-stopped': of('power', recordStopped),
  'start-servers': of('power', changePower('start')),
  'check-started': of('power', checkPower('start')),
  'record-started': of('power', recordStarted),
  'record-power-failure': of('power', recordPowerFailure),
} satisfies Record<string, Step>;

export type StepName = keyof typeof STEPS;
export const STEP_NAMES = Object.keys(STEPS) as StepName[];

export interface StepInput extends FailureInput {
  step: StepName;
  clusterId: string;
}

export const runStep = async (deps: StepDeps, input: StepInput): Promise<StepResult> => {
  const step: Step | undefined = Object.hasOwn(STEPS, input.step) ? STEPS[input.step] : undefined;
  if (!step) throw new Error(`unknown step '${String(input.step)}'`);
  // Provision steps never write to a cluster that is being destroyed; the destroy's own steps do.
  return step.run(new StepContext(deps, input.clusterId, step.workflow === 'destroy'), input);
};
