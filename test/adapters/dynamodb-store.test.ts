import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { Conflict, NotFound } from '#domain/errors';
import type { Cluster } from '#domain/model';
import { compatToSpec } from '#domain/compat-request';
import { clusterRecord, seedRequest } from '../support/clusters.ts';
import { LOCAL_TABLE_NAME } from '../../infra/local/dynamodb.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.stop();
});

const newCluster = clusterRecord;

describe('the DynamoDB store (against dynalite)', () => {
  it('reads back a created cluster exactly', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    expect(await table.store.getCluster(cluster.id)).toEqual(cluster);
  });

  it('refuses to create the same cluster id twice', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    await expect(table.store.createCluster(cluster, 'again')).rejects.toBeInstanceOf(Conflict);
  });

  it('answers null for an unknown cluster and NotFound when updating one', async () => {
    expect(await table.store.getCluster(randomUUID())).toBeNull();
    await expect(table.store.updateCluster(randomUUID(), (c) => ({ cluster: c, message: '' }))).rejects.toBeInstanceOf(NotFound);
  });

  it('increments the version on every write and keeps id, project and createdAt', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    const updated = await table.store.updateCluster(cluster.id, (current) => ({
      cluster: { ...current, status: 'PROVISIONING', phase: 'plan', project: 'someone-else', id: 'x' },
      message: 'planning',
    }));
    expect(updated.version).toBe(2);
    expect(updated.project).toBe('alpha');
    expect(updated.id).toBe(cluster.id);
    expect(updated.createdAt).toBe(cluster.createdAt);
  });

  it('applies concurrent updates one after another without losing any (optimistic locking)', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        table.store.updateCluster(cluster.id, (current) => ({
          cluster: { ...current, networks: [...current.networks, `net-${i}`] },
          message: '',
        })),
      ),
    );
    const final = await table.store.getCluster(cluster.id);
    expect(final?.networks.sort()).toEqual(['net-0', 'net-1', 'net-2', 'net-3', 'net-4', 'net-5']);
    expect(final?.version).toBe(7);
  });

  it('starts from a known record without reading, and reads afresh when that record is stale', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    const stale = structuredClone(cluster);
    await table.store.updateCluster(cluster.id, (c) => ({ cluster: { ...c, networks: ['first'] }, message: '' }));

    const seen: number[] = [];
    const updated = await table.store.updateCluster(
      cluster.id,
      (c) => {
        seen.push(c.version);
        return { cluster: { ...c, networks: [...c.networks, 'second'] }, message: '' };
      },
      stale,
    );

    expect(seen).toEqual([1, 2]);
    expect(updated.networks).toEqual(['first', 'second']);
    expect(updated.version).toBe(3);
  });

  it('writes no event and no new version when the mutation makes no change', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    const same = await table.store.updateCluster(cluster.id, () => null);
    expect(same.version).toBe(1);
    expect(await table.store.listEvents(cluster.id)).toHaveLength(1);
  });

  it('records a timeline event for each status or phase change, in order', async () => {
    const cluster = newCluster();
    await table.store.createCluster(cluster, 'requested');
    await table.store.updateCluster(cluster.id, (c) => ({ cluster: { ...c, status: 'PROVISIONING', phase: 'plan' }, message: 'planning' }));
    await table.store.updateCluster(cluster.id, (c) => ({ cluster: { ...c, networks: ['n1'] }, message: 'no event: same phase' }));
    await table.store.updateCluster(cluster.id, (c) => ({ cluster: { ...c, phase: 'create-networks' }, message: 'networks' }));
    const events = await table.store.listEvents(cluster.id);
    expect(events.map((e) => [e.status, e.phase, e.message])).toEqual([
      ['PENDING', 'accepted', 'requested'],
      ['PROVISIONING', 'plan', 'planning'],
      ['PROVISIONING', 'create-networks', 'networks'],
    ]);
  });

  it('lists only the asked project’s clusters, newest first, page by page', async () => {
    const project = `p-${randomUUID()}`;
    const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'];
    for (const at of times) await table.store.createCluster(newCluster({ project, createdAt: at, updatedAt: at }), 'requested');
    await table.store.createCluster(newCluster({ project: `${project}-other` }), 'requested');
    const first = await table.store.listClusters(project, { limit: 2 });
    expect(first.items.map((c) => c.createdAt)).toEqual([times[2], times[1]]);
    expect(first.nextToken).toBeTypeOf('string');
    const second = await table.store.listClusters(project, { limit: 2, nextToken: first.nextToken });
    expect(second.items.map((c) => c.createdAt)).toEqual([times[0]]);
  });

  it('finds clusters by status across projects', async () => {
    const configuring = newCluster({ status: 'CONFIGURING', project: 'beta' });
    await table.store.createCluster(configuring, 'requested');
    const found = await table.store.findClustersByStatus(['CONFIGURING']);
    expect(found.map((c) => c.id)).toContain(configuring.id);
    expect(found.every((c) => c.status === 'CONFIGURING')).toBe(true);
  });

  it('lists a project’s tokens oldest first, and revokes one by hash', async () => {
    const project = `tokens-${randomUUID()}`;
    await table.store.putToken({ hash: 'c'.repeat(64), project, createdAt: '2026-01-02T00:00:00.000Z', expiresAt: null, revoked: false });
    await table.store.putToken({ hash: 'd'.repeat(64), project, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });
    await table.store.putToken({ hash: 'e'.repeat(64), project: `${project}-other`, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });

    expect((await table.store.listTokens(project)).map((t) => t.hash)).toEqual(['d'.repeat(64), 'c'.repeat(64)]);
    expect((await table.store.listTokens()).map((t) => t.hash)).toEqual(expect.arrayContaining(['c'.repeat(64), 'd'.repeat(64), 'e'.repeat(64)]));
    expect(await table.store.revokeToken('c'.repeat(64))).toBe(true);
    expect(await table.store.revokeToken('f'.repeat(64))).toBe(false);
    expect((await table.store.getToken('c'.repeat(64)))?.revoked).toBe(true);
    expect(await table.store.getToken('f'.repeat(64))).toBeNull();
  });

  it('stores a token record under its hash and reads it back', async () => {
    const hash = 'a'.repeat(64);
    await table.store.putToken({ hash, project: 'alpha', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });
    expect(await table.store.getToken(hash)).toEqual({ hash, project: 'alpha', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });
    expect(await table.store.getToken('b'.repeat(64))).toBeNull();
  });
});

describe('the DynamoDB store’s quota limits', () => {
  const quotaItem = async (project: string) => {
    const { Item } = await table.dynamodb.client.send(
      new GetItemCommand({ TableName: LOCAL_TABLE_NAME, Key: { pk: { S: `QUOTA#${project}` }, sk: { S: 'QUOTA' } }, ConsistentRead: true }),
    );
    return Item;
  };

  it('sets a limit on a project without a quota item, creating the limits map', async () => {
    const project = `quota-${randomUUID()}`;

    const written = await table.store.setQuotaLimits(project, { servers: 3 });

    expect(written).toEqual({ usage: { vcpus: 0, servers: 0, clusters: 0 }, limits: { servers: 3 } });
    expect(await table.store.getQuota(project)).toEqual(written);
    expect((await quotaItem(project))?.limits).toEqual({ M: { servers: { N: '3' } } });
  });

  it('sets one limit without dropping the others, and keeps the usage', async () => {
    // Prepare
    const project = `quota-${randomUUID()}`;
    await table.store.reserveQuota(project, { vcpus: 4, servers: 2, clusters: 1 }, { vcpus: 100, servers: 100, clusters: 100 });
    await table.store.setQuotaLimits(project, { vcpus: 64, clusters: 5 });

    // Act
    await table.store.setQuotaLimits(project, { servers: 10 });
    const written = await table.store.setQuotaLimits(project, { vcpus: 32 });

    // Assess
    expect(written).toEqual({ usage: { vcpus: 4, servers: 2, clusters: 1 }, limits: { vcpus: 32, servers: 10, clusters: 5 } });
    expect(await table.store.getQuota(project)).toEqual(written);
  });

  it('removes just the reset limits, and may set others in the same call', async () => {
    const project = `quota-${randomUUID()}`;
    await table.store.setQuotaLimits(project, { vcpus: 8, servers: 4, clusters: 2 });

    const written = await table.store.setQuotaLimits(project, { clusters: 3 }, ['vcpus']);

    expect(written.limits).toEqual({ servers: 4, clusters: 3 });
    expect(await table.store.getQuota(project)).toEqual(written);
  });

  it('resets a project that has no limits (or no item) by changing nothing', async () => {
    const bare = `quota-${randomUUID()}`;
    const counted = `quota-${randomUUID()}`;
    await table.store.reserveQuota(counted, { vcpus: 2, servers: 1, clusters: 1 }, { vcpus: 10, servers: 10, clusters: 10 });

    expect(await table.store.setQuotaLimits(bare, {}, ['servers'])).toEqual({ usage: { vcpus: 0, servers: 0, clusters: 0 }, limits: {} });
    expect(await table.store.setQuotaLimits(counted, {}, ['servers', 'clusters'])).toEqual({ usage: { vcpus: 2, servers: 1, clusters: 1 }, limits: {} });
    expect(await quotaItem(bare)).toBeUndefined();
  });

  it('reads and amends a limits map written whole, as a raw update-item writes it', async () => {
    // Prepare
    const project = `quota-${randomUUID()}`;
    await table.dynamodb.client.send(
      new UpdateItemCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: { pk: { S: `QUOTA#${project}` }, sk: { S: 'QUOTA' } },
        UpdateExpression: 'SET limits = :l',
        ExpressionAttributeValues: { ':l': { M: { servers: { N: '50' }, vcpus: { N: '200' } } } },
      }),
    );

    // Act
    const before = await table.store.getQuota(project);
    const after = await table.store.setQuotaLimits(project, { clusters: 7 }, ['vcpus']);

    // Assess
    expect(before.limits).toEqual({ servers: 50, vcpus: 200 });
    expect(after.limits).toEqual({ servers: 50, clusters: 7 });
  });

  it('loses none of several first writes racing on a project without limits', async () => {
    const project = `quota-${randomUUID()}`;

    await Promise.all([
      table.store.setQuotaLimits(project, { vcpus: 1 }),
      table.store.setQuotaLimits(project, { servers: 2 }),
      table.store.setQuotaLimits(project, { clusters: 3 }),
    ]);

    expect((await table.store.getQuota(project)).limits).toEqual({ vcpus: 1, servers: 2, clusters: 3 });
  });

  it('refuses a resource that is both set and reset, writing nothing', async () => {
    const project = `quota-${randomUUID()}`;

    await expect(table.store.setQuotaLimits(project, { servers: 1 }, ['servers'])).rejects.toThrow(/both set and reset: servers/);
    expect(await quotaItem(project)).toBeUndefined();
  });
});
