import { describe, expect, it } from 'vitest';
import { canMove, isBeingDestroyed, isProvisioning, isRetryable, isTerminal, NOT_BEING_DESTROYED, TRANSITIONS } from '#domain/lifecycle';
import { CLUSTER_STATUSES } from '#domain/model';

describe('the cluster lifecycle', () => {
  it('lets a destroy take every cluster that no destroy has taken yet, and lets nothing leave DESTROYED', () => {
    expect(NOT_BEING_DESTROYED.filter((status) => !canMove(status, 'DESTROYING'))).toEqual([]);
    expect(NOT_BEING_DESTROYED.filter(isBeingDestroyed)).toEqual([]);
    expect(TRANSITIONS.DESTROYED).toEqual([]);
  });

  it('lets a retry start a new attempt only of a status it accepts', () => {
    const retryable = CLUSTER_STATUSES.filter(isRetryable);

    expect(retryable).toEqual(['FAILED']);
    for (const status of retryable) expect(canMove(status, 'PENDING'), status).toBe(true);
  });

  it('tells every status apart as provisioning, terminal or being destroyed, each exactly one', () => {
    for (const status of CLUSTER_STATUSES) {
      expect([isProvisioning(status), isTerminal(status) && !isBeingDestroyed(status), isBeingDestroyed(status)].filter(Boolean), status).toHaveLength(1);
    }
    expect(CLUSTER_STATUSES.filter(isProvisioning)).toEqual(['PENDING', 'PROVISIONING', 'CONFIGURING']);
  });
});
