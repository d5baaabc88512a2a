import { describe, expect, it } from 'vitest';
import { fingerprint } from '#use-cases/idempotency';

describe('request fingerprints', () => {
  it('are equal for equal bodies whatever the key order', () => {
    expect(fingerprint('POST /v1/clusters', { a: 1, b: { c: [1, 2], d: 'x' } })).toBe(fingerprint('POST /v1/clusters', { b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('differ for another body, another array order or another route', () => {
    const base = fingerprint('POST /v1/clusters', { a: [1, 2] });
    expect(fingerprint('POST /v1/clusters', { a: [2, 1] })).not.toBe(base);
    expect(fingerprint('POST /v1/clusters', { a: [1, 2, 3] })).not.toBe(base);
    expect(fingerprint('POST /backend/create_lambda_instance', { a: [1, 2] })).not.toBe(base);
  });
});
