/**
 * The table's change stream → status events and webhooks. Only new status-change items are
 * published (the stream's filter already drops the rest on AWS; this check keeps the local
 * runtime, which feeds the same records, to the same rule). Records are handled in order; a
 * failed one is reported so the stream offers it again (at least once: consumers may see a
 * change twice, never out of order within a cluster).
 */
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { statusChangeOf } from '#adapters/dynamodb/table-schema';
import { publishStatusChange, type PublishDeps } from '#use-cases/publish-status';
import { logger } from '#lib/logger';
import { traceInvocations } from '#lib/tracer';

export const publishStatusHandler = (deps: PublishDeps) => {
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const recordHandler = async (record: DynamoDBRecord) => {
    if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
    const change = statusChangeOf(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>));
    if (!change) return;
    logger.appendKeys({ clusterId: change.clusterId });
    await publishStatusChange(deps, change);
  };
  return middy<DynamoDBStreamEvent>()
    .use(traceInvocations())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event, context) => processPartialResponse(event, recordHandler, processor, { context, processInParallel: false }));
};
