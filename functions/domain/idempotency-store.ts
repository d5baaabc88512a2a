/** The answers to create requests made with an Idempotency-Key, per project and key. */

/** A stored answer to a create request made with an Idempotency-Key. */
export interface IdempotencyRecord {
  project: string;
  key: string;
  /** SHA-256 of the request (route and body): the same key with another body is a conflict. */
  fingerprint: string;
  /** The id the first request gave its cluster; a replay or a takeover uses it again. */
  clusterId: string;
  state: 'IN_PROGRESS' | 'COMPLETED';
  response?: { statusCode: number; headers: Record<string, string>; body: string };
  createdAt: string;
  expiresAt: string;
}

export interface IdempotencyStore {
  /** Records a key as IN_PROGRESS unless it exists; answers the existing record otherwise. */
  claim(record: IdempotencyRecord): Promise<IdempotencyRecord | null>;
  complete(project: string, key: string, response: NonNullable<IdempotencyRecord['response']>): Promise<void>;
  /** Forgets a claim whose request failed, so the client may try again with the same key. */
  release(project: string, key: string, createdAt: string): Promise<void>;
  /** Replaces an IN_PROGRESS record that nobody finished (its holder crashed) with `record`. */
  takeOver(record: IdempotencyRecord, previousCreatedAt: string): Promise<boolean>;
}
