/**
 * Keystone v3 tokens (docs/openstack-provider.md, "Identity"): one token is issued and kept until
 * shortly before it expires, so calls do not log in each time; its catalog says where each
 * service is for the settings' interface and region.
 */
import { ProviderError } from '#domain/errors';
import { openStackError, unansweredError, type ServiceType } from './errors.ts';
import { parseBody } from './http.ts';
import type { ApplicationCredentialAuth, Interface, OpenStackSettings, PasswordAuth } from './settings.ts';

interface CatalogEndpoint {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}

interface CatalogService {
  type: string;
  endpoints: CatalogEndpoint[];
}

export interface Token {
  value: string;
  /** ms since the epoch. */
  expiresAt: number;
  projectId: string;
  catalog: CatalogService[];
}

/** Catalog types of each service, preferred first: Cinder registers as `block-storage` in newer clouds, `volumev3` in older ones. */
const CATALOG_TYPES: Record<Exclude<ServiceType, 'identity'>, string[]> = {
  compute: ['compute'],
  network: ['network'],
  image: ['image'],
  volume: ['block-storage', 'volumev3'],
};

export interface IdentityOptions {
  fetch: typeof fetch;
  now: () => number;
  /** A token is renewed this long before it expires. */
  renewBeforeMs: number;
  timeoutMs: number;
}

const identityOf = (auth: PasswordAuth | ApplicationCredentialAuth): Record<string, unknown> => {
  if (auth.type === 'application_credential') {
    // An application credential is scoped to its project already: a scope in the request is refused.
    return { identity: { methods: ['application_credential'], application_credential: { ...auth.credential, secret: auth.secret } } };
  }
  return {
    identity: { methods: ['password'], password: { user: { ...auth.user, password: auth.password } } },
    scope: { project: auth.project },
  };
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export class Identity {
  private cached: Token | undefined;
  private pending: Promise<Token> | undefined;

  constructor(
    private readonly settings: Pick<OpenStackSettings, 'authUrl' | 'auth' | 'region' | 'interface'>,
    private readonly options: IdentityOptions,
  ) {}

  get interface(): Interface {
    return this.settings.interface;
  }

  get region(): string | undefined {
    return this.settings.region;
  }

  /** The token to send: the kept one while it has time left, else one new (concurrent callers share it). */
  token(): Promise<Token> {
    const cached = this.cached;
    if (cached && cached.expiresAt - this.options.now() > this.options.renewBeforeMs) return Promise.resolve(cached);
    this.pending ??= this.issue()
      .then((token) => (this.cached = token))
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** A service refused `token` (revoked, or expired early): the next call logs in again. */
  invalidate(token: Token): void {
    if (this.cached === token) this.cached = undefined;
  }

  /** The service's endpoint for the settings' interface and region; undefined when the catalog has none. */
  endpoint(token: Token, service: Exclude<ServiceType, 'identity'>): { url: string; region: string | undefined } | undefined {
    const region = this.settings.region ?? this.computeRegion(token);
    for (const type of CATALOG_TYPES[service]) {
      const entry = token.catalog.find((candidate) => candidate.type === type);
      const endpoint = entry?.endpoints.find(
        (candidate) => candidate.interface === this.settings.interface && (region === undefined || candidate.region_id === region || candidate.region === region),
      );
      if (endpoint) return { url: endpoint.url.replace(/\/+$/, ''), region: endpoint.region_id ?? endpoint.region ?? undefined };
    }
    return undefined;
  }

  /**
   * Without a region in the settings, every service is taken from the region of the catalog's
   * compute endpoint, so that one cluster's calls never go to two regions.
   */
  private computeRegion(token: Token): string | undefined {
    const compute = token.catalog.find((candidate) => candidate.type === 'compute')?.endpoints.find((candidate) => candidate.interface === this.settings.interface);
    return compute?.region_id ?? compute?.region ?? undefined;
  }

  private async issue(): Promise<Token> {
    const operation = 'POST /v3/auth/tokens';
    let response: Response;
    try {
      response = await this.options.fetch(`${this.settings.authUrl}/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ auth: identityOf(this.settings.auth) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw unansweredError('identity', operation, error);
    }
    const body = parseBody(await response.text().catch(() => ''));
    if (response.status !== 201 && response.status !== 200) {
      throw openStackError({ service: 'identity', operation, status: response.status, body, retryAfter: response.headers.get('retry-after') });
    }
    const value = response.headers.get('x-subject-token');
    const token = isRecord(body) && isRecord(body.token) ? body.token : undefined;
    const expiresAt = typeof token?.expires_at === 'string' ? Date.parse(token.expires_at) : NaN;
    const project = isRecord(token?.project) ? token.project : undefined;
    if (!value || !token || Number.isNaN(expiresAt)) {
      throw new ProviderError('ProviderAuthFailed', `Keystone ${operation} answered ${response.status} without a token or its expiry`);
    }
    if (!Array.isArray(token.catalog) || typeof project?.id !== 'string') {
      throw new ProviderError('ProviderAuthFailed', 'Keystone issued a token without a project or catalog: the credentials must be scoped to a project');
    }
    return { value, expiresAt, projectId: project.id, catalog: token.catalog as CatalogService[] };
  }
}
