import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Cluster } from '#domain/model';
import { logger } from '#lib/logger';
import { configurationProgressHandler } from '../../functions/configuration-progress/index.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';
import { lambdaContext } from '../support/events.ts';
import { clusterRecord } from '../support/clusters.ts';

let table: TestTable;
let handle: ReturnType<typeof configurationProgressHandler>;

beforeAll(async () => {
  table = await startTestTable();
  handle = configurationProgressHandler({ clusters: table.clusters });
});
afterAll(async () => {
  await table.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const T0 = Date.parse('2026-01-01T10:00:00Z');

/** A cluster the container is configuring: CONFIGURING at configure:container, as the prepare step leaves it. */
const configuringCluster = async (overrides: Partial<Cluster> = {}): Promise<Cluster> => {
  const at = new Date(T0).toISOString();
  const cluster = clusterRecord({
    name: 'analytics',
    provider: 'ec2',
    status: 'CONFIGURING',
    phase: 'configure:container',
    spec: {
      name: 'analytics',
      provider: 'ec2',
      nodeGroups: [],
      network: { privateNetworks: 1, publicIp: 'master' },
      configuration: { profile: 'lambda', runner: 'container' },
      onFailure: 'rollback',
    },
    request: {},
    attempt: 2,
    quotaReserved: true,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  });
  await table.clusters.createCluster(cluster, 'test cluster');
  return cluster;
};

/** What a CloudWatch Logs subscription hands a Lambda function: base64 of gzipped JSON. */
const subscriptionEvent = (messages: { message: string; at: number }[], messageType = 'DATA_MESSAGE'): CloudWatchLogsEvent => {
  const data = {
    messageType,
    owner: '123456789012',
    logGroup: 'ClusterService-ConfigurationContainerLogGroup',
    logStream: 'configuration/configuration/0123456789abcdef',
    subscriptionFilters: ['progress'],
    logEvents: messages.map(({ message, at }, i) => ({ id: String(i), timestamp: at, message })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
};

const line = (id: string, text: string, at: number, attempt = 2) => ({ message: `COMPONENT ${text} cluster=${id} attempt=${attempt}`, at });

const deliver = (messages: { message: string; at: number }[]) => handle(subscriptionEvent(messages), lambdaContext);

const phasesOf = async (id: string) => (await table.clusters.listEvents(id)).map((e) => `${e.status}/${e.phase}`);

describe('the configuration-progress function (the container’s COMPONENT lines from its log group)', () => {
  it('decodes the subscription payload and moves the cluster through configure:<component>, each on the timeline', async () => {
    // Prepare
    const cluster = await configuringCluster();

    // Act
    await deliver([
      line(cluster.id, 'common START all', T0 + 1000),
      line(cluster.id, 'common OK all', T0 + 2000),
      line(cluster.id, 'hdfs START all', T0 + 2001),
    ]);

    // Assess
    const record = await table.clusters.getCluster(cluster.id);
    expect(record).toMatchObject({ status: 'CONFIGURING', phase: 'configure:hdfs', configurationReport: { attempt: 2, lineAt: T0 + 2001 } });
    expect(await phasesOf(cluster.id)).toEqual(['CONFIGURING/configure:container', 'CONFIGURING/configure:common', 'CONFIGURING/configure:hdfs']);
  });

  it('records the failed component and every node it blames, the first as node', async () => {
    const cluster = await configuringCluster();

    await deliver([line(cluster.id, 'common START all', T0 + 1000), line(cluster.id, 'common FAILED analytics-worker-2', T0 + 5000)]);
    await deliver([line(cluster.id, 'common FAILED analytics-worker-3', T0 + 5000)]);

    const record = await table.clusters.getCluster(cluster.id);
    expect(record?.phase).toBe('configure:common');
    expect(record?.configurationReport?.failure).toEqual({ component: 'common', node: 'analytics-worker-2', nodes: ['analytics-worker-2', 'analytics-worker-3'] });
  });

  it('records a failure that blames no node (`-`) with node null', async () => {
    const cluster = await configuringCluster();

    await deliver([line(cluster.id, 'kafka FAILED -', T0 + 1000)]);

    const record = await table.clusters.getCluster(cluster.id);
    expect(record?.phase).toBe('configure:kafka');
    expect(record?.configurationReport?.failure).toEqual({ component: 'kafka', node: null, nodes: [] });
  });

  it('writes nothing when the same batch is delivered again (at least once delivery)', async () => {
    const cluster = await configuringCluster();
    const batch = [line(cluster.id, 'common START all', T0 + 1000), line(cluster.id, 'common FAILED analytics-worker-2', T0 + 2000)];
    await deliver(batch);
    const first = await table.clusters.getCluster(cluster.id);

    await deliver(batch);

    const second = await table.clusters.getCluster(cluster.id);
    expect(second?.version).toBe(first?.version);
    expect(await phasesOf(cluster.id)).toEqual(['CONFIGURING/configure:container', 'CONFIGURING/configure:common']);
  });

  it('ignores a START logged before the latest line applied (a late, redelivered batch)', async () => {
    const cluster = await configuringCluster();
    await deliver([line(cluster.id, 'yarn START all', T0 + 3000)]);

    await deliver([line(cluster.id, 'hdfs START all', T0 + 2000)]);

    expect((await table.clusters.getCluster(cluster.id))?.phase).toBe('configure:yarn');
  });

  it('ignores a START after the run recorded its failure', async () => {
    const cluster = await configuringCluster();
    await deliver([line(cluster.id, 'hdfs FAILED analytics-worker-1', T0 + 3000)]);

    await deliver([line(cluster.id, 'yarn START all', T0 + 4000)]);

    expect((await table.clusters.getCluster(cluster.id))?.phase).toBe('configure:hdfs');
  });

  it.each([
    ['of an older attempt', { attempt: 3 }],
    ['for an ACTIVE cluster', { status: 'ACTIVE', phase: 'ready' }],
    ['while the cluster rolls back', { phase: 'rollback' }],
    ['for a cluster configured by the ssm runner', { spec: { configuration: { profile: 'lambda', runner: 'ssm' } } }],
  ] as [string, Partial<Cluster>][])('ignores lines %s', async (_what, overrides) => {
    const cluster = await configuringCluster(overrides as Partial<Cluster>);

    await deliver([line(cluster.id, 'common START all', T0 + 1000), line(cluster.id, 'common FAILED analytics-worker-2', T0 + 2000)]);

    const record = await table.clusters.getCluster(cluster.id);
    expect(record?.version).toBe(1);
    expect(record?.configurationReport).toBeUndefined();
  });

  it('drops log events that are no identified COMPONENT line, and lines of clusters that do not exist', async () => {
    const cluster = await configuringCluster();

    await deliver([
      { message: 'TASK [common : Java] ****', at: T0 + 1 },
      { message: 'COMPONENT common START all', at: T0 + 2 },
      line(randomUUID(), 'common START all', T0 + 3),
    ]);

    expect((await table.clusters.getCluster(cluster.id))?.version).toBe(1);
  });

  it('answers CloudWatch Logs’ control message without reading anything', async () => {
    const getCluster = vi.spyOn(table.clusters, 'getCluster');

    await handle(subscriptionEvent([], 'CONTROL_MESSAGE'), lambdaContext);

    expect(getCluster).not.toHaveBeenCalled();
  });

  it('logs with the cluster id', async () => {
    const cluster = await configuringCluster();
    const appendKeys = vi.spyOn(logger, 'appendKeys');

    await deliver([line(cluster.id, 'common START all', T0 + 1000)]);

    expect(appendKeys).toHaveBeenCalledWith({ clusterId: cluster.id });
  });
});
