import { describe, expect, it } from 'vitest';
import type { Cluster, Server } from '#domain/model';
import { decideNodeReport, nodeReportSchema, nodeSecret, nodeSecretMatches, nodeSecretOf, offlineAgents, type NodeReport } from '#domain/node-agents';
import { clusterRecord } from '../support/clusters.ts';

const KEY = 'k'.repeat(64);
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0l3Gm6vUq3d7dTq1k8Qe0qz9c4pH8xWm3rY2b1aC0d';
const NOW = '2026-12-04T12:00:00.000Z';

const server = (name: string, role: string, id: string | null = `id-${name}`): Server => ({
  id,
  name,
  role,
  group: role === 'master' ? 'master' : 'slaves',
  flavor: 'm1.small',
  state: 'ACTIVE',
  privateIp: role === 'master' ? '10.42.0.10' : '10.42.0.11',
  publicIp: null,
});

const cluster = (overrides: Partial<Cluster> = {}): Cluster => {
  const base = clusterRecord({ status: 'CONFIGURING', phase: 'configure', servers: [server('m', 'master'), server('w1', 'worker'), server('w2', 'worker')] });
  return { ...base, spec: { ...base.spec, configuration: { ...base.spec.configuration, runner: 'cloud-init' } }, ...overrides };
};

const report = (body: Record<string, unknown>): NodeReport => nodeReportSchema.parse(body);

describe('node secrets', () => {
  it('are made per cluster: one cluster’s secret opens no other', () => {
    const a = nodeSecret(KEY, 'cluster-a');

    expect(nodeSecretMatches(KEY, 'cluster-a', a)).toBe(true);
    expect(nodeSecretMatches(KEY, 'cluster-b', a)).toBe(false);
    expect(nodeSecretMatches('another key', 'cluster-a', a)).toBe(false);
    expect(nodeSecretMatches(KEY, 'cluster-a', `${a}x`)).toBe(false);
    expect(nodeSecretMatches(KEY, 'cluster-a', '')).toBe(false);
  });

  it('are read from `Authorization: Node <secret>` only', () => {
    const secret = nodeSecret(KEY, 'c');

    expect(nodeSecretOf(`Node ${secret}`)).toBe(secret);
    expect(nodeSecretOf(`Token ${secret}`)).toBeNull();
    expect(nodeSecretOf(`Node ${secret} extra`)).toBeNull();
    expect(nodeSecretOf(undefined)).toBeNull();
  });
});

describe('what a node is told', () => {
  it('asks the master for its controller key first, and holds the workers until it came', () => {
    expect(decideNodeReport(cluster(), report({ type: 'poll', node: 'm' }), NOW).instruction).toEqual({ next: 'controller-key' });
    expect(decideNodeReport(cluster(), report({ type: 'poll', node: 'w1' }), NOW, 2).instruction).toMatchObject({ next: 'wait', seconds: 2 });
  });

  it('records the key once, and then tells each worker to let it in from the master’s address', () => {
    const keyed = decideNodeReport(cluster(), report({ type: 'controller-key', node: 'm', publicKey: PUBLIC_KEY }), NOW);
    expect(keyed.nodeAgents).toEqual({ ready: [], controllerKey: PUBLIC_KEY });
    expect(keyed.message).toBe('the master m sent its controller key');
    const withKey = cluster({ nodeAgents: keyed.nodeAgents ?? null });

    expect(decideNodeReport(withKey, report({ type: 'controller-key', node: 'm', publicKey: PUBLIC_KEY }), NOW).nodeAgents).toBeUndefined();
    expect(decideNodeReport(withKey, report({ type: 'poll', node: 'w1' }), NOW).instruction).toEqual({ next: 'authorize', publicKey: PUBLIC_KEY, masterIp: '10.42.0.10' });
  });

  it('counts the workers that let the key in, once each, and says so when the last one did', () => {
    const withKey = cluster({ nodeAgents: { controllerKey: PUBLIC_KEY, ready: ['w1'] } });

    const again = decideNodeReport(withKey, report({ type: 'authorized', node: 'w1' }), NOW);
    const last = decideNodeReport(withKey, report({ type: 'authorized', node: 'w2' }), NOW);

    expect(again.nodeAgents).toBeUndefined();
    expect(last.nodeAgents?.ready).toEqual(['w1', 'w2']);
    expect(last.message).toBe('all 2 workers let the controller key in');
    expect(offlineAgents(withKey)).toEqual(['id-w2']);
    expect(offlineAgents(cluster({ nodeAgents: last.nodeAgents ?? null }))).toEqual([]);
    expect(offlineAgents(cluster())).toEqual(['id-m', 'id-w1', 'id-w2']);
  });

  it('gives the master the run released for the current attempt, once it is released, and notes when it fetched it', () => {
    const ready: Cluster = cluster({ nodeAgents: { controllerKey: PUBLIC_KEY, ready: ['w1', 'w2'] } });
    expect(decideNodeReport(ready, report({ type: 'poll', node: 'm' }), NOW).instruction).toMatchObject({ next: 'wait' });

    const released = cluster({ nodeAgents: { controllerKey: PUBLIC_KEY, ready: ['w1', 'w2'], run: { attempt: 1, profile: 'lambda', inventoryVars: {} } } });
    const fetched = decideNodeReport(released, report({ type: 'poll', node: 'm' }), NOW);

    expect(fetched.instruction).toEqual({ next: 'run', attempt: 1, profile: 'lambda' });
    expect(fetched.nodeAgents?.run?.fetchedAt).toBe(NOW);
    const stale = cluster({ attempt: 2, nodeAgents: released.nodeAgents ?? null });
    expect(decideNodeReport(stale, report({ type: 'poll', node: 'm' }), NOW).instruction).toMatchObject({ next: 'wait' });
  });

  it('records the exit status of the current attempt’s run only, and once', () => {
    const running = cluster({ nodeAgents: { controllerKey: PUBLIC_KEY, ready: [], run: { attempt: 1, profile: 'lambda', inventoryVars: {} } } });

    const done = decideNodeReport(running, report({ type: 'result', node: 'm', attempt: 1, exitCode: 2 }), NOW);
    const other = decideNodeReport(running, report({ type: 'result', node: 'm', attempt: 3, exitCode: 0 }), NOW);
    const fromWorker = decideNodeReport(running, report({ type: 'result', node: 'w1', attempt: 1, exitCode: 0 }), NOW);

    expect(done.nodeAgents?.result).toEqual({ attempt: 1, exitCode: 2, at: NOW });
    expect(other.nodeAgents).toBeUndefined();
    expect(fromWorker.nodeAgents).toBeUndefined();
    expect(fromWorker.instruction.next).toBe('stop');
    const ended = cluster({ nodeAgents: done.nodeAgents ?? null });
    expect(decideNodeReport(ended, report({ type: 'result', node: 'm', attempt: 1, exitCode: 0 }), NOW).nodeAgents).toBeUndefined();
  });

  it('tells every agent to stop once the cluster is active, being taken down, gone from its servers, or not a cloud-init one', () => {
    const poll = report({ type: 'poll', node: 'm' });
    const base = cluster();
    const stopped = (state: Cluster) => decideNodeReport(state, poll, NOW).instruction.next;

    expect(stopped(cluster({ status: 'ACTIVE', phase: 'ready' }))).toBe('stop');
    expect(stopped(cluster({ status: 'DESTROYING', phase: 'destroy' }))).toBe('stop');
    expect(stopped(cluster({ status: 'CONFIGURING', phase: 'rollback' }))).toBe('stop');
    expect(stopped(cluster({ status: 'FAILED', phase: 'failed', servers: base.servers.map((s) => ({ ...s, state: 'DELETED' as const })) }))).toBe('stop');
    expect(stopped({ ...base, spec: { ...base.spec, configuration: { ...base.spec.configuration, runner: 'ssm' } } })).toBe('stop');
    expect(decideNodeReport(base, report({ type: 'poll', node: 'stranger' }), NOW).instruction).toEqual({ next: 'stop', reason: 'stranger is not a node of this cluster' });
  });

  it('keeps the master of a kept FAILED cluster asking, slowly, for a retry’s run', () => {
    const failed = cluster({ status: 'FAILED', phase: 'failed', nodeAgents: { controllerKey: PUBLIC_KEY, ready: [] } });

    expect(decideNodeReport(failed, report({ type: 'poll', node: 'm' }), NOW).instruction).toMatchObject({ next: 'wait', seconds: 60 });
  });

  it('takes only well-formed reports: a controller key that is not an ed25519 public key is refused', () => {
    expect(nodeReportSchema.safeParse({ type: 'controller-key', node: 'm', publicKey: `${PUBLIC_KEY}\nssh-rsa AAAA evil` }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ type: 'poll', node: 'm', extra: 1 }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ type: 'lines', node: 'm', attempt: 1, lines: [] }).success).toBe(false);
  });
});
