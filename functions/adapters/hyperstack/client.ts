/**
 * Infrahub's REST API (docs/hyperstack-provider.md, "Calls"): the `api_key` header, a client-side
 * rate limit shared by every call of the provider, 429 and 5xx retried with backoff, and error
 * bodies `{"status": false, "message", "error_reason"}` as the domain's errors.
 */
import { ProviderError, TransientProviderError } from '#domain/errors';

export interface ClientOptions {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  timeoutMs: number;
  /** Calls per minute the client allows itself (Infrahub allows 500 per address). */
  requestsPerMinute: number;
  /** Tries of one call answered 429 or 5xx before its error is thrown. */
  maxAttempts: number;
}

/** Spaces calls so that no more than `perMinute` start in any minute; shared by all callers. */
export class RateLimit {
  private next = 0;
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async take(): Promise<void> {
    const gap = 60_000 / this.perMinute;
    const at = Math.max(this.now(), this.next);
    this.next = at + gap;
    const wait = at - this.now();
    if (wait > 0) await this.sleep(wait);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Infrahub's refusal as a code: what its `error_reason` or message says is missing, else the status. */
const MISSING: [RegExp, string][] = [
  [/flavor/i, 'FlavorNotFound'],
  [/image/i, 'ImageNotFound'],
  [/key ?pair|key_name/i, 'KeyPairNotFound'],
  [/environment/i, 'EnvironmentNotFound'],
];

export const hyperstackError = (operation: string, status: number, body: unknown, retryAfter?: string | null): Error => {
  const fields = isRecord(body) ? body : {};
  const text = [fields.message, fields.error_reason].filter((part) => typeof part === 'string' && part !== '').join(': ');
  const message = `${text || 'no message'} (Infrahub ${operation}: ${status})`;
  if (status === 401) return new ProviderError('ProviderAuthFailed', message);
  // 429 first: its body says "rate limit exceeded", which is no quota.
  if (status === 429) return new TransientProviderError(`${message}${retryAfter ? `; retry after ${retryAfter} s` : ''}`);
  // Named as openstack names it: the cloud's quota, not the project's (which is a 403 of our own).
  if (/quota|limit exceeded|insufficient (credit|balance)|out of stock|no stock/i.test(text)) return new ProviderError('QuotaExceeded', message);
  if (status >= 500 || status === 408) return new TransientProviderError(message);
  if (status === 403) return new ProviderError('ProviderForbidden', message);
  if (status === 400 || status === 404) {
    const code = MISSING.find(([pattern]) => pattern.test(text) && /not (be )?found|does not exist|invalid|unknown/i.test(text))?.[1];
    return new ProviderError(code ?? (status === 404 ? 'HyperstackNotFound' : 'HyperstackBadRequest'), message);
  }
  return new ProviderError('HyperstackError', message);
};

export class InfrahubClient {
  private readonly limit: RateLimit;

  constructor(
    private readonly apiUrl: string,
    private readonly apiKey: string,
    private readonly options: ClientOptions,
  ) {
    this.limit = new RateLimit(options.requestsPerMinute, options.now, options.sleep);
  }

  /** One call; 429 and 5xx (and no answer) are tried again with backoff, `Retry-After` when given. */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<T> {
    const operation = `${method} ${path.replace(/\?.*$/, '')}`;
    for (let attempt = 1; ; attempt += 1) {
      await this.limit.take();
      let response: Response;
      try {
        response = await this.options.fetch(`${this.apiUrl}${path}`, {
          method,
          headers: { api_key: this.apiKey, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
      } catch (error) {
        const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        if (attempt < this.options.maxAttempts) {
          await this.options.sleep(this.backoff(attempt));
          continue;
        }
        throw new TransientProviderError(`Infrahub ${operation}: no answer (${reason})`);
      }
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? {} : JSON.parse(text);
      } catch {
        // A page that is not JSON (a proxy's) stays text for the message.
      }
      const refused = isRecord(parsed) && parsed.status === false;
      if (response.ok && !refused) return parsed as T;
      if (okStatuses.includes(response.status)) return parsed as T;
      const retryAfter = response.headers.get('retry-after');
      if ((response.status === 429 || response.status >= 500) && attempt < this.options.maxAttempts) {
        const seconds = Number(retryAfter);
        await this.options.sleep(Number.isFinite(seconds) && retryAfter ? Math.max(seconds * 1000, this.backoff(attempt)) : this.backoff(attempt));
        continue;
      }
      throw hyperstackError(operation, response.status, parsed, retryAfter);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(1000 * 2 ** (attempt - 1), 16_000);
  }
}
