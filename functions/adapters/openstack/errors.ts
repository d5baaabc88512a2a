/**
 * OpenStack's answers in the domain's terms (docs/openstack-provider.md, "Errors"): what the
 * workflow retries is a TransientProviderError, anything else a ProviderError named after what
 * went wrong, carrying the service's own message.
 */
import { ProviderError, TransientProviderError } from '#domain/errors';

/** The services the provider calls, by the name their messages are known under. */
export const SERVICE_NAMES = {
  identity: 'Keystone',
  compute: 'Nova',
  network: 'Neutron',
  image: 'Glance',
  volume: 'Cinder',
} as const;
export type ServiceType = keyof typeof SERVICE_NAMES;

export interface Fault {
  /** Neutron's exception name (`NetworkNotFound`, `OverQuota`, …); Nova and Cinder name only the status. */
  type?: string;
  message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The words of an error page (Glance's faults, Nova's unknown paths): its head and tags dropped. */
const pageText = (text: string): string =>
  text
    .replace(/<head>[\s\S]*?<\/head>/i, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * The fault of an error body, whichever service wrote it: Nova and Cinder `{"badRequest": {"code",
 * "message"}}` (the key names the status), Neutron `{"NeutronError": {"type", "message", "detail"}}`,
 * Keystone `{"error": {"code", "message", "title"}}`, Glance an HTML page (or plain text behind a proxy).
 */
export const faultOf = (body: unknown): Fault => {
  if (typeof body === 'string') return { message: pageText(body) };
  if (!isRecord(body)) return { message: '' };
  const neutron = body.NeutronError;
  if (isRecord(neutron)) {
    const message = [neutron.message, neutron.detail].filter((part) => typeof part === 'string' && part !== '').join(': ');
    return { ...(typeof neutron.type === 'string' ? { type: neutron.type } : {}), message };
  }
  for (const value of Object.values(body)) {
    if (isRecord(value) && typeof value.message === 'string') return { message: value.message };
  }
  return { message: typeof body.message === 'string' ? body.message : JSON.stringify(body) };
};

/** Nova's and Neutron's quota refusals: 403 from Nova, 409 `OverQuota` from Neutron, 413 from older Novas. */
const isQuota = (fault: Fault): boolean => fault.type === 'OverQuota' || /quota exceeded|exceeded quota|over ?quota/i.test(fault.message);

/**
 * Nova answers a missing flavor, image, network or key pair at create with 400 and a sentence; a
 * look-up answers 404. Either way the cluster's error names the missing thing.
 */
const MISSING: [RegExp, string][] = [
  [/flavor\b.*\b(could not be found|not found|does not exist)|invalid flavorref/i, 'FlavorNotFound'],
  [/can ?not find requested image|image\b.*\b(could not be found|not found)|no image found/i, 'ImageNotFound'],
  [/network\b.*\b(could not be found|not found)/i, 'NetworkNotFound'],
  [/invalid key_name|key ?pair\b.*\b(could not be found|not found)/i, 'KeyPairNotFound'],
];

const missingCode = (fault: Fault): string | undefined => MISSING.find(([pattern]) => pattern.test(fault.message))?.[1];

/** Neutron's exception names are identifiers: they make good codes as they are. */
const typeCode = (fault: Fault): string | undefined => (fault.type && /^[A-Za-z][A-Za-z0-9]*$/.test(fault.type) ? fault.type : undefined);

const STATUS_WORDS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict' };

/** Seconds to wait, from a `Retry-After` header (seconds or an HTTP date) or Nova's `retryAfter`; undefined when none is given. */
export const retryAfterMs = (header: string | null | undefined, now: number): number | undefined => {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

export interface FailedCall {
  service: ServiceType;
  /** `POST /servers`: what was asked, for the message. */
  operation: string;
  status: number;
  body: unknown;
  retryAfter?: string | null;
}

/** One failed call as the domain error the workflow acts on. */
export const openStackError = (call: FailedCall): Error => {
  const service = SERVICE_NAMES[call.service];
  const fault = faultOf(call.body);
  const where = `${service} ${call.operation}: ${call.status}`;
  const message = fault.message ? `${fault.message} (${where})` : `${where} with no message`;
  if (isQuota(fault)) return new ProviderError('QuotaExceeded', message);
  const { status } = call;
  if (status === 401) return new ProviderError('ProviderAuthFailed', message);
  if (status === 413 || status === 429) {
    const wait = call.retryAfter ? `; retry after ${call.retryAfter} s` : '';
    return new TransientProviderError(`${message}${wait}`);
  }
  if (status >= 500 || status === 408) return new TransientProviderError(message);
  if (status === 406 && call.service === 'compute') return new ProviderError('ComputeMicroversionUnsupported', message);
  if (status === 409) {
    // Nova's conflicts (a server mid-task) and Neutron's `…InUse` pass; other Neutron conflicts are for good.
    if (call.service !== 'network' || /InUse$/.test(fault.type ?? '')) return new TransientProviderError(message);
    return new ProviderError(typeCode(fault) ?? `${service}Conflict`, message);
  }
  if (status === 400 || status === 404) {
    const code = missingCode(fault) ?? typeCode(fault) ?? `${service}${STATUS_WORDS[status]}`;
    return new ProviderError(code, message);
  }
  return new ProviderError(typeCode(fault) ?? `${service}${STATUS_WORDS[status] ?? 'Error'}`, message);
};

/** A call that never got an answer (refused, reset, timed out): worth another try. */
export const unansweredError = (service: ServiceType, operation: string, error: unknown): TransientProviderError => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause);
  return new TransientProviderError(`${SERVICE_NAMES[service]} ${operation}: no answer (${reason})`);
};
