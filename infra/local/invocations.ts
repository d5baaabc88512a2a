/**
 * Local invocations. On AWS each function has processes of its own, one invocation at a time, so
 * the one module-level logger holds one invocation's context. Locally every function shares one
 * process and invocations overlap, as on a Lambda Managed Instance that serves several at once;
 * Lambda's runtime keeps them apart there with its InvokeStore (AsyncLocalStorage), and
 * Powertools keeps the logger's context in it (function name, request id, appended keys) when
 * AWS_LAMBDA_MAX_CONCURRENCY is set. The local stack does the same: each invocation runs in a
 * scope of its own, so a line never carries another function's name.
 */
import { randomUUID } from 'node:crypto';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import { logger } from '#lib/logger';

const LOCAL_REGION = 'local';
const LOCAL_ACCOUNT = '000000000000';

export const localFunctionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;

/** A Lambda context for a local invocation, with the function's real time limit. */
const localContext = (functionName: string, timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

const invokeStore = await InvokeStore.getInstanceAsync(true);

/**
 * Tells Powertools to keep its per-invocation state in the InvokeStore, as a Lambda runtime
 * serving concurrent invocations does. The store is a process-wide singleton whose kind the
 * first to ask chose (the AWS SDK asks too): only one whose scope ends with its run keeps
 * invocations apart. Once this is on, Powertools' batch processor must be built in a scope
 * (`outsideInvocations`): it keeps even its initial state there.
 */
export const scopeInvocations = (): void => {
  const isolating = !invokeStore.hasContext() && invokeStore.run({}, () => invokeStore.hasContext()) && !invokeStore.hasContext();
  if (isolating && globalThis.awslambda?.InvokeStore === invokeStore) process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '1000';
};

/**
 * Runs one invocation of `functionName` in a scope of its own, its context added to the logger
 * for every line within, whether the handler adds it again or not.
 */
export const invokeLocally = <T>(functionName: string, timeoutMs: number, run: (context: Context) => Promise<T>): Promise<T> => {
  const context = localContext(functionName, timeoutMs);
  return invokeStore.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, async () => {
    logger.addContext(context);
    return run(context);
  });
};

/**
 * Runs `start` in a scope that is no invocation's: a handler being built, as in Lambda's init
 * phase, or work an invocation leaves running (a delivery, a workflow), which then logs as the
 * runtime, not as that invocation's function.
 */
export const outsideInvocations = <T>(start: () => T): T => invokeStore.run({}, start);
