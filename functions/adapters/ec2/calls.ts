/**
 * One EC2 call in the domain's terms: EC2's error mapping, and the codes a caller counts as done
 * or as "next round" instead of as a failure; with what every call needs (client, settings) and
 * how many go at once.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ProviderError } from '#domain/errors';
import { awsError, errorName } from '../aws/index.ts';
import type { Ec2Settings } from './settings.ts';

/** What every part of the adapter works with. */
export interface Ec2Context {
  readonly ec2: EC2Client;
  readonly settings: Ec2Settings;
}

/** Per-instance calls (names, addresses) run this many at a time: EC2 throttles bursts per account. */
export const CALL_CONCURRENCY = 5;

/**
 * Final although EC2 files several of them under server errors (HTTP 500): capacity and limits do
 * not come back within a workflow's retries, so the cluster fails with EC2's code instead.
 */
const FINAL_CODES = [
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientAddressCapacity',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'AddressLimitExceeded',
  'Unsupported',
];

/** EC2's answer in the domain's terms: throttling and 5xx are retried by the workflow, the rest is final. */
export const ec2Error = (operation: string, error: unknown, alsoTransient: readonly string[] = []): Error =>
  awsError('EC2', operation, error, {
    transient: alsoTransient,
    final: FINAL_CODES,
    // The code becomes the cluster's error code; the message is EC2's own.
    refusal: (sdk) => new ProviderError(sdk.name, sdk.message),
  });

/**
 * Runs one EC2 call. `transient` codes are retried by the workflow, `gone` codes mean the
 * thing is already as wanted (answered undefined), `later` codes mean another round (answered false).
 */
export async function callEc2<T>(operation: string, request: () => Promise<T>, transient?: readonly string[]): Promise<T>;
export async function callEc2<T>(
  operation: string,
  request: () => Promise<T>,
  transient: readonly string[],
  gone: readonly string[],
  later?: readonly string[],
): Promise<T | undefined | false>;
export async function callEc2<T>(
  operation: string,
  request: () => Promise<T>,
  transient: readonly string[] = [],
  gone: readonly string[] = [],
  later: readonly string[] = [],
): Promise<T | undefined | false> {
  try {
    return await request();
  } catch (error) {
    const name = errorName(error);
    if (gone.includes(name)) return undefined;
    if (later.includes(name)) return false;
    throw ec2Error(operation, error, transient);
  }
}

/** A call whose answer is not needed: true once done (or already so), false when it has to wait for another round. */
export const callEc2Done = async (operation: string, request: () => Promise<unknown>, gone: readonly string[], later: readonly string[]): Promise<boolean> =>
  (await callEc2(
    operation,
    async () => {
      await request();
      return true;
    },
    [],
    gone,
    later,
  )) !== false;
