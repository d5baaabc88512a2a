/**
 * AWS SDK errors in the workflow's terms, one classifier for every AWS adapter (EC2, SSM, S3):
 * what is worth retrying is the same whichever service answered, only the final codes differ.
 */
import { ProviderError, TransientProviderError } from '#domain/errors';

/** The fields the SDK puts on every service exception, and Node's `code` on a dropped connection. */
export type SdkError = Error & { $fault?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string };

/** Throttling and server-side codes the services use, some of them with a 4xx status. */
const THROTTLING_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyUpdates',
  'SlowDown',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'Unavailable',
  'ServiceUnavailable',
  'RequestTimeout',
]);
/** The SDK's and Node's names for a request that never got an answer. */
const NETWORK_CODES = new Set(['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN']);

export interface AwsErrorMapping {
  /** The service's own codes that come right by themselves, retried like throttling. */
  transient?: readonly string[];
  /** Codes that do not come back within a workflow's retries although the service files them as server faults. */
  final?: readonly string[];
  /** What a refusal (a client fault, or a `final` code) becomes; left as the SDK threw it when absent. */
  refusal?: (error: SdkError) => Error;
}

/**
 * One failed call of `service`'s `operation`. A domain error passes unchanged; throttling, a
 * server fault (5xx), what the SDK calls retryable and a dropped connection become
 * TransientProviderError, which the workflow retries; a refusal goes through `mapping.refusal`,
 * whose code becomes the cluster's error code.
 */
export const awsError = (service: string, operation: string, error: unknown, mapping: AwsErrorMapping = {}): Error => {
  if (!(error instanceof Error)) return new TransientProviderError(`${service} ${operation} failed: ${String(error)}`);
  if (error instanceof TransientProviderError || error instanceof ProviderError) return error;
  const sdk = error as SdkError;
  const refused = () => mapping.refusal?.(sdk) ?? sdk;
  if (mapping.final?.includes(sdk.name)) return refused();
  const status = sdk.$metadata?.httpStatusCode ?? 0;
  if (THROTTLING_CODES.has(sdk.name) || mapping.transient?.includes(sdk.name) || sdk.$fault === 'server' || sdk.$retryable || status >= 500) {
    return new TransientProviderError(`${service} ${operation}: ${sdk.name}: ${sdk.message}`);
  }
  if (NETWORK_CODES.has(sdk.name) || (sdk.code !== undefined && NETWORK_CODES.has(sdk.code))) {
    return new TransientProviderError(`${service} ${operation}: ${sdk.message}`);
  }
  return sdk.$fault === 'client' ? refused() : sdk;
};

/** The error's code as the SDK names it, for the few a caller counts as done or as "next round". */
export const errorName = (error: unknown): string => (error instanceof Error ? error.name : '');
