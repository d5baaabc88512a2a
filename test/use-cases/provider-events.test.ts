import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Server } from '#domain/model';
import { providerEventsSecret } from '#domain/provider-events';
import { receiveProviderEvent, type ProviderEventDeps } from '#use-cases/provider-events';
import { clusterRecord } from '../support/clusters.ts';
import { startTestTable, storeCluster, type TestTable } from '../support/dynamodb.ts';

const KEY = 'node-report-key-'.repeat(4);
let table: TestTable;
beforeEach(async () => {
  table = await startTestTable();
});
afterEach(async () => {
  await table.stop();
});

const server = (name: string, id: string | null): Server => ({ id, name, role: 'worker', group: 'workers', flavor: 'n1-cpu-small', state: 'BUILD', privateIp: null, publicIp: null });
const deps = (): ProviderEventDeps => ({ clusters: table.clusters, nodeReportKey: async () => KEY });
const event = (id: number, status = 'ACTIVE') => JSON.stringify({ resource: { id, name: `cs-abc-w${id}`, status }, operation: { name: 'createVM', status: 'SUCCESS' } });
const notes = async (id: string) => (await table.clusters.listEvents(id)).map((entry) => entry.message).filter((message) => message.includes('reports'));

describe('the cloud’s callbacks about a cluster’s servers', () => {
  it('records the change of a server of the cluster as a timeline note, by the server’s name', async () => {
    const { id } = await storeCluster(table, clusterRecord({ status: 'PROVISIONING', phase: 'wait-servers', servers: [server('w1', '1001'), server('w2', null)] }));

    const answer = await receiveProviderEvent(deps(), id, providerEventsSecret(KEY, id), event(1001));
    // Made but not recorded yet: named as the cloud names it.
    const early = await receiveProviderEvent(deps(), id, providerEventsSecret(KEY, id), event(1002, 'CREATING'));

    expect(answer).toEqual({ recorded: true, server: 'w1' });
    expect(early).toEqual({ recorded: true, server: 'VM cs-abc-w1002' });
    expect(await notes(id)).toEqual(expect.arrayContaining(['local reports createVM ACTIVE of w1', 'local reports createVM CREATING of VM cs-abc-w1002']));
  });

  it('refuses another cluster’s secret and a malformed one before reading the body, and reads only a JSON object', async () => {
    const { id } = await storeCluster(table, clusterRecord({ servers: [server('w1', '1001')] }));
    const { id: other } = await storeCluster(table, clusterRecord({ servers: [server('w1', '2001')] }));

    await expect(receiveProviderEvent(deps(), id, providerEventsSecret(KEY, other), 'not json')).rejects.toMatchObject({ name: 'Unauthorized' });
    await expect(receiveProviderEvent(deps(), id, 'short', event(1001))).rejects.toMatchObject({ name: 'Unauthorized' });
    await expect(receiveProviderEvent(deps(), undefined, providerEventsSecret(KEY, id), event(1001))).rejects.toMatchObject({ name: 'Unauthorized' });
    await expect(receiveProviderEvent(deps(), id, providerEventsSecret(KEY, id), 'not json')).rejects.toMatchObject({ name: 'MalformedJson' });
    await expect(receiveProviderEvent(deps(), id, providerEventsSecret(KEY, id), '[1]')).rejects.toMatchObject({ name: 'MalformedJson' });
    await expect(receiveProviderEvent(deps(), id, providerEventsSecret(KEY, id), JSON.stringify({ pad: 'x'.repeat(17_000) }))).rejects.toMatchObject({ name: 'PayloadTooLarge' });
    expect(await notes(id)).toEqual([]);
  });

  it('answers a cluster that is gone, and an event that names no server, without recording anything', async () => {
    const { id } = await storeCluster(table, clusterRecord({ servers: [server('w1', '1001')] }));
    const gone = 'c0ffee00-0000-4000-8000-00000000dead';

    expect(await receiveProviderEvent(deps(), gone, providerEventsSecret(KEY, gone), event(1))).toEqual({ recorded: false, reason: 'the cluster is gone' });
    expect(await receiveProviderEvent(deps(), id, providerEventsSecret(KEY, id), JSON.stringify({ hello: 'world' }))).toEqual({ recorded: false, reason: 'the event names no server' });
    expect(await notes(id)).toEqual([]);
  });
});
