/**
 * Creating a cluster: record it PENDING, start its provision execution, answer with its id.
 * Every door (the compat route, later the native route and events) comes through here.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowStartFailed } from '#domain/errors';
import type { Cluster, ClusterSpec } from '#domain/model';
import type { ClusterStore } from '#domain/store';
import type { WorkflowStarter } from '#domain/workflow';
import { logger } from '#lib/logger';

export interface CreateClusterDeps {
  store: ClusterStore;
  workflow: WorkflowStarter;
  newId?: () => string;
  now?: () => Date;
}

export interface CreateClusterInput {
  project: string;
  spec: ClusterSpec;
  /** The body as the client sent it. */
  request: Record<string, unknown>;
}

export const createCluster = async (deps: CreateClusterDeps, input: CreateClusterInput): Promise<Cluster> => {
  const id = (deps.newId ?? randomUUID)();
  const at = (deps.now?.() ?? new Date()).toISOString();
  const cluster: Cluster = {
    id,
    project: input.project,
    name: input.spec.name,
    provider: input.spec.provider,
    status: 'PENDING',
    phase: 'accepted',
    spec: input.spec,
    request: input.request,
    servers: [],
    networks: [],
    configurationId: null,
    error: null,
    executionId: deps.workflow.executionIdFor(id),
    deadlines: {},
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  await deps.store.createCluster(cluster, 'cluster requested');
  try {
    await deps.workflow.startProvision(id);
  } catch (cause) {
    // Never leave a PENDING cluster that nothing will ever move: record why it failed.
    logger.error('could not start the provision workflow', { clusterId: id, error: cause });
    const message = cause instanceof Error ? cause.message : String(cause);
    await deps.store.updateCluster(id, (current) => ({
      cluster: { ...current, status: 'FAILED', phase: 'failed', error: { code: 'WorkflowStartFailed', message, step: 'start' } },
      message: `the provision workflow could not be started: ${message}`,
    }));
    throw new WorkflowStartFailed('the provision workflow could not be started; the cluster is recorded FAILED');
  }
  return cluster;
};
