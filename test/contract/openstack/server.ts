/**
 * A contract OpenStack on loopback: Keystone, Nova, Neutron, Glance and Cinder as their API
 * references shape them, for the calls the openstack provider makes (docs/openstack-provider.md,
 * "Contract server"). Every request is recorded; faults can be injected per request.
 *
 * Services live under one port, by path: /identity/v3, /compute/v2.1, /network (v2.0),
 * /image (v2), /volume/v3/{project}.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cinderRoutes, glanceRoutes } from './glance-cinder.ts';
import { keystoneRoutes, unauthorized } from './keystone.ts';
import { neutronRoutes } from './neutron.ts';
import { novaRoutes } from './nova.ts';
import { cinderQuotaRoutes, neutronQuotaRoutes, novaQuotaRoutes } from './quota.ts';
import { Clock, CloudState, PROJECT_ID, type ContractOptions } from './state.ts';

export type Service = 'identity' | 'compute' | 'network' | 'image' | 'volume';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext {
  method: string;
  /** The path under the service's root: `/servers/detail`, `/v2.0/networks`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  params: string[];
  /** The project of the request's token. */
  projectId: string;
  state: CloudState;
  cloud: ContractCloud;
}

export interface Route {
  method: string;
  path: RegExp;
  handle: (context: RequestContext) => Reply;
}

export interface RecordedRequest {
  method: string;
  service: Service;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** What was answered; `dropped` when the connection was closed instead. */
  status: number | 'dropped';
}

export type Fault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** The connection is closed before the request is acted on. */
  | { kind: 'drop' }
  /** The request is acted on, then the connection is closed before the answer. */
  | { kind: 'lose-response' }
  /** The request's token has expired by the time it arrives. */
  | { kind: 'expire-token' }
  /** The request is never answered: the connection stays open until the cloud closes (a slow cloud). */
  | { kind: 'hang' };

export interface FaultRule {
  method?: string;
  service?: Service;
  path: RegExp;
  /** How many matching requests get the fault. @default 1 */
  times?: number;
  fault: Fault;
}

/** Nova's and Cinder's fault body: the key names the status. */
export const novaFault = (status: number, message: string, extra: Record<string, unknown> = {}): Reply => {
  const names: Record<number, string> = { 400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest', 413: 'overLimit', 429: 'overLimit', 503: 'serviceUnavailable' };
  return { status, body: { [names[status] ?? 'computeFault']: { code: status, message, ...extra } } };
};

/** The HTML page webob writes for a fault, as Glance answers every error and Nova a path it does not have. */
export const htmlPage = (status: number, title: string, text: string): Reply => ({
  status,
  headers: { 'Content-Type': 'text/html; charset=UTF-8' },
  body: `<html>\n <head>\n  <title>${status} ${title}</title>\n </head>\n <body>\n  <h1>${status} ${title}</h1>\n  ${text}<br /><br />\n\n\n\n </body>\n</html>`,
});

/** Neutron's fault body. */
export const neutronFault = (status: number, type: string, message: string): Reply => ({ status, body: { NeutronError: { type, message, detail: '' } } });

const SERVICES: Record<Service, { prefix: RegExp; routes: Route[] }> = {
  identity: { prefix: /^\/identity\/v3(\/.*)?$/, routes: keystoneRoutes },
  compute: { prefix: /^\/compute\/v2\.1(\/.*)?$/, routes: [...novaRoutes, ...novaQuotaRoutes] },
  network: { prefix: /^\/network(\/.*)?$/, routes: [...neutronQuotaRoutes, ...neutronRoutes] },
  image: { prefix: /^\/image(\/.*)?$/, routes: glanceRoutes },
  volume: { prefix: new RegExp(`^/volume/v3/${PROJECT_ID}(/.*)?$`), routes: [...cinderRoutes, ...cinderQuotaRoutes] },
};

const readBody = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export class ContractCloud {
  readonly clock = new Clock();
  readonly state: CloudState;
  readonly requests: RecordedRequest[] = [];
  private readonly faults: (FaultRule & { left: number })[] = [];
  private server: HttpServer | undefined;
  private baseUrl = '';

  constructor(options: ContractOptions = {}) {
    this.state = new CloudState(this.clock, {
      bootMs: options.bootMs ?? 0,
      deleteMs: options.deleteMs ?? 0,
      powerMs: options.powerMs ?? 0,
      tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
      maxLimit: options.maxLimit ?? 1000,
      maxMicroversion: options.maxMicroversion ?? '2.93',
      withCinder: options.withCinder ?? true,
      quotas: {
        instances: options.quotas?.instances ?? 10,
        cores: options.quotas?.cores ?? 20,
        ramMb: options.quotas?.ramMb ?? 51_200,
        floatingIps: options.quotas?.floatingIps ?? 50,
      },
      novaAddressLagMs: options.novaAddressLagMs ?? 2000,
    }, options.lifecycle);
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    return this.baseUrl;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.state.baseUrl = this.baseUrl;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next matching request(s) get `fault`. */
  inject(rule: FaultRule): void {
    this.faults.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Every token issued so far stops working, as if Keystone had revoked them. */
  expireTokens(): void {
    for (const token of this.state.tokens.keys()) this.state.tokens.set(token, 0);
  }

  /** The recorded requests of a method (or any) whose service path matches. */
  calls(method: string | undefined, path: RegExp, service?: Service): RecordedRequest[] {
    return this.requests.filter((request) => (!method || request.method === method) && (!service || request.service === service) && path.test(request.path));
  }

  /** The `OS_*` environment a client needs to use this cloud as the demo user. */
  env(): Record<string, string> {
    return {
      OS_AUTH_URL: `${this.baseUrl}/identity/v3`,
      OS_USERNAME: 'demo',
      OS_PASSWORD: 'demo',
      OS_PROJECT_NAME: 'demo',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: 'RegionOne',
      OS_INTERFACE: 'public',
      OPENSTACK_IMAGE: 'cirros-fake',
      OPENSTACK_EXTERNAL_NETWORK: 'public',
      OPENSTACK_KEY_NAME: 'ops-key',
    };
  }

  private takeFault(method: string, service: Service, path: string): Fault | undefined {
    const rule = this.faults.find((candidate) => candidate.left > 0 && (!candidate.method || candidate.method === method) && (!candidate.service || candidate.service === service) && candidate.path.test(path));
    if (!rule) return undefined;
    rule.left -= 1;
    return rule.fault;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://contract');
    const body = await readBody(request);
    const method = request.method ?? 'GET';
    const entry = (Object.entries(SERVICES) as [Service, (typeof SERVICES)[Service]][]).find(([, service]) => service.prefix.test(url.pathname));
    const service = entry?.[0] ?? 'identity';
    const path = entry ? (entry[1].prefix.exec(url.pathname)?.[1] ?? '/') : url.pathname;
    const query: Record<string, string[]> = {};
    for (const [key, value] of url.searchParams) (query[key] ??= []).push(value);
    const token = request.headers['x-auth-token'];
    const recorded: RecordedRequest = {
      method,
      service,
      path,
      query,
      headers: { 'x-auth-token': typeof token === 'string' ? token : undefined, 'openstack-api-version': request.headers['openstack-api-version'] as string | undefined },
      body,
      status: 'dropped',
    };
    this.requests.push(recorded);
    this.state.settle();

    const fault = this.takeFault(method, service, path);
    if (fault?.kind === 'drop') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'expire-token' && typeof token === 'string') this.state.tokens.set(token, 0);
    let reply: Reply;
    if (fault?.kind === 'status') {
      reply = { status: fault.status, body: fault.body, headers: fault.headers };
    } else {
      reply = this.route(entry?.[1].routes, { method, path, query: url.searchParams, headers: request.headers, body, params: [], projectId: '', state: this.state, cloud: this }, service);
    }
    if (fault?.kind === 'lose-response') {
      request.socket.destroy();
      return;
    }
    recorded.status = reply.status;
    const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const type = typeof reply.body === 'string' ? 'text/plain; charset=UTF-8' : 'application/json';
    response.writeHead(reply.status, { ...(text ? { 'Content-Type': type } : {}), ...reply.headers });
    response.end(text);
  }

  private route(routes: Route[] | undefined, context: RequestContext, service: Service): Reply {
    const open = service === 'identity' && (context.path === '/auth/tokens' || context.path === '/');
    if (!open) {
      const token = context.headers['x-auth-token'];
      const expiresAt = typeof token === 'string' ? this.state.tokens.get(token) : undefined;
      if (expiresAt === undefined || expiresAt <= this.clock.now()) {
        // keystonemiddleware refuses before the service sees the request; Glance words it as a page.
        const refusal = unauthorized(`${this.baseUrl}/identity`);
        return service === 'image'
          ? { ...htmlPage(401, 'Unauthorized', 'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.'), headers: { ...refusal.headers, 'Content-Type': 'text/html; charset=UTF-8' } }
          : refusal;
      }
    }
    const token = context.headers['x-auth-token'];
    const projectId = (typeof token === 'string' ? this.state.tokenProjects.get(token) : undefined) ?? '';
    for (const route of routes ?? []) {
      const match = route.path.exec(context.path);
      if (match && route.method === context.method) return route.handle({ ...context, projectId, params: match.slice(1) });
    }
    const known = (routes ?? []).some((route) => route.path.test(context.path));
    if (known) return { status: 405, body: 'Method Not Allowed' };
    if (service === 'network') return neutronFault(404, 'HTTPNotFound', 'The resource could not be found.');
    return htmlPage(404, 'Not Found', 'The resource could not be found.');
  }
}

/** A started contract cloud. */
export const startContractCloud = (options: ContractOptions = {}): Promise<ContractCloud> => new ContractCloud(options).start();
