/**
 * X-Ray tracing (Powertools): a segment per invocation and a subsegment per AWS SDK call of the
 * clients the adapters build — in Lambda, with tracing on.
 *
 * Elsewhere (local mode, tests, the CLI, the bench) the tracer is not even loaded: the X-Ray SDK
 * under it installs async hooks when it is imported, whether tracing is on or not, and they make
 * every promise about ten times dearer — which doubled the local stack's CPU per request.
 */
import type middy from '@middy/core';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Tracing runs in Lambda's execution environment unless POWERTOOLS_TRACE_ENABLED=false turns it
 * off: the cases where Powertools' tracer would trace at all.
 */
export const tracingEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  Boolean(env.AWS_EXECUTION_ENV) && !env.AWS_SAM_LOCAL && env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false';

const loaded = tracingEnabled()
  ? {
      tracer: new (await import('@aws-lambda-powertools/tracer')).Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cluster-service' }),
      middleware: await import('@aws-lambda-powertools/tracer/middleware'),
    }
  : null;

/** The tracer, or null where tracing is off. */
export const tracer: Tracer | null = loaded?.tracer ?? null;

/** An AWS SDK v3 client whose calls are traced, when tracing is on; the client itself otherwise. */
export const traced = <T>(client: T): T => (loaded ? loaded.tracer.captureAWSv3Client(client) : client);

/** The middleware that opens a segment per invocation, as a list for middy's `use`: empty where tracing is off. */
export const traceInvocations = (): middy.MiddlewareObj[] => (loaded ? [loaded.middleware.captureLambdaHandler(loaded.tracer)] : []);
