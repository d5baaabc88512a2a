/** Scheduled: destroys the clusters whose `ttlHours` have passed. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { expireClusters, type ChangeClusterDeps } from '#use-cases/change-cluster';
import { logger } from '#lib/logger';
import { traceInvocations } from '#lib/tracer';

export const expireClustersHandler = (deps: ChangeClusterDeps) =>
  middy()
    .use(traceInvocations())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const destroyed = await expireClusters(deps);
      if (destroyed.length > 0) logger.info('expired clusters destroyed', { clusters: destroyed });
      return { destroyed };
    });
