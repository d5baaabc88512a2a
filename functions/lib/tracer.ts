/**
 * X-Ray tracing (Powertools): a segment per invocation and a subsegment per AWS SDK call of the
 * clients the adapters build. It switches itself off outside Lambda (local mode, tests).
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cluster-service' });
