/**
 * The cloud's own quota against what a plan needs (the dry run's `cloudQuota`): per resource the
 * cloud's limit and usage, what the plan would add, and whether it fits. A limit of -1 is the
 * cloud's "unlimited" (Nova, Neutron and Cinder all write it so).
 */

/** What the cloud counts and answers, as the provider reads it; a resource the cloud does not count is absent. */
export interface CloudQuotaAmount {
  limit: number;
  used: number;
  /** What the plan would add. */
  requested: number;
}

export interface CloudQuotaLine extends CloudQuotaAmount {
  /** What is left after the plan: `limit - used - requested`; null where the limit is unlimited. */
  headroom: number | null;
  fits: boolean;
}

export interface CloudQuotaReport {
  /** Per resource (`instances`, `cores`, `ramMb`, `floatingIps`, `networks`, …). */
  resources: Record<string, CloudQuotaLine>;
  /** The resources the plan would take past their limit, in the order given. */
  wouldExceed: string[];
  fits: boolean;
}

export const UNLIMITED = -1;

export const cloudQuotaLine = (amount: CloudQuotaAmount): CloudQuotaLine => {
  if (amount.limit === UNLIMITED || amount.limit < 0) return { ...amount, headroom: null, fits: true };
  const headroom = amount.limit - amount.used - amount.requested;
  // Nothing asked never fails, even where usage is already over a limit lowered since.
  return { ...amount, headroom, fits: amount.requested === 0 || headroom >= 0 };
};

export const cloudQuotaReport = (amounts: Record<string, CloudQuotaAmount>): CloudQuotaReport => {
  const resources = Object.fromEntries(Object.entries(amounts).map(([name, amount]) => [name, cloudQuotaLine(amount)]));
  const wouldExceed = Object.entries(resources)
    .filter(([, line]) => !line.fits)
    .map(([name]) => name);
  return { resources, wouldExceed, fits: wouldExceed.length === 0 };
};
