/**
 * Which status a cluster may go to from which (docs/architecture.md, "Statuses and phases"), and
 * what a retry, a destroy and the workflows' steps may act on. The use cases decide from these,
 * and test/statemachine/lifecycle.test.ts holds what the workflows write to the table.
 */
import { CLUSTER_STATUSES, type ClusterStatus } from './model.ts';

/**
 * Every move between statuses, by the status it leaves. A write that keeps the status (a phase
 * change) is no move.
 */
export const TRANSITIONS = {
  PENDING: ['PROVISIONING', 'FAILED', 'DESTROYING'],
  PROVISIONING: ['CONFIGURING', 'FAILED', 'DESTROYING'],
  // A restarted execution begins again at the plan, which records PROVISIONING.
  CONFIGURING: ['ACTIVE', 'PROVISIONING', 'FAILED', 'DESTROYING'],
  // The rollback may follow a step that failed after "Mark the cluster active" wrote.
  ACTIVE: ['FAILED', 'DESTROYING', 'STOPPING'],
  // PENDING is a retry's new attempt; STOPPING and STARTING repeat a stop or start that failed.
  FAILED: ['PENDING', 'DESTROYING', 'STOPPING', 'STARTING'],
  // A destroy that failed is FAILED at step destroy, and can be destroyed again.
  DESTROYING: ['DESTROYED', 'FAILED'],
  DESTROYED: [],
  STOPPING: ['STOPPED', 'FAILED', 'DESTROYING'],
  STOPPED: ['STARTING', 'DESTROYING'],
  STARTING: ['ACTIVE', 'FAILED', 'DESTROYING'],
} as const satisfies Record<ClusterStatus, readonly ClusterStatus[]>;

export const canMove = (from: ClusterStatus, to: ClusterStatus): boolean =>
  from === to || (TRANSITIONS[from] as readonly ClusterStatus[]).includes(to);

/** Statuses a cluster never leaves by itself; anything else is resumed after a restart. */
export const TERMINAL_STATUSES: readonly ClusterStatus[] = ['ACTIVE', 'FAILED', 'DESTROYED', 'STOPPED'];

export const isTerminal = (status: ClusterStatus): boolean => TERMINAL_STATUSES.includes(status);

/**
 * A destroy has taken the cluster over: the destroy workflow alone writes its record, and the
 * provision workflow's steps stop.
 */
export const isBeingDestroyed = (status: ClusterStatus): boolean => status === 'DESTROYING' || status === 'DESTROYED';

/** The statuses in which the cluster's provision execution may still be running. */
export const isProvisioning = (status: ClusterStatus): boolean => status === 'PENDING' || status === 'PROVISIONING' || status === 'CONFIGURING';

/** The statuses in which the cluster's power execution (stop or start) may still be running. */
export const isChangingPower = (status: ClusterStatus): boolean => status === 'STOPPING' || status === 'STARTING';

/** The steps a failed stop or start records: the same request again repeats it (a retry does not). */
export const POWER_STEPS = ['stop', 'start'] as const;
export type PowerAction = (typeof POWER_STEPS)[number];

/**
 * Whether a stop (or a start) may begin: a stop from ACTIVE, a start from STOPPED, and either
 * again from a FAILED one of its own kind, whose servers may be half-way.
 */
export const canChangePower = (action: PowerAction, status: ClusterStatus, failedStep: string | undefined): boolean =>
  action === 'stop' ? status === 'ACTIVE' || (status === 'FAILED' && failedStep === 'stop') : status === 'STOPPED' || (status === 'FAILED' && failedStep === 'start');

/** A retry starts a new attempt of a cluster that failed, and of no other. */
export const isRetryable = (status: ClusterStatus): boolean => status === 'FAILED';

/** The statuses of a cluster no destroy has taken over yet: those the expiry of `ttlHours` looks through. */
export const NOT_BEING_DESTROYED: readonly ClusterStatus[] = CLUSTER_STATUSES.filter((status) => !isBeingDestroyed(status));
