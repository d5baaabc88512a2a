/**
 * The configuration container's progress: a CloudWatch Logs subscription on the task's log group
 * delivers its `COMPONENT` lines (gzipped JSON, base64) and each becomes a phase or a recorded
 * failure on its cluster. The lines name their cluster and attempt (run-profile.sh gets
 * CLUSTER_ID and CLUSTER_ATTEMPT from the workflow), so no ECS call is needed to tell whose they
 * are. A failed write throws, and Lambda's retry of the asynchronous invocation applies the batch
 * again: applying a line twice changes nothing.
 */
import { gunzipSync } from 'node:zlib';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { parseComponentLine } from '#domain/component-lines';
import { recordConfigurationProgress, type LoggedLine, type ProgressDeps } from '#use-cases/configuration-progress';
import { logger } from '#lib/logger';
import { traceInvocations } from '#lib/tracer';

/** The subscription's payload: base64 of gzipped JSON. */
const decodeLogsEvent = (event: CloudWatchLogsEvent): CloudWatchLogsDecodedData =>
  JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as CloudWatchLogsDecodedData;

/** The batch's lines by cluster, in the order logged; anything that is not an identified COMPONENT line is counted and dropped. */
const byCluster = (data: CloudWatchLogsDecodedData): { lines: Map<string, LoggedLine[]>; dropped: number } => {
  const lines = new Map<string, LoggedLine[]>();
  let dropped = 0;
  for (const event of data.logEvents ?? []) {
    const line = parseComponentLine(event.message.trimEnd());
    if (!line || line.clusterId === undefined || line.attempt === undefined) {
      dropped++;
      continue;
    }
    const list = lines.get(line.clusterId) ?? [];
    list.push({ line: { ...line, clusterId: line.clusterId, attempt: line.attempt }, at: event.timestamp });
    lines.set(line.clusterId, list);
  }
  return { lines, dropped };
};

export const configurationProgressHandler = (deps: ProgressDeps) =>
  middy<CloudWatchLogsEvent, void>()
    .use(traceInvocations())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const data = decodeLogsEvent(event);
      // CloudWatch Logs checks a new subscription's destination with a control message.
      if (data.messageType !== 'DATA_MESSAGE') return;
      const { lines, dropped } = byCluster(data);
      if (dropped > 0) logger.warn('log events that are no identified COMPONENT line were dropped', { logStream: data.logStream, dropped });
      // One stream is one task, so a batch is normally one cluster's.
      for (const [clusterId, logged] of lines) {
        logger.appendKeys({ clusterId });
        const outcome = await recordConfigurationProgress(deps, clusterId, logged);
        logger.info('configuration progress', { logStream: data.logStream, lines: logged.length, ...outcome });
        logger.removeKeys(['clusterId']);
      }
    });
