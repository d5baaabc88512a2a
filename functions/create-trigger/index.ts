/**
 * SQS → the create use case: each message is an EventBridge `Cluster Create Requested` event
 * the rule delivered. Messages whose create failed for a passing reason are reported back as
 * batch item failures, so only they are redelivered (and end in the DLQ after a few tries).
 */
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { eventBridgeEventSchema, DETAIL_TYPES } from '#domain/events';
import { handleCreateRequested, type TriggerDeps } from '#use-cases/trigger-create';
import { logger } from '#lib/logger';
import { traceInvocations } from '#lib/tracer';
import { flushMetrics } from '#lib/metrics';

export const createTriggerHandler = (deps: TriggerDeps) => {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(record.body);
    } catch {
      parsed = undefined;
    }
    const event = eventBridgeEventSchema.safeParse(parsed);
    if (!event.success || event.data['detail-type'] !== DETAIL_TYPES.createRequested) {
      // Not something the rule sends: dropping it is the only answer that ends.
      logger.error('dropped a message that is not a create request', { messageId: record.messageId });
      return { outcome: 'dropped' };
    }
    return handleCreateRequested(deps, event.data);
  };
  return middy<SQSEvent>()
    .use(traceInvocations())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics())
    .handler((event, context) => processPartialResponse(event, recordHandler, processor, { context }));
};
