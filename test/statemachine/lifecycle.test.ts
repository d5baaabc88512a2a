/**
 * The statuses the workflows write follow the lifecycle's transitions (functions/domain/lifecycle.ts):
 * runs of the real ASL files through success, failure, retry, destroy, a destroy taking over and a
 * restart, each timeline read back from the table and held to the table of transitions; and no
 * phase of the catalogue (functions/domain/model.ts) that no step writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '#domain/errors';
import { canMove, type PowerAction } from '#domain/lifecycle';
import { PHASES, type Cluster, type ClusterStatus } from '#domain/model';
import { changeOwnClusterPower, destroyCluster, retryOwnCluster } from '#use-cases/change-cluster';
import { seedRequest } from '../support/clusters.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../support/workflow.ts';

let harness: WorkflowHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** Starts a harness in which each step named in `faults` fails the first time it is called. */
const startFailingOnce = (faults: string[], options: Parameters<typeof startWorkflowHarness>[0] = {}) => {
  const pending = [...faults];
  return startWorkflowHarness({
    ...options,
    beforeStep: (event) => {
      const at = pending.indexOf(event.step);
      if (at < 0) return;
      pending.splice(at, 1);
      throw new ProviderError('InjectedFault', `a fault injected at ${event.step}`);
    },
  });
};

const depsOf = (h: WorkflowHarness) => ({ clusters: h.table.clusters, quotas: h.table.quotas, workflows: h.workflows, quotaDefaults: h.quota });

const destroy = async (h: WorkflowHarness, cluster: Cluster) => {
  const destroying = await destroyCluster(depsOf(h), cluster);
  await h.workflows.waitFor('destroy', destroying.destroyExecutionId?.split(':').at(-1) ?? '');
  return (await h.table.clusters.getCluster(cluster.id)) ?? destroying;
};

const power = async (h: WorkflowHarness, id: string, action: PowerAction) => {
  const accepted = await changeOwnClusterPower(depsOf(h), 'alpha', id, action);
  await h.workflows.waitFor('power', accepted.powerExecutionId?.split(':').at(-1) ?? '');
  return (await h.table.clusters.getCluster(id)) ?? accepted;
};

/** Polls the record until `until` holds of it (a few seconds at most). */
const recordWhen = async (h: WorkflowHarness, id: string, until: (cluster: Cluster) => boolean): Promise<Cluster> => {
  for (let i = 0; i < 500; i++) {
    const cluster = await h.table.clusters.getCluster(id);
    if (cluster && until(cluster)) return cluster;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`cluster ${id} never got where the test waits for it`);
};

const timelineOf = async (h: WorkflowHarness, id: string) => h.table.clusters.listEvents(id);

/** Each change of status on a timeline, as `FROM → TO`. */
const movesOf = (timeline: { status: ClusterStatus }[]): string[] =>
  timeline.slice(1).flatMap((event, i) => {
    const from = timeline[i]?.status;
    return from && from !== event.status ? [`${from} → ${event.status}`] : [];
  });

const strayMoves = (timeline: { status: ClusterStatus }[]): string[] =>
  movesOf(timeline).filter((move) => {
    const [from, to] = move.split(' → ') as [ClusterStatus, ClusterStatus];
    return !canMove(from, to);
  });

describe('the statuses the workflows write', () => {
  it('move only as the transitions allow, to ACTIVE with either runner and on to DESTROYED', async () => {
    // Prepare
    harness = await startWorkflowHarness();

    // Act
    const ssm = await harness.run(seedRequest(), 'ssm');
    const container = await harness.run(seedRequest(), 'container');
    await destroy(harness, ssm.cluster);
    await destroy(harness, container.cluster);

    // Assess
    for (const { cluster } of [ssm, container]) {
      const timeline = await timelineOf(harness, cluster.id);
      expect(strayMoves(timeline)).toEqual([]);
      expect(movesOf(timeline)).toEqual(['PENDING → PROVISIONING', 'PROVISIONING → CONFIGURING', 'CONFIGURING → ACTIVE', 'ACTIVE → DESTROYING', 'DESTROYING → DESTROYED']);
    }
  });

  it('move only as the transitions allow through a failure, a retry, a stop and start and a failed destroy, writing every phase of the catalogue', async () => {
    // Prepare: the first check of the configuration fails, and so does the first deletion.
    harness = await startFailingOnce(['check-configuration', 'destroy']);

    // Act
    const { cluster: failed } = await harness.run(seedRequest());
    await retryOwnCluster(depsOf(harness), 'alpha', failed.id);
    await harness.workflows.waitFor('provision', `${failed.id}-2`);
    const active = await harness.table.clusters.getCluster(failed.id);
    await power(harness, failed.id, 'stop');
    const started = await power(harness, failed.id, 'start');
    const destroyFailed = await destroy(harness, started);
    const destroyed = await destroy(harness, destroyFailed);

    // Assess
    expect([failed.status, active?.status, destroyFailed.status, destroyed.status]).toEqual(['FAILED', 'ACTIVE', 'FAILED', 'DESTROYED']);
    const timeline = await timelineOf(harness, failed.id);
    expect(strayMoves(timeline)).toEqual([]);
    expect(movesOf(timeline)).toEqual(
      expect.arrayContaining(['CONFIGURING → FAILED', 'FAILED → PENDING', 'ACTIVE → STOPPING', 'STOPPING → STOPPED', 'STOPPED → STARTING', 'STARTING → ACTIVE', 'DESTROYING → FAILED', 'FAILED → DESTROYING']),
    );
    const written = new Set(timeline.map((event) => event.phase));
    expect(PHASES.filter((phase) => !written.has(phase))).toEqual([]);
  });

  it('move only as the transitions allow when a step fails before the configuration', async () => {
    harness = await startFailingOnce(['allocate-ips']);

    const { cluster } = await harness.run(seedRequest());

    expect(cluster.status).toBe('FAILED');
    const timeline = await timelineOf(harness, cluster.id);
    expect(strayMoves(timeline)).toEqual([]);
    expect(movesOf(timeline)).toEqual(['PENDING → PROVISIONING', 'PROVISIONING → FAILED']);
  });

  it('move only as the transitions allow when a destroy takes over a cluster being provisioned', async () => {
    // Prepare: servers slow enough to boot that the destroy comes while they do.
    harness = await startWorkflowHarness({ cloud: { bootMs: { min: 2000, max: 2000 } } });
    const created = await harness.create(seedRequest());
    const provisioning = await recordWhen(harness, created.id, (cluster) => cluster.status === 'PROVISIONING');

    // Act
    const destroyed = await destroy(harness, provisioning);
    await harness.workflow.waitFor(created.id);

    // Assess
    expect(destroyed.status).toBe('DESTROYED');
    const timeline = await timelineOf(harness, created.id);
    expect(strayMoves(timeline)).toEqual([]);
    expect(movesOf(timeline)).toEqual(['PENDING → PROVISIONING', 'PROVISIONING → DESTROYING', 'DESTROYING → DESTROYED']);
  });

  it('move only as the transitions allow when an execution stopped during the configuration is started again', async () => {
    // Prepare: a configuration long enough to stop its execution while it runs, as a crash would.
    harness = await startWorkflowHarness({ cloud: { configMs: { min: 1500, max: 1500 } } });
    const created = await harness.create(seedRequest());
    await recordWhen(harness, created.id, (cluster) => cluster.status === 'CONFIGURING' && cluster.phase.startsWith('configure:'));
    await harness.workflow.stopAll();

    // Act
    const restarted = harness.restart();
    restarted.machines.provision.start(created.id, { clusterId: created.id });
    await restarted.waitFor('provision', created.id);

    // Assess
    const timeline = await timelineOf(harness, created.id);
    expect(timeline.at(-1)?.status).toBe('ACTIVE');
    expect(strayMoves(timeline)).toEqual([]);
    expect(movesOf(timeline)).toContain('CONFIGURING → PROVISIONING');
  });
});
