/**
 * `Idempotency-Key` for create requests: the same key with the same body answers what the first
 * request answered (same cluster id); the same key with another body is a 409. Two requests
 * racing with one key make one cluster: the second waits briefly for the first's answer.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Conflict, ValidationError } from '#domain/errors';
import type { IdempotencyRecord, IdempotencyStore } from '#domain/idempotency-store';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,64}$/;
const RETENTION_MS = 24 * 3_600_000;
/** How long a racing request waits for the first one to answer. */
const WAIT_FOR_FIRST_MS = 5_000;
/** An IN_PROGRESS claim this old was left by a request that died; another may take it over. */
const ABANDONED_AFTER_MS = 60_000;

export type StoredResponse = NonNullable<IdempotencyRecord['response']>;

/** Keys sorted at every level, so equal bodies give equal fingerprints whatever their key order. */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
};

export const fingerprint = (route: string, body: unknown): string => createHash('sha256').update(`${route}\n${canonical(body)}`).digest('hex');

export interface IdempotentRun {
  idempotencyKeys: IdempotencyStore;
  project: string;
  /** The header's value, if the request had one. */
  key: string | undefined;
  route: string;
  body: unknown;
  /** Does the work for a cluster id and answers; called at most once per key. */
  run: (clusterId: string) => Promise<StoredResponse>;
  sleep?: (ms: number) => Promise<void>;
}

const replayed = (response: StoredResponse): StoredResponse => ({ ...response, headers: { ...response.headers, 'Idempotent-Replayed': 'true' } });

export const runIdempotently = async (input: IdempotentRun): Promise<StoredResponse> => {
  if (input.key === undefined) return input.run(randomUUID());
  if (!KEY_PATTERN.test(input.key)) {
    throw new ValidationError('Idempotency-Key must be 1 to 64 visible ASCII characters', [
      { path: 'Idempotency-Key', message: 'must be 1 to 64 visible ASCII characters' },
    ]);
  }
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = new Date();
  const claim: IdempotencyRecord = {
    project: input.project,
    key: input.key,
    fingerprint: fingerprint(input.route, input.body),
    clusterId: randomUUID(),
    state: 'IN_PROGRESS',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + RETENTION_MS).toISOString(),
  };

  const execute = async (record: IdempotencyRecord): Promise<StoredResponse> => {
    let response: StoredResponse;
    try {
      response = await input.run(record.clusterId);
    } catch (error) {
      // Nothing was answered: the key is free again for the client's next try.
      await input.idempotencyKeys.release(record.project, record.key, record.createdAt);
      throw error;
    }
    await input.idempotencyKeys.complete(record.project, record.key, response);
    return response;
  };

  let existing = await input.idempotencyKeys.claim(claim);
  if (!existing) return execute(claim);
  const waitUntil = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    if (existing.fingerprint !== claim.fingerprint) {
      throw new Conflict('this Idempotency-Key was used with another request body', [{ path: 'Idempotency-Key', message: 'already used with another body' }]);
    }
    if (existing.state === 'COMPLETED' && existing.response) return replayed(existing.response);
    if (Date.now() - Date.parse(existing.createdAt) > ABANDONED_AFTER_MS) {
      // Keep the abandoned claim's cluster id: if its cluster was made, the create finds it.
      const takeover: IdempotencyRecord = { ...claim, clusterId: existing.clusterId };
      if (await input.idempotencyKeys.takeOver(takeover, existing.createdAt)) return execute(takeover);
    }
    if (Date.now() > waitUntil) {
      throw new Conflict('a request with this Idempotency-Key is still in progress; retry it later', [
        { path: 'Idempotency-Key', message: 'in progress' },
      ]);
    }
    await sleep(50);
    existing = (await input.idempotencyKeys.claim(claim)) ?? claim;
    if (existing === claim) return execute(claim);
  }
};
