import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { quotaKey } from '#adapters/dynamodb/table-schema';
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
    await table.clusters.createCluster(cluster, 'requested');
    expect(await table.clusters.getCluster(cluster.id)).toEqual(cluster);
  });

  it('refuses to create the same cluster id twice', async () => {
    const cluster = newCluster();
    await table.clusters.createCluster(cluster, 'requested');
    await expect(table.clusters.createCluster(cluster, 'again')).rejects.toBeInstanceOf(Conflict);
  });

  it('answers null for an unknown cluster and NotFound when updating one', async () => {
    expect(await table.clusters.getCluster(randomUUID())).toBeNull();
    await expect(table.clusters.updateCluster(randomUUID(), (c) => ({ cluster: c, message: '' }))).rejects.toBeInstanceOf(NotFound);
  });

  it('increments the version on every write and keeps id, project and createdAt', async () => {
    const cluster = newCluster();
    await table.clusters.createCluster(cluster, 'requested');
    const updated = await table.clusters.updateCluster(cluster.id, (current) => ({
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
    await table.clusters.createCluster(cluster, 'requested');
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        table.clusters.updateCluster(cluster.id, (current) => ({
          cluster: { ...current, networks: [...current.networks, `net-${i}`] },
          message: '',
        })),
      ),
    );
    const final = await table.clusters.getCluster(cluster.id);
    expect(final?.networks.sort()).toEqual(['net-0', 'net-1', 'net-2', 'net-3', 'net-4', 'net-5']);
    expect(final?.version).toBe(7);
  });

  it('starts from a known record without reading, and reads afresh when that record is stale', async () => {
    const cluster = newCluster();
    await table.clusters.createCluster(cluster, 'requested');
    const stale = structuredClone(cluster);
    await table.clusters.updateCluster(cluster.id, (c) => ({ cluster: { ...c, networks: ['first'] }, message: '' }));

    const seen: number[] = [];
    const updated = await table.clusters.updateCluster(
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
    await table.clusters.createCluster(cluster, 'requested');
    const same = await table.clusters.updateCluster(cluster.id, () => null);
    expect(same.version).toBe(1);
    expect(await table.clusters.listEvents(cluster.id)).toHaveLength(1);
  });

  it('records a timeline event for each status or phase change, in order', async () => {
    const cluster = newCluster();
    await table.clusters.createCluster(cluster, 'requested');
    await table.clusters.updateCluster(cluster.id, (c) => ({ cluster: { ...c, status: 'PROVISIONING', phase: 'plan' }, message: 'planning' }));
    await table.clusters.updateCluster(cluster.id, (c) => ({ cluster: { ...c, networks: ['n1'] }, message: 'no event: same phase' }));
    await table.clusters.updateCluster(cluster.id, (c) => ({ cluster: { ...c, phase: 'create-networks' }, message: 'networks' }));
    const events = await table.clusters.listEvents(cluster.id);
    expect(events.map((e) => [e.status, e.phase, e.message])).toEqual([
      ['PENDING', 'accepted', 'requested'],
      ['PROVISIONING', 'plan', 'planning'],
      ['PROVISIONING', 'create-networks', 'networks'],
    ]);
  });

  it('lists only the asked project’s clusters, newest first, page by page', async () => {
    const project = `p-${randomUUID()}`;
    const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'];
    for (const at of times) await table.clusters.createCluster(newCluster({ project, createdAt: at, updatedAt: at }), 'requested');
    await table.clusters.createCluster(newCluster({ project: `${project}-other` }), 'requested');
    const first = await table.clusters.listClusters(project, { limit: 2 });
    expect(first.items.map((c) => c.createdAt)).toEqual([times[2], times[1]]);
    expect(first.nextToken).toBeTypeOf('string');
    const second = await table.clusters.listClusters(project, { limit: 2, nextToken: first.nextToken });
    expect(second.items.map((c) => c.createdAt)).toEqual([times[0]]);
  });

  it('finds clusters by status across projects', async () => {
    const configuring = newCluster({ status: 'CONFIGURING', project: 'beta' });
    await table.clusters.createCluster(configuring, 'requested');
    const found = await table.clusters.findClustersByStatus(['CONFIGURING']);
    expect(found.map((c) => c.id)).toContain(configuring.id);
    expect(found.every((c) => c.status === 'CONFIGURING')).toBe(true);
  });

  it('lists a project’s tokens oldest first, and revokes one by hash', async () => {
    const project = `tokens-${randomUUID()}`;
    await table.tokens.put({ hash: 'c'.repeat(64), project, createdAt: '2026-01-02T00:00:00.000Z', expiresAt: null, revoked: false });
    await table.tokens.put({ hash: 'd'.repeat(64), project, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });
    await table.tokens.put({ hash: 'e'.repeat(64), project: `${project}-other`, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });

    expect((await table.tokens.list(project)).map((t) => t.hash)).toEqual(['d'.repeat(64), 'c'.repeat(64)]);
    expect((await table.tokens.list()).map((t) => t.hash)).toEqual(expect.arrayContaining(['c'.repeat(64), 'd'.repeat(64), 'e'.repeat(64)]));
    expect(await table.tokens.revoke('c'.repeat(64))).toBe(true);
    expect(await table.tokens.revoke('f'.repeat(64))).toBe(false);
    expect((await table.tokens.get('c'.repeat(64)))?.revoked).toBe(true);
    expect(await table.tokens.get('f'.repeat(64))).toBeNull();
  });

  it('stores a token record under its hash and reads it back', async () => {
    const hash = 'a'.repeat(64);
    await table.tokens.put({ hash, project: 'alpha', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });
    expect(await table.tokens.get(hash)).toEqual({ hash, project: 'alpha', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revoked: false });
    expect(await table.tokens.get('b'.repeat(64))).toBeNull();
  });
});

describe('the DynamoDB store’s quota limits', () => {
  const quotaItem = async (project: string) => {
    const { Item } = await table.dynamodb.client.send(
      new GetItemCommand({ TableName: LOCAL_TABLE_NAME, Key: marshall(quotaKey(project)), ConsistentRead: true }),
    );
    return Item;
  };

  it('sets a limit on a project without a quota item, creating the limits map', async () => {
    const project = `quota-${randomUUID()}`;

    const written = await table.quotas.setLimits(project, { servers: 3 });

    expect(written).toEqual({ usage: { vcpus: 0, servers: 0, clusters: 0 }, limits: { servers: 3 } });
    expect(await table.quotas.get(project)).toEqual(written);
    expect((await quotaItem(project))?.limits).toEqual({ M: { servers: { N: '3' } } });
  });

  it('sets one limit without dropping the others, and keeps the usage', async () => {
    // Prepare
    const project = `quota-${randomUUID()}`;
    await table.quotas.reserve(project, { vcpus: 4, servers: 2, clusters: 1 }, { vcpus: 100, servers: 100, clusters: 100 });
    await table.quotas.setLimits(project, { vcpus: 64, clusters: 5 });

    // Act
    await table.quotas.setLimits(project, { servers: 10 });
    const written = await table.quotas.setLimits(project, { vcpus: 32 });

    // Assess
    expect(written).toEqual({ usage: { vcpus: 4, servers: 2, clusters: 1 }, limits: { vcpus: 32, servers: 10, clusters: 5 } });
    expect(await table.quotas.get(project)).toEqual(written);
  });

  it('removes just the reset limits, and may set others in the same call', async () => {
    const project = `quota-${randomUUID()}`;
    await table.quotas.setLimits(project, { vcpus: 8, servers: 4, clusters: 2 });

    const written = await table.quotas.setLimits(project, { clusters: 3 }, ['vcpus']);

    expect(written.limits).toEqual({ servers: 4, clusters: 3 });
    expect(await table.quotas.get(project)).toEqual(written);
  });

  it('resets a project that has no limits (or no item) by changing nothing', async () => {
    const bare = `quota-${randomUUID()}`;
    const counted = `quota-${randomUUID()}`;
    await table.quotas.reserve(counted, { vcpus: 2, servers: 1, clusters: 1 }, { vcpus: 10, servers: 10, clusters: 10 });

    expect(await table.quotas.setLimits(bare, {}, ['servers'])).toEqual({ usage: { vcpus: 0, servers: 0, clusters: 0 }, limits: {} });
    expect(await table.quotas.setLimits(counted, {}, ['servers', 'clusters'])).toEqual({ usage: { vcpus: 2, servers: 1, clusters: 1 }, limits: {} });
    expect(await quotaItem(bare)).toBeUndefined();
  });

  it('reads and amends a limits map written whole, as a raw update-item writes it', async () => {
    // Prepare
    const project = `quota-${randomUUID()}`;
    await table.dynamodb.client.send(
      new UpdateItemCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: marshall(quotaKey(project)),
        UpdateExpression: 'SET limits = :l',
        ExpressionAttributeValues: { ':l': { M: { servers: { N: '50' }, vcpus: { N: '200' } } } },
      }),
    );

    // Act
    const before = await table.quotas.get(project);
    const after = await table.quotas.setLimits(project, { clusters: 7 }, ['vcpus']);

    // Assess
    expect(before.limits).toEqual({ servers: 50, vcpus: 200 });
    expect(after.limits).toEqual({ servers: 50, clusters: 7 });
  });

  it('loses none of several first writes racing on a project without limits', async () => {
    const project = `quota-${randomUUID()}`;

    await Promise.all([
      table.quotas.setLimits(project, { vcpus: 1 }),
      table.quotas.setLimits(project, { servers: 2 }),
      table.quotas.setLimits(project, { clusters: 3 }),
    ]);

    expect((await table.quotas.get(project)).limits).toEqual({ vcpus: 1, servers: 2, clusters: 3 });
  });

  it('refuses a resource that is both set and reset, writing nothing', async () => {
    const project = `quota-${randomUUID()}`;

    await expect(table.quotas.setLimits(project, { servers: 1 }, ['servers'])).rejects.toThrow(/both set and reset: servers/);
    expect(await quotaItem(project)).toBeUndefined();
  });
});
