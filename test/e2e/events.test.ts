import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETAIL_TYPES, eventBridgeEventSchema } from '#domain/events';
import { providerRegistry } from '#domain/providers';
import { LocalCloudProvider } from '../../infra/local/cloud/index.ts';
import { handleCreateRequested } from '#use-cases/trigger-create';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';
import { nativeBody } from '../support/http.ts';
import { GENEROUS_QUOTA } from '../support/workflow.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** `aws events put-events`, against the local bus. */
const putEvents = async (entries: unknown[]) => {
  const response = await fetch(`${stack.url}/_local/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Entries: entries }),
  });
  return { status: response.status, body: (await response.json()) as { FailedEntryCount: number; Entries: Record<string, string>[] } };
};

const createRequested = (detail: unknown) => ({
  Source: 'acme.orders',
  DetailType: DETAIL_TYPES.createRequested,
  Detail: JSON.stringify(detail),
  EventBusName: 'cluster-service',
});

const clustersOf = async (project: string) => (await stack.stores.clusters.listClusters(project, { limit: 100 })).items;

const waitForStatus = async (id: string, status: string) => {
  for (let i = 0; i < 400; i++) {
    const cluster = await stack.stores.clusters.getCluster(id);
    if (cluster?.status === status) return cluster;
    await new Promise((r) => setTimeout(r, 25));
  }
  return stack.stores.clusters.getCluster(id);
};

describe('event-driven creates: POST /_local/events, routed like the deployed rule', () => {
  it('starts a cluster from a Cluster Create Requested entry, which reaches ACTIVE in the entry’s project', async () => {
    const response = await putEvents([createRequested({ ...nativeBody(2), project: 'from-events' })]);
    await stack.events.idle();

    expect(response.status).toBe(200);
    expect(response.body.FailedEntryCount).toBe(0);
    expect(response.body.Entries[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    const [cluster] = await clustersOf('from-events');
    expect(cluster).toBeDefined();
    const active = await waitForStatus(cluster?.id ?? '', 'ACTIVE');
    expect(active?.status).toBe('ACTIVE');
    expect(active?.servers.map((s) => s.role)).toEqual(['master', 'worker', 'worker']);
  });

  it('makes one cluster however often the same event is delivered (the event id is the idempotency key)', async () => {
    const [accepted] = (await putEvents([createRequested({ ...nativeBody(0), project: 'redelivered' })])).body.Entries;
    await stack.events.idle();
    const event = stack.events.events().find((e) => e.id === accepted?.EventId);
    expect(event).toBeDefined();
    const deps = {
      clusters: stack.stores.clusters,
      quotas: stack.stores.quotas,
      idempotencyKeys: stack.stores.idempotencyKeys,
      workflows: stack.workflows,
      quotaDefaults: GENEROUS_QUOTA,
      providers: providerRegistry([new LocalCloudProvider(stack.cloud)]),
      defaultProvider: 'local',
      events: stack.events,
    };

    // A second delivery, as SQS may make: the same event again, straight to the use case.
    const again = await handleCreateRequested(deps, eventBridgeEventSchema.parse(event));

    const clusters = await clustersOf('redelivered');
    expect(clusters).toHaveLength(1);
    expect(again).toEqual({ outcome: 'created', clusterId: clusters[0]?.id });
  });

  it('rejects an invalid request once, with a Cluster Create Rejected event naming the fields, and makes nothing', async () => {
    await putEvents([createRequested({ name: 'x', nodeGroups: [], project: 'rejected' })]);
    await stack.events.idle();

    const rejected = stack.events.events().filter((e) => e['detail-type'] === DETAIL_TYPES.createRejected && (e.detail as { project?: string }).project === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.source).toBe('cluster-service');
    expect((rejected[0]?.detail as { code: string; details: { path: string }[] }).code).toBe('ValidationError');
    expect((rejected[0]?.detail as { details: { path: string }[] }).details.map((d) => d.path)).toContain('nodeGroups');
    expect(await clustersOf('rejected')).toEqual([]);
    expect(stack.events.deadLetters).toEqual([]);
  });

  it('rejects a request without a project, naming it', async () => {
    await putEvents([createRequested(nativeBody(0))]);
    await stack.events.idle();

    const rejected = stack.events.events().filter((e) => e['detail-type'] === DETAIL_TYPES.createRejected && (e.detail as { project: unknown }).project === null);
    expect((rejected.at(-1)?.detail as { details: { path: string }[] }).details.map((d) => d.path)).toEqual(['project']);
  });

  it('rejects a request its provider cannot honour (an unknown zone) once, naming the field, and makes nothing', async () => {
    await putEvents([createRequested({ ...nativeBody(1), zone: 'mars-1a', project: 'no-such-zone' })]);
    await stack.events.idle();

    const rejected = stack.events.events().filter((e) => e['detail-type'] === DETAIL_TYPES.createRejected && (e.detail as { project?: string }).project === 'no-such-zone');
    expect(rejected).toHaveLength(1);
    expect((rejected[0]?.detail as { details: { path: string }[] }).details.map((d) => d.path)).toEqual(['zone']);
    expect(await clustersOf('no-such-zone')).toEqual([]);
    expect(stack.events.deadLetters).toEqual([]);
  });

  it('rejects a request over the project’s quota with QuotaExceeded, without retrying it', async () => {
    await stack.stores.quotas.setLimits('tight', { servers: 1 });

    await putEvents([createRequested({ ...nativeBody(2), project: 'tight' })]);
    await stack.events.idle();

    const rejected = stack.events.events().filter((e) => e['detail-type'] === DETAIL_TYPES.createRejected && (e.detail as { project?: string }).project === 'tight');
    expect(rejected.map((e) => (e.detail as { code: string }).code)).toEqual(['QuotaExceeded']);
    expect(await clustersOf('tight')).toEqual([]);
  });

  it('answers per entry, as PutEvents does: a malformed Detail or an unknown bus fails that entry only', async () => {
    const response = await putEvents([
      { Source: 'acme', DetailType: DETAIL_TYPES.createRequested, Detail: '{not json' },
      { Source: 'acme', DetailType: 'Something Else', Detail: '{}', EventBusName: 'nope' },
      { Source: 'acme', DetailType: 'Something Else', Detail: '{}' },
    ]);

    expect(response.body.FailedEntryCount).toBe(2);
    expect(response.body.Entries.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'ResourceNotFoundException', 'ok']);
  });

  it('answers 400 for a body without Entries', async () => {
    const response = await fetch(`${stack.url}/_local/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });

    expect(response.status).toBe(400);
  });
});
