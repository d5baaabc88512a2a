/**
 * The workflows' Task states: `{ step, clusterId, … }` → the step's result.
 * Errors keep their names: they are what the state machine's Retry and Catch match.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { runStep, STEP_NAMES, type StepDeps, type StepInput, type StepResult } from '#use-cases/workflow/index';
import { FAILING_STEPS, type FailedSteps, type StepFailure } from '#domain/failed-step';
import { logger } from '#lib/logger';
import { traceInvocations } from '#lib/tracer';
import { flushMetrics } from '#lib/metrics';
import { caughtErrorOf, stepFailureOf, type CaughtError } from './envelopes.ts';

const caught = z.object({ Error: z.string(), Cause: z.string().optional() }).passthrough();

const failed = z.partialRecord(z.enum(FAILING_STEPS), caught);

const stepEventSchema = z.object({
  step: z.enum(STEP_NAMES),
  clusterId: z.uuid(),
  failure: caught.optional(),
  failed: failed.optional(),
  state: z.object({ failed: failed.optional(), failure: caught.optional(), rollbackFailure: caught.optional() }).passthrough().optional(),
});
type StepEvent = z.infer<typeof stepEventSchema>;

const failuresOf = (filed: FailedSteps<CaughtError> | undefined): FailedSteps | undefined =>
  filed && Object.fromEntries(Object.entries(filed).map(([step, error]) => [step, error && stepFailureOf(error)]));

const inputOf = ({ step, clusterId, failure, failed, state }: StepEvent): StepInput => ({
  step,
  clusterId,
  ...(failure ? { failure: stepFailureOf(failure) } : {}),
  ...(failed ? { failed: failuresOf(failed) } : {}),
  ...(state
    ? {
        state: {
          ...(state.failed ? { failed: failuresOf(state.failed) } : {}),
          ...(state.failure ? { failure: stepFailureOf(state.failure) } : {}),
          ...(state.rollbackFailure ? { rollbackFailure: stepFailureOf(state.rollbackFailure) } : {}),
        },
      }
    : {}),
});

/**
 * What the Task state gets back. "Name the configuration failure" answers in place of the error
 * it was handed (its ResultPath is where that was caught): the named failure as a step's error
 * reads, or the caught one as it came.
 */
const answerOf = (event: StepEvent, result: StepResult): StepResult => {
  if (event.step !== 'name-container-failure') return result;
  const { named } = result as { named?: StepFailure };
  return named ? { ...caughtErrorOf(named) } : { ...(event.failure ?? { Error: 'Unknown' }) };
};

export const workflowStepHandler = (deps: StepDeps) =>
  middy<unknown, StepResult>()
    .use(traceInvocations())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics())
    .handler(async (event: unknown, context: Context) => {
      const parsed = stepEventSchema.parse(event);
      logger.appendKeys({ clusterId: parsed.clusterId, step: parsed.step });
      const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : deps.remainingMs;
      try {
        const result = answerOf(parsed, await runStep({ ...deps, ...(remaining ? { remainingMs: remaining } : {}) }, inputOf(parsed)));
        logger.info('step done', { result });
        return result;
      } catch (error) {
        logger.warn('step failed', { error });
        throw error;
      }
    });
