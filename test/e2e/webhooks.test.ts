import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '#domain/events';
import { signature } from '#domain/webhooks';
import { issueToken } from '#use-cases/tokens';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';
import { api, nativeBody, waitForCluster } from '../support/http.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that answers `status` and keeps what it got. */
const startReceiver = async (status = 200) => {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
};

/**
 * Until the cluster's ACTIVE change is on its timeline and handed on: the record says ACTIVE a
 * moment before the timeline item that the table stream carries is written.
 */
const settled = async (token: string, id: string) => {
  await waitForCluster(stack, token, id, ['ACTIVE']);
  for (let i = 0; i < 200; i++) {
    const { body } = await api<{ items: { phase: string }[] }>(stack, token, 'GET', `/v1/clusters/${id}/events`);
    if (body.items.some((e) => e.phase === 'ready')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await stack.tableStream.idle();
};

let stack: LocalStack;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
beforeAll(async () => {
  stack = await startTestStack({ webhookRetryDelaysMs: [10, 20] });
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});
afterAll(async () => {
  await stack?.stop();
});

describe('status changes: events on the bus and signed webhooks', () => {
  it('POSTs every status change to the callbackUrl, signed with the project’s secret, and notes each delivery', async () => {
    receiver = await startReceiver();
    const { token } = await issueToken(stack.stores.tokens, { project: 'hooked' });
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1, { callbackUrl: receiver.url }) });
    await settled(token, body.id);

    const { body: secret } = await api<{ secret: string; header: string }>(stack, token, 'GET', '/v1/webhook-secret');
    const deliveries = receiver.received.map((r) => ({ ...r, detail: JSON.parse(r.body) as { id: string; status: string; phase: string } }));
    expect(deliveries.length).toBeGreaterThanOrEqual(5);
    for (const delivery of deliveries) {
      expect(delivery.headers['x-signature-256']).toBe(signature(secret.secret, delivery.body));
      expect(delivery.detail.id).toBe(body.id);
    }
    expect(deliveries.map((d) => d.detail.status)).toEqual(expect.arrayContaining(['PENDING', 'PROVISIONING', 'CONFIGURING', 'ACTIVE']));
    expect(deliveries.at(-1)?.detail).toMatchObject({ status: 'ACTIVE', phase: 'ready' });
    const timeline = await api<{ items: { message: string }[] }>(stack, token, 'GET', `/v1/clusters/${body.id}/events`);
    expect(timeline.body.items.filter((e) => /^webhook .* delivered \(200\)/.test(e.message))).toHaveLength(deliveries.length);
  });

  it('a wrong secret does not verify, so receivers can tell a forgery', async () => {
    receiver = await startReceiver();
    const { token } = await issueToken(stack.stores.tokens, { project: 'forgery' });
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0, { callbackUrl: receiver.url }) });
    await settled(token, body.id);

    const first = receiver.received[0];
    expect(first).toBeDefined();
    expect(first?.headers['x-signature-256']).not.toBe(signature('not-the-secret', first?.body ?? ''));
  });

  it('retries a failing receiver, then notes on the timeline that it was not delivered, without holding the cluster up', async () => {
    receiver = await startReceiver(500);
    const { token } = await issueToken(stack.stores.tokens, { project: 'unreachable' });
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0, { callbackUrl: receiver.url }) });

    const cluster = await waitForCluster(stack, token, body.id, ['ACTIVE']);
    await settled(token, body.id);

    expect(cluster.status).toBe('ACTIVE');
    const firstStatus = receiver.received.filter((r) => (JSON.parse(r.body) as { phase: string }).phase === 'accepted');
    expect(firstStatus).toHaveLength(3);
    const timeline = await api<{ items: { message: string }[] }>(stack, token, 'GET', `/v1/clusters/${body.id}/events`);
    expect(timeline.body.items.some((e) => e.message === 'webhook for PENDING/accepted not delivered: answered 500')).toBe(true);
  });

  it('puts a Cluster Status Changed event on the bus for every change, with source cluster-service', async () => {
    const { token } = await issueToken(stack.stores.tokens, { project: 'on-the-bus' });
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) });
    await settled(token, body.id);

    const changes = stack.events.events().filter((e) => e['detail-type'] === DETAIL_TYPES.statusChanged && (e.detail as { id: string }).id === body.id);
    const timeline = await api<{ items: unknown[] }>(stack, token, 'GET', `/v1/clusters/${body.id}/events`);
    expect(changes.length).toBe(timeline.body.items.length);
    expect(changes.every((e) => e.source === 'cluster-service')).toBe(true);
    expect(changes.at(-1)?.detail).toMatchObject({ id: body.id, project: 'on-the-bus', status: 'ACTIVE', phase: 'ready', error: null });
  });
});
