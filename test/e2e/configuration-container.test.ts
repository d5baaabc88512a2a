import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '#use-cases/tokens';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';
import { CONTAINER_LAMBDA_PHASES } from '../support/clusters.ts';
import { api, nativeBody, waitForCluster } from '../support/http.ts';

describe('the container configuration runner over real HTTP (the local stand-in for the ECS task)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('takes a native cluster with runner container to ACTIVE, its timeline passing configure:container and then each component', async () => {
    // Prepare
    const { token } = await issueToken(stack.stores.tokens, { project: 'container-runner' });

    // Act
    const created = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', {
      body: nativeBody(2, { configuration: { profile: 'lambda', runner: 'container' } }),
    });
    const cluster = await waitForCluster(stack, token, created.body.id, ['ACTIVE', 'FAILED']);
    const events = await api<{ items: { status: string; phase: string }[] }>(stack, token, 'GET', `/v1/clusters/${created.body.id}/events`);

    // Assess
    expect(created.status).toBe(202);
    expect(cluster.status).toBe('ACTIVE');
    const phases = events.body.items.map((e) => `${e.status}/${e.phase}`);
    // Per-component phases from the container's COMPONENT lines, through the configuration-progress handler.
    expect(phases.filter((p) => p.startsWith('CONFIGURING/'))).toEqual(CONTAINER_LAMBDA_PHASES);
    expect(phases.at(-1)).toBe('ACTIVE/ready');
  });

  it('answers 400 naming the field to parameters named ansible_*, writing nothing', async () => {
    const { token } = await issueToken(stack.stores.tokens, { project: 'container-runner-400' });

    const created = await api<{ error: { code: string; details: { path: string }[] } }>(stack, token, 'POST', '/v1/clusters', {
      body: nativeBody(1, { configuration: { profile: 'lambda', runner: 'container', parameters: { ansible_user: 'root' } } }),
    });
    const list = await api<{ items: unknown[] }>(stack, token, 'GET', '/v1/clusters');

    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('ValidationError');
    expect(created.body.error.details.map((d) => d.path).join(',')).toContain('configuration.parameters');
    expect(list.body.items).toEqual([]);
  });
});
