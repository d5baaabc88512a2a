/**
 * `quotas show | set`: a project's quota usage and its own limits, as plain functions over the
 * quota port and an output sink, like the tokens commands.
 *
 * A resource without a limit of the project's own is held to the deployment's default, the
 * functions' QUOTA_MAX_* settings. Those live in the functions' environment, not in the table, so
 * the CLI cannot read a deployed stack's; it shows a default's value only when the caller knows
 * it (for the local stack: QUOTA_MAX_* as `npm start` would read them from the same environment).
 */
import { QUOTA_RESOURCES, type QuotaAmounts, type QuotaRecord, type QuotaResource, type QuotaStore } from '#domain/quota-store';
import { columns, parseProject, UsageError, type Output } from './tokens.ts';

/** Output that may also carry warnings: notes that do not make the command fail (stderr in the CLI). */
export interface QuotaOutput extends Output {
  warn(text: string): void;
}

/** Far above any real project's needs; refuses a value with a few zeros too many. */
export const MAX_LIMIT = 1_000_000;

const RESOURCE_LIST = 'vcpus, servers or clusters';

export interface ResourceView {
  /** What the project's live clusters hold. */
  used: number;
  /** The limit in force; null when it is a default the CLI cannot know (a deployed stack's). */
  limit: number | null;
  /** `project`: the project's own limit; `default`: the deployment's QUOTA_MAX_* applies. */
  source: 'project' | 'default';
}

export type QuotaView = { project: string } & Record<QuotaResource, ResourceView>;

const quotaView = (project: string, record: QuotaRecord, defaults: QuotaAmounts | null): QuotaView => {
  const view = (r: QuotaResource): ResourceView => {
    const own = record.limits[r];
    return own !== undefined ? { used: record.usage[r], limit: own, source: 'project' } : { used: record.usage[r], limit: defaults?.[r] ?? null, source: 'default' };
  };
  return { project, vcpus: view('vcpus'), servers: view('servers'), clusters: view('clusters') };
};

const limitText = (view: ResourceView): string => {
  if (view.source === 'project') return String(view.limit);
  return view.limit === null ? 'default' : `default (${view.limit})`;
};

export interface ShowQuotaInput {
  project?: string;
  json?: boolean;
}

/**
 * `defaults`: the deployment's QUOTA_MAX_* when the caller knows them (the local stack), null
 * when it cannot (a deployed table): those resources then show `default` without a number.
 */
export const showQuota = async (quotas: QuotaStore, input: ShowQuotaInput, out: Output, defaults: QuotaAmounts | null): Promise<QuotaView> => {
  const project = parseProject(input.project);
  const view = quotaView(project, await quotas.get(project), defaults);
  if (input.json) {
    out.line(JSON.stringify(view, null, 2));
    return view;
  }
  out.line(`project ${project}`);
  const rows = QUOTA_RESOURCES.map((r) => [r, String(view[r].used), limitText(view[r])]);
  for (const line of columns([['RESOURCE', 'USED', 'LIMIT'], ...rows])) out.line(line);
  if (QUOTA_RESOURCES.some((r) => view[r].source === 'default')) {
    out.line(
      defaults
        ? "default: no limit of the project's own; QUOTA_MAX_* applies, shown as this environment sets it (or the built-in default)"
        : "default: no limit of the project's own; the deployment's QUOTA_MAX_* applies (the table does not hold it)",
    );
  }
  return view;
};

export interface SetQuotaInput {
  project?: string;
  vcpus?: string;
  servers?: string;
  clusters?: string;
  /** Comma-separated resources whose own limit is removed. */
  reset?: string;
}

const parseLimit = (value: string, flag: string): number => {
  // Digits only: no sign, exponent, fraction or blanks, which Number() would quietly accept.
  if (!/^[0-9]+$/.test(value) || Number(value) > MAX_LIMIT) {
    throw new UsageError(`${flag} must be a whole number from 0 to ${MAX_LIMIT} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
};

const isResource = (name: string): name is QuotaResource => (QUOTA_RESOURCES as readonly string[]).includes(name);

const parseReset = (value: string): QuotaResource[] => {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!isResource(name)) {
      const where = names.length > 1 ? ` in ${JSON.stringify(value)}` : '';
      throw new UsageError(`--reset takes ${RESOURCE_LIST}, comma-separated (got ${JSON.stringify(name)}${where})`);
    }
  }
  return QUOTA_RESOURCES.filter((r) => names.includes(r));
};

/**
 * Sets and resets the named limits in one store call, keeping the others, then prints the limits
 * as written. A limit below the current usage is allowed (the clusters holding it keep running)
 * and warned about, since from then on every create of the project is refused.
 */
export const setQuota = async (quotas: QuotaStore, input: SetQuotaInput, out: QuotaOutput): Promise<QuotaRecord> => {
  const project = parseProject(input.project);
  const limits: Partial<QuotaAmounts> = {};
  for (const r of QUOTA_RESOURCES) {
    const value = input[r];
    if (value !== undefined) limits[r] = parseLimit(value, `--${r}`);
  }
  const reset = input.reset === undefined ? [] : parseReset(input.reset);
  const both = reset.find((r) => limits[r] !== undefined);
  if (both) throw new UsageError(`--reset ${both} and --${both} contradict each other: give one of them`);
  if (Object.keys(limits).length === 0 && reset.length === 0) throw new UsageError('quotas set needs at least one of --vcpus, --servers, --clusters or --reset');

  const record = await quotas.setLimits(project, limits, reset);
  const view = quotaView(project, record, null);
  out.line(`limits of project ${project} now: ${QUOTA_RESOURCES.map((r) => `${r} ${limitText(view[r])}`).join(', ')}`);
  for (const r of QUOTA_RESOURCES) {
    const limit = limits[r];
    if (limit !== undefined && record.usage[r] > limit) {
      out.warn(
        `the ${r} limit ${limit} is below the current usage of project ${project} (${record.usage[r]}): its clusters keep running; new creates are refused (403 QuotaExceeded) until enough of them are destroyed`,
      );
    }
  }
  return record;
};
