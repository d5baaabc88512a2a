/** Each project's quota: what its live clusters hold, and the limits set for it. */

/** Amounts a project's quota counts: what its live clusters hold. */
export interface QuotaAmounts {
  vcpus: number;
  servers: number;
  clusters: number;
}

export type QuotaResource = keyof QuotaAmounts;
/** The resources a quota counts, in the order they are shown. */
export const QUOTA_RESOURCES = ['vcpus', 'servers', 'clusters'] as const satisfies readonly QuotaResource[];

export interface QuotaRecord {
  usage: QuotaAmounts;
  /** Limits set for this project; the deployment's defaults apply to the others. */
  limits: Partial<QuotaAmounts>;
}

export interface QuotaStore {
  get(project: string): Promise<QuotaRecord>;
  /**
   * Adds `amounts` to the project's usage only if every resulting figure stays within `limits`
   * (one conditional write: race-free); throws `QuotaExceeded` naming each resource over.
   */
  reserve(project: string, amounts: QuotaAmounts, limits: QuotaAmounts): Promise<void>;
  release(project: string, amounts: QuotaAmounts): Promise<void>;
  /**
   * Sets the project's own limit for each resource in `limits` and removes it for each in `reset`
   * (the deployment's default applies again). The other resources' limits are left as they are,
   * so concurrent changes to different resources do not undo each other. A resource may not be
   * in both. Answers the record as written.
   */
  setLimits(project: string, limits: Partial<QuotaAmounts>, reset?: readonly QuotaResource[]): Promise<QuotaRecord>;
}
