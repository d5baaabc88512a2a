import { describe, expect, it } from 'vitest';
import { canChangePower, canMove, isBeingDestroyed, isChangingPower, isProvisioning, isRetryable, isTerminal, NOT_BEING_DESTROYED, TRANSITIONS } from '#domain/lifecycle';
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

  it('tells every status apart as provisioning, changing power, terminal or being destroyed, each exactly one', () => {
    for (const status of CLUSTER_STATUSES) {
      const kinds = [isProvisioning(status), isChangingPower(status), isTerminal(status) && !isBeingDestroyed(status), isBeingDestroyed(status)];
      expect(kinds.filter(Boolean), status).toHaveLength(1);
    }
    expect(CLUSTER_STATUSES.filter(isProvisioning)).toEqual(['PENDING', 'PROVISIONING', 'CONFIGURING']);
    expect(CLUSTER_STATUSES.filter(isChangingPower)).toEqual(['STOPPING', 'STARTING']);
  });

  it('lets a stop begin only from ACTIVE and a start only from STOPPED, or either again after it failed, each a move the table allows', () => {
    const stoppable = CLUSTER_STATUSES.filter((status) => canChangePower('stop', status, status === 'FAILED' ? 'stop' : undefined));
    const startable = CLUSTER_STATUSES.filter((status) => canChangePower('start', status, status === 'FAILED' ? 'start' : undefined));

    expect(stoppable).toEqual(['ACTIVE', 'FAILED']);
    expect(startable).toEqual(['FAILED', 'STOPPED']);
    expect(canChangePower('stop', 'FAILED', 'configure:hdfs')).toBe(false);
    expect(canChangePower('start', 'FAILED', 'stop')).toBe(false);
    for (const status of stoppable) expect(canMove(status, 'STOPPING'), status).toBe(true);
    for (const status of startable) expect(canMove(status, 'STARTING'), status).toBe(true);
  });
});
