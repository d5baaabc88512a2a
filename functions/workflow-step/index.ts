/**
 * The provision workflow's Task states: `{ step, clusterId, … }` → the step's result.
 * Errors keep their names: they are what the state machine's Retry and Catch match.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { runStep, STEP_NAMES, type StepDeps, type StepInput } from '#use-cases/workflow-steps';
import { FAILING_STEPS } from '#domain/failed-step';
import { logger } from '#lib/logger';
import { traceInvocations } from '#lib/tracer';
import { flushMetrics } from '#lib/metrics';

const caught = z.object({ Error: z.string(), Cause: z.string().optional() }).passthrough();

const failed = z.partialRecord(z.enum(FAILING_STEPS), caught);

const stepInputSchema = z.object({
  step: z.enum(STEP_NAMES),
  clusterId: z.uuid(),
  failure: caught.optional(),
  failed: failed.optional(),
  state: z.object({ failed: failed.optional(), failure: caught.optional(), rollbackFailure: caught.optional() }).passthrough().optional(),
});

export const workflowStepHandler = (deps: StepDeps) =>
  middy<unknown, Record<string, unknown>>()
    .use(traceInvocations())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics())
    .handler(async (event: unknown, context: Context) => {
      const input = stepInputSchema.parse(event) as StepInput;
      logger.appendKeys({ clusterId: input.clusterId, step: input.step });
      const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : deps.remainingMs;
      try {
        const result = await runStep({ ...deps, ...(remaining ? { remainingMs: remaining } : {}) }, input);
        logger.info('step done', { result });
        return result;
      } catch (error) {
        logger.warn('step failed', { error });
        throw error;
      }
    });
