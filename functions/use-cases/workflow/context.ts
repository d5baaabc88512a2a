/**
 * What every workflow step runs with: its ports and settings, what the execution handed it, and
 * the cluster record it reads and writes.
 *
 * The workflow state carries only the cluster id and small control values; the cluster record
 * in the store is the truth, so a step can be retried, redriven or resumed after a crash and
 * land on the same result. Every status or phase change goes through `clusters.updateCluster`,
 * which also writes the timeline event.
 */
import { ClusterDestroying } from '#domain/errors';
import type { FailedSteps, StepFailure } from '#domain/failed-step';
import { isBeingDestroyed, type PowerAction } from '#domain/lifecycle';
import type { Cluster, ClusterStatus, Phase } from '#domain/model';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import type { CloudProvider, OperationsListener } from '#domain/provider';
import type { ProviderRegistry } from '#domain/providers';
import type { ClusterStore } from '#domain/cluster-store';
import type { QuotaStore } from '#domain/quota-store';
import type { WorkflowKind } from '#domain/workflow';
import type { WorkflowConfig } from '#lib/config';

export interface StepDeps {
  clusters: ClusterStore;
  quotas: QuotaStore;
  providers: ProviderRegistry;
  config: Pick<WorkflowConfig, 'SERVER_BOOT_TIMEOUT_SECONDS' | 'CONFIGURATION_AGENT_TIMEOUT_SECONDS' | 'CONFIGURATION_TIMEOUT_SECONDS' | 'POLL_INTERVAL_SECONDS'> &
    Partial<Pick<WorkflowConfig, 'DEFAULT_CONFIGURATION_RUNNER' | 'CONTAINER_RUNNER_ENABLED' | 'CONFIGURATION_SUBNETS' | 'CONFIGURATION_SECURITY_GROUPS'>>;
  /**
   * Where the configuration container's documents are kept for it to fetch (S3 on AWS); without
   * it (locally) they travel in its environment.
   */
  inputs?: ConfigurationInputs;
  /**
   * The cloud-init runner's settings: the URL a cluster's nodes report to, and the key their
   * secret is made with. Without them that runner is unavailable. `eventsUrl`: the cluster's
   * callback URL for clouds that call back (`takesCallbackUrl`), from its callback secret.
   */
  nodeAgents?: { reportUrl: (clusterId: string) => string; nodeReportKey: () => Promise<string>; eventsUrl?: (clusterId: string, secret: string) => string };
  now?: () => number;
  /** Milliseconds left before the invocation is stopped (Lambda's context); unbounded locally. */
  remainingMs?: () => number;
}

/**
 * What applies a profile, as the configuration steps drive it: the provider's own runner (the
 * provider itself), or one the service runs with the provider's servers (cloud-init).
 */
export type ConfigurationRunnerPort = Pick<CloudProvider, 'timings' | 'describeConfigurationAgents' | 'startConfiguration' | 'describeConfiguration' | 'continueConfiguration'>;

/** What the failure path's steps are handed of the execution's state. */
export interface FailureInput {
  /**
   * name-container-failure: the failure the configuration container's run was caught with;
   * rollback, from an execution of a definition older than `failed`: the failure alone.
   */
  failure?: StepFailure;
  /** rollback: the failure, filed under the step whose state caught it. */
  failed?: FailedSteps;
  /** record-failure, record-destroy-failure, record-power-failure: the execution's state. */
  state?: { failed?: FailedSteps; failure?: StepFailure; rollbackFailure?: StepFailure };
  /** record-power-failure: what the execution was doing. */
  action?: PowerAction;
}

export type StepResult = Record<string, unknown>;

export interface Step {
  /** The workflow whose Task states call the step. */
  readonly workflow: WorkflowKind;
  run(ctx: StepContext, input: FailureInput): Promise<StepResult>;
}

export class StepContext {
  /** The record as this step last read or wrote it: the next write starts from it. */
  private latest: Cluster | undefined;

  constructor(
    readonly deps: StepDeps,
    readonly clusterId: string,
    /** Provision steps never write to a cluster that is being destroyed. */
    readonly destroying: boolean,
  ) {}

  now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async load(): Promise<Cluster> {
    const cluster = await this.deps.clusters.getCluster(this.clusterId);
    if (!cluster) throw new Error(`cluster ${this.clusterId} does not exist`);
    this.latest = cluster;
    return cluster;
  }

  provider(cluster: Cluster): CloudProvider {
    return this.deps.providers.get(cluster.provider);
  }

  /** Writes a change; the timeline gets `message` when status or phase moved. */
  async update(change: (cluster: Cluster) => Partial<Cluster> | null, message: string): Promise<Cluster> {
    this.latest = await this.deps.clusters.updateCluster(this.clusterId, (current) => {
      if (!this.destroying && isBeingDestroyed(current.status)) {
        throw new ClusterDestroying(`cluster ${current.id} is ${current.status}; its provision workflow stops here`);
      }
      const patch = change(current);
      return patch ? { cluster: { ...current, ...patch }, message } : null;
    }, this.latest);
    return this.latest;
  }

  /** `patch` may be worked out from the record as it is when written (an empty one writes nothing unless the phase moved). */
  enter(status: ClusterStatus, phase: Phase, message: string, patch: Partial<Cluster> | ((current: Cluster) => Partial<Cluster>) = {}): Promise<Cluster> {
    return this.update((current) => {
      const moved = current.status !== status || current.phase !== phase;
      const changes = typeof patch === 'function' ? patch(current) : patch;
      return moved || Object.keys(changes).length > 0 ? { status, phase, ...changes } : null;
    }, message);
  }

  /**
   * What a mutating provider call is handed to put the operations it made on the timeline, one
   * note each, under the cluster's status and phase as this step last saw them.
   */
  operationsNote(cluster: Cluster): OperationsListener {
    const provider = cluster.provider;
    return async (operations) => {
      const current = this.latest ?? cluster;
      for (const operation of operations) {
        const error = operation.error ? `: ${operation.error}` : '';
        await this.deps.clusters.addTimelineNote(
          { clusterId: this.clusterId, status: current.status, phase: current.phase },
          `${provider} operation ${operation.type} ${operation.resource}: ${operation.status}${error} (${operation.id})`,
        );
      }
    };
  }

  deadline(seconds: number): string {
    return new Date(this.now() + seconds * 1000).toISOString();
  }

  passed(deadline: string | undefined): boolean {
    return deadline !== undefined && this.now() > Date.parse(deadline);
  }
}
