/**
 * One structured JSON logger for every function (Powertools). Handlers add the cluster id to
 * every line with `logger.appendKeys({ clusterId })`; the middy middleware clears it between
 * invocations.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cluster-service' });
