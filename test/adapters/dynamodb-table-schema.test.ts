import { describe, expect, it } from 'vitest';
import { clusterItem, clusterOf, noteItem, statusChangeItem, statusChangeKey, statusChangeOf, timelineOf } from '#adapters/dynamodb/table-schema';
import { clusterRecord } from '../support/clusters.ts';

describe('the table schema', () => {
  it('keys a status change by its time and the record’s version, inside the cluster’s timeline', () => {
    const cluster = clusterRecord({ version: 7, updatedAt: '2026-01-02T03:04:05.006Z' });

    const key = statusChangeKey(cluster.id, cluster.updatedAt, cluster.version);

    expect(key.pk).toBe(timelineOf(cluster.id).pk);
    expect(key.sk.startsWith(timelineOf(cluster.id).sortKeyPrefix)).toBe(true);
    expect(key.sk.endsWith('2026-01-02T03:04:05.006Z#00000007')).toBe(true);
    expect(statusChangeItem(cluster, 'again')).toMatchObject(key);
  });

  it('reads the status change back from its item, keys left out, and nothing from any other item', () => {
    const cluster = clusterRecord({ status: 'PROVISIONING', phase: 'plan' });

    const change = statusChangeOf(statusChangeItem(cluster, 'planning'));

    expect(change).toEqual({
      at: cluster.updatedAt,
      status: 'PROVISIONING',
      phase: 'plan',
      message: 'planning',
      clusterId: cluster.id,
      project: cluster.project,
      error: null,
      callbackUrl: null,
    });
    expect(statusChangeOf(noteItem({ clusterId: cluster.id, status: 'PROVISIONING', phase: 'plan' }, 'a note', cluster.updatedAt, 'n1'))).toBeNull();
    expect(statusChangeOf(clusterItem(cluster))).toBeNull();
  });

  it('maps a cluster to its item and back unchanged', () => {
    const cluster = clusterRecord();

    expect(clusterOf(clusterItem(cluster))).toEqual(cluster);
  });
});
