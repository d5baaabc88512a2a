import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '#use-cases/tokens';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';
import { seedRequest } from '../support/clusters.ts';
import { api, nativeBody, waitForCluster } from '../support/http.ts';

const projectToken = async (stack: LocalStack, project: string) => (await issueToken(stack.stores.tokens, { project })).token;

const inventoryStates = (stack: LocalStack, clusterId: string) =>
  stack.cloud
    .listServers()
    .filter((server) => server.clusterId === clusterId)
    .map((server) => server.state);

/** Polls the compat status route until it answers one of `statuses`. */
const waitForCompatStatus = async (stack: LocalStack, token: string, uuid: string, statuses: string[]): Promise<string> => {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const reply = await api<{ status: string }>(stack, token, 'GET', `/backend/lambda-instances/${uuid}/status`);
    if (statuses.includes(reply.body.status)) return reply.body.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`lambda instance ${uuid} never reached ${statuses.join(' or ')}`);
};

describe('stop and start over real HTTP', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ cloud: { powerMs: { min: 50, max: 150 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('POST /v1/clusters/{id}/stop → 202 STOPPING, every server STOPPED in the cloud; /start → ACTIVE again, the timeline showing both', async () => {
    // Prepare
    const token = await projectToken(stack, 'power-native');
    const created = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(3, { network: { publicIp: 'master' } }) });
    const active = await waitForCluster(stack, token, created.body.id, ['ACTIVE', 'FAILED']);

    // Act
    const stop = await api<{ id: string; status: string }>(stack, token, 'POST', `/v1/clusters/${active.id}/stop`);
    const stopped = await waitForCluster(stack, token, active.id, ['STOPPED', 'FAILED']);
    const inventoryStopped = inventoryStates(stack, active.id);
    const start = await api<{ status: string }>(stack, token, 'POST', `/v1/clusters/${active.id}/start`);
    const started = await waitForCluster(stack, token, active.id, ['ACTIVE', 'FAILED']);
    const events = await api<{ items: { status: string; phase: string }[] }>(stack, token, 'GET', `/v1/clusters/${active.id}/events`);

    // Assess
    expect(active.status).toBe('ACTIVE');
    expect(stop.status).toBe(202);
    expect(stop.body).toMatchObject({ id: active.id, status: 'STOPPING' });
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.servers.map((server) => server.state)).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    expect(stopped.servers.map((server) => server.publicIp)).toEqual(active.servers.map((server) => server.publicIp));
    expect(inventoryStopped).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    expect(start.status).toBe(202);
    expect(start.body.status).toBe('STARTING');
    expect(started.status).toBe('ACTIVE');
    expect(inventoryStates(stack, active.id)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    const statuses = events.body.items.map((event) => event.status);
    expect(statuses.slice(statuses.indexOf('STOPPING'))).toEqual(expect.arrayContaining(['STOPPING', 'STOPPED', 'STARTING', 'ACTIVE']));
    expect(statuses.indexOf('STOPPED')).toBeLessThan(statuses.lastIndexOf('STARTING'));
  });

  it('answers 409 ClusterBusy naming the status for a start of an ACTIVE cluster, and 404 for another project’s', async () => {
    // Prepare
    const token = await projectToken(stack, 'power-busy');
    const other = await projectToken(stack, 'power-other');
    const created = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1) });
    await waitForCluster(stack, token, created.body.id, ['ACTIVE', 'FAILED']);

    // Act
    const start = await api<{ error: { code: string; details: { path: string; message: string }[] } }>(stack, token, 'POST', `/v1/clusters/${created.body.id}/start`);
    const foreign = await api<{ error: { code: string } }>(stack, other, 'POST', `/v1/clusters/${created.body.id}/stop`);

    // Assess
    expect(start.status).toBe(409);
    expect(start.body.error.code).toBe('ClusterBusy');
    expect(start.body.error.details).toEqual([{ path: 'status', message: 'ACTIVE' }]);
    expect(foreign.status).toBe(404);
  });

  it('takes the seed service’s {"action": "stop"} and {"action": "start"}, answering in its names, and 400 naming the field for another action', async () => {
    // Prepare
    const token = await projectToken(stack, 'power-compat');
    const created = await api<{ uuid: string }>(stack, token, 'POST', '/backend/create_lambda_instance', { body: { ...seedRequest(), slaves: 1 } });
    const uuid = created.body.uuid;
    await waitForCompatStatus(stack, token, uuid, ['STARTED', 'FAILED']);

    // Act
    const reboot = await api<{ error: { details: { path: string }[] } }>(stack, token, 'POST', `/backend/lambda-instances/${uuid}`, { body: { action: 'reboot' } });
    const stop = await api<{ uuid: string; status: string }>(stack, token, 'POST', `/backend/lambda-instances/${uuid}`, { body: { action: 'stop' } });
    const stopped = await waitForCompatStatus(stack, token, uuid, ['STOPPED', 'FAILED']);
    const inventoryStopped = inventoryStates(stack, uuid);
    const start = await api<{ uuid: string; status: string }>(stack, token, 'POST', `/backend/lambda-instances/${uuid}`, { body: { action: 'start' } });
    const started = await waitForCompatStatus(stack, token, uuid, ['STARTED', 'FAILED']);

    // Assess
    expect(reboot.status).toBe(400);
    expect(reboot.body.error.details.map((detail) => detail.path)).toEqual(['action']);
    expect(stop.status).toBe(202);
    expect(stop.body).toEqual({ uuid, status: 'STOPPING' });
    expect(stopped).toBe('STOPPED');
    expect(inventoryStopped).toEqual(['STOPPED', 'STOPPED']);
    expect(start.body).toEqual({ uuid, status: 'STARTING' });
    expect(started).toBe('STARTED');
  });

  it('destroys a STOPPED cluster with DELETE, leaving no server', async () => {
    // Prepare
    const token = await projectToken(stack, 'power-delete');
    const created = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(2) });
    await waitForCluster(stack, token, created.body.id, ['ACTIVE', 'FAILED']);
    await api(stack, token, 'POST', `/v1/clusters/${created.body.id}/stop`);
    await waitForCluster(stack, token, created.body.id, ['STOPPED', 'FAILED']);

    // Act
    const deleted = await api(stack, token, 'DELETE', `/v1/clusters/${created.body.id}`);
    const destroyed = await waitForCluster(stack, token, created.body.id, ['DESTROYED', 'FAILED']);

    // Assess
    expect(deleted.status).toBe(202);
    expect(destroyed.status).toBe('DESTROYED');
    expect(inventoryStates(stack, created.body.id)).toEqual([]);
  });
});
