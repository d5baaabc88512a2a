/**
 * Domain errors. `name` is the error code: it is what the HTTP envelope shows as `code` and what
 * a Step Functions Retry/Catch matches in `ErrorEquals`, so these names are part of the contract.
 */

export interface ErrorDetail {
  path: string;
  message: string;
}

export class DomainError extends Error {
  readonly statusCode: number = 500;
  readonly details: ErrorDetail[];

  constructor(message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/**
 * A base for errors answered with `status`: each subclass stays a named class of its own, since
 * its name is the error code that the envelope shows and Retry/Catch match.
 */
const answeredWith = (status: number) =>
  class extends DomainError {
    override readonly statusCode: number = status;
  };

/** The request does not satisfy the schema; `details` names each offending field. */
export class ValidationError extends answeredWith(400) {}

export class MalformedJson extends answeredWith(400) {}

export class UnsupportedMediaType extends answeredWith(415) {}

export class PayloadTooLarge extends answeredWith(413) {}

export class NotFound extends answeredWith(404) {}

/** A caller the route cannot authenticate (a node's report without its cluster's secret). */
export class Unauthorized extends answeredWith(401) {}

export class Conflict extends answeredWith(409) {}

/** The cluster is not in a status that allows the change asked for (another change runs, or it is not ACTIVE). */
export class ClusterBusy extends answeredWith(409) {}

export class QuotaExceeded extends answeredWith(403) {}

/** The spec cannot be served by the provider (no flavor fits, unknown provider, …). */
export class InvalidSpec extends answeredWith(400) {}

/** The workflow could not be started; the cluster is recorded FAILED. */
export class WorkflowStartFailed extends answeredWith(503) {}

/**
 * A provider answered with something worth retrying (throttling, 5xx, a dropped connection).
 * The workflow retries it with backoff and jitter before it gives up.
 */
export class TransientProviderError extends answeredWith(503) {}

/** A provider refused for good (bad request, quota, capacity); the workflow rolls back. */
export class ProviderError extends DomainError {
  override readonly statusCode = 502;

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    // The code is the name Step Functions sees, so the cluster's error names what went wrong.
    this.name = code;
  }
}

/** The cluster names a provider this deployment does not have. */
export class ProviderUnavailable extends ProviderError {
  constructor(message: string) {
    super('ProviderUnavailable', message);
  }
}

/** One or more servers went into ERROR while booting. */
export class ServerBootFailed extends DomainError {}

/** Servers were not all running before the boot deadline. */
export class ServersBootTimeout extends DomainError {}

/** A server went into ERROR, or out of the provider's knowledge, while it was being stopped or started. */
export class ServerPowerFailed extends DomainError {}

/** Servers were not all stopped (or all running) before the stop's (or start's) deadline. */
export class ServerPowerTimeout extends DomainError {}

/** The configuration run failed on a node. */
export class ConfigurationFailed extends DomainError {}

export class ConfigurationTimeout extends DomainError {}

/** Some servers' configuration agents (SSM's on ec2) were still not online when their deadline passed. */
export class ConfigurationAgentsOffline extends DomainError {}

/** The cloud-init runner was asked for, but this deployment has no node report route (SERVICE_URL) or key. */
export class CloudInitRunnerUnavailable extends DomainError {}

/** The container runner was asked for, but this deployment has no configuration container. */
export class ContainerRunnerUnavailable extends DomainError {}

/**
 * The configuration container exited because a component failed, and its `COMPONENT … FAILED`
 * line has not reached the cluster's record yet (log delivery runs beside the workflow): the
 * workflow asks again a few times before it rolls back without the component and node.
 */
export class ConfigurationReportPending extends DomainError {}

/** The container's inventory would not fit in the workflow's state. */
export class InventoryTooLarge extends DomainError {}

/** The cluster is being destroyed: its provision workflow must not write to it any more. */
export class ClusterDestroying extends answeredWith(409) {}

/** The provider still reported resources when the destroy deadline passed. */
export class DestroyIncomplete extends DomainError {}

/** A restarted workflow found its cluster mid-rollback: it goes straight back to rolling back. */
export class RollbackInterrupted extends DomainError {}

/** The provider still reported resources when the rollback deadline passed. */
export class RollbackIncomplete extends DomainError {}

/** Another writer changed the record first (optimistic locking). */
export class VersionConflict extends answeredWith(409) {}
