/**
 * One authenticated call to a service of the catalog: the kept token, one new login when a
 * service answers 401, a bounded wait where it asks for one (413/429 with `Retry-After`), and
 * every refusal turned into the domain's errors (errors.ts).
 */
import { ProviderError } from '#domain/errors';
import type { Identity, Token } from './identity.ts';
import { faultOf, openStackError, retryAfterMs, SERVICE_NAMES, unansweredError, type ServiceType } from './errors.ts';

export type Service = Exclude<ServiceType, 'identity'>;
export type Query = Record<string, string | number | string[] | undefined>;

export interface CallOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses answered to the caller instead of thrown (404 on a delete, 409 on a duplicate). */
  expect?: number[];
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface SessionOptions {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  timeoutMs: number;
  /** The most a call waits in all for a service that asked it to come back later. */
  maxRetryWaitMs: number;
}

/** A service that keeps asking to come back later is left to the workflow's retries after this many waits. */
const MAX_WAITS = 3;

/** Each service's versioned root, whichever way the catalog writes it. */
const ROOTS: Record<Service, (url: string, projectId: string) => string> = {
  compute: (url) => url,
  network: (url) => (/\/v2\.0$/.test(url) ? url : `${url}/v2.0`),
  image: (url) => (/\/v2$/.test(url) ? url : `${url}/v2`),
  // Cinder's catalog URL carries the project; a project-less one (newer Cinders) gets it added.
  volume: (url, projectId) => (/\/v3$/.test(url) ? `${url}/${projectId}` : url),
};

const queryString = (query: Query | undefined): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
};

/** A body as JSON where it is JSON; Glance and some proxies answer in plain text. */
export const parseBody = (text: string): unknown => {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export class Session {
  constructor(
    readonly identity: Identity,
    private readonly options: SessionOptions,
  ) {}

  /** Whether the catalog has the service at all (Cinder is optional). */
  async has(service: Service): Promise<boolean> {
    const token = await this.identity.token();
    return this.identity.endpoint(token, service) !== undefined;
  }

  /** The region the service's endpoint is in, as the catalog says. */
  async region(service: Service): Promise<string | undefined> {
    return this.endpointOf(await this.identity.token(), service).region;
  }

  async call<T = unknown>(service: Service, method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
    const operation = `${method} ${path}`;
    let waited = 0;
    let waits = 0;
    let renewed = false;
    for (;;) {
      const token = await this.identity.token();
      const url = `${ROOTS[service](this.endpointOf(token, service).url, token.projectId)}${path}${queryString(options.query)}`;
      let response: Response;
      try {
        response = await this.options.fetch(url, {
          method,
          headers: {
            Accept: 'application/json',
            'X-Auth-Token': token.value,
            ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...options.headers,
          },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
      } catch (error) {
        throw unansweredError(service, operation, error);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw unansweredError(service, operation, error);
      }
      const body = parseBody(text);
      const { status } = response;
      if ((status >= 200 && status < 300) || options.expect?.includes(status)) return { status, headers: response.headers, body: body as T };
      if (status === 401 && !renewed) {
        // Revoked or expired before its time: log in again, once.
        this.identity.invalidate(token);
        renewed = true;
        continue;
      }
      const retryAfter = response.headers.get('retry-after') ?? this.novaRetryAfter(body);
      const wait = status === 413 || status === 429 ? retryAfterMs(retryAfter, this.options.now()) : undefined;
      if (wait !== undefined && waits < MAX_WAITS && waited + wait <= this.options.maxRetryWaitMs && !/quota/i.test(faultOf(body).message)) {
        waited += wait;
        waits += 1;
        await this.options.sleep(wait);
        continue;
      }
      throw openStackError({ service, operation, status, body, retryAfter });
    }
  }

  private endpointOf(token: Token, service: Service): { url: string; region: string | undefined } {
    const endpoint = this.identity.endpoint(token, service);
    if (!endpoint) {
      throw new ProviderError(
        'ServiceNotInCatalog',
        `The token's catalog has no ${SERVICE_NAMES[service]} (${service}) endpoint for the interface ${this.identity.interface}${this.identity.region ? ` in ${this.identity.region}` : ''}`,
      );
    }
    return endpoint;
  }

  private novaRetryAfter(body: unknown): string | null {
    const fault = body && typeof body === 'object' ? (Object.values(body)[0] as { retryAfter?: unknown } | undefined) : undefined;
    return typeof fault?.retryAfter === 'string' ? fault.retryAfter : null;
  }
}
