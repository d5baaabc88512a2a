/**
 * Which step a failed cluster failed at: the cluster's `error.step` (docs/decisions.md, "The workflow").
 *
 * It is taken from the state that failed, never from the last phase written: a step can fail
 * before it writes its phase (a provider call that comes first, a refused input, a Lambda that
 * timed out), and the phase then still names the step before it. Every Task state of the
 * workflows catches its errors into `$.failed.<its step>` — the key is the state's own `step`
 * parameter, which test/statemachine/definitions.test.ts holds every Task to — so the failure
 * path learns the step from where the error was caught.
 */
import type { Cluster, ClusterError, Phase } from './model.ts';

/**
 * A step's failure as the use cases see it: its code (the error's class name, which Retry and
 * Catch match), its message, and the exit code the configuration container stopped with. The
 * workflow-step function reads it out of what a Catch put into the state, Lambda's or ECS's.
 */
export interface StepFailure {
  code: string;
  message: string;
  exitCode?: number;
}

/**
 * The key each Task state's Catch files its error under, and the step recorded for it: the
 * phase the step records while it works. The ECS task runs no step of the step function; it
 * files under `run-container`.
 */
export const FAILED_STEPS = {
  plan: 'plan',
  'create-networks': 'create-networks',
  'create-servers': 'create-servers',
  'describe-servers': 'wait-servers',
  'allocate-ips': 'allocate-ips',
  'prepare-container': 'configure:container',
  'run-container': 'configure:container',
  'check-configuration-agents': 'configure',
  configure: 'configure',
  'check-configuration': 'configure',
  activate: 'ready',
  destroy: 'destroy',
  'record-destroyed': 'destroyed',
  // A stop or start is repeated by the same request, whichever of its states failed.
  'stop-servers': 'stop',
  'check-stopped': 'stop',
  'record-stopped': 'stop',
  'start-servers': 'start',
  'check-started': 'start',
  'record-started': 'start',
} as const satisfies Record<string, Phase>;
export type FailingStep = keyof typeof FAILED_STEPS;
export const FAILING_STEPS = Object.keys(FAILED_STEPS) as FailingStep[];

/** The Catch's `$.failed`: one entry, keyed by the step whose state caught the error. */
export type FailedSteps<Failure = StepFailure> = Partial<Record<FailingStep, Failure>>;

/** A destroy that failed: the cluster's resources may be partly gone, so it is not provisioned again. */
export const DESTROY_FAILED_STEPS: readonly string[] = [FAILED_STEPS.destroy, FAILED_STEPS['record-destroyed']];

const configures = (phase: string): boolean => phase === 'configure' || phase.startsWith('configure:');

/**
 * The failed step and its error from the Catch's `$.failed`; undefined when nothing was caught.
 * A configuration names its component as it goes (`configure:<component>`, from the run or the
 * container's lines): when the failed state is a configuration step, the record's component says
 * where in it the run stopped.
 */
export const failedStepOf = <Failure>(
  failed: FailedSteps<Failure> | undefined,
  /** The record as it is now; without it the step is not refined. */
  cluster?: Pick<Cluster, 'status' | 'phase'>,
): { step: string; error: Failure } | undefined => {
  const [key, error] = (Object.entries(failed ?? {}) as [FailingStep, Failure | undefined][]).find(([, caught]) => caught !== undefined) ?? [];
  if (!key || !error) return undefined;
  const step: string = FAILED_STEPS[key];
  const refined = cluster && configures(step) && cluster.status === 'CONFIGURING' && cluster.phase.startsWith('configure:');
  return { step: refined ? cluster.phase : step, error };
};

/**
 * The cluster's `error` for what the failure path was handed: the failure and the step that filed
 * it, else the failure alone at `otherwise` (an execution of a definition older than the filing,
 * under way during a deploy, files by no step). Every failure a step records is shaped here.
 */
export const clusterErrorOf = (
  failed: FailedSteps | undefined,
  unfiled: StepFailure | undefined,
  otherwise: string,
  cluster?: Pick<Cluster, 'status' | 'phase'>,
): ClusterError => {
  const caught = failedStepOf(failed, cluster);
  const failure = caught?.error ?? unfiled;
  return { code: failure?.code ?? 'Unknown', message: failure?.message || 'no cause given', step: caught?.step ?? otherwise };
};
