/**
 * A contract Infrahub (API v1) on loopback, answering as NexGenCloud's API reference says: the
 * `api_key` header (401 without the right one), `{"status": false, "message", "error_reason"}`
 * refusals, `count` at most 20 per create, VMs CREATING until booted then ACTIVE (or ERROR), the
 * listing paged by `page`/`pageSize` and filtered by `search`, a per-window rate limit answered
 * 429, DELETE leaving the VM DELETING a while, stop and start (STOPPING → SHUTOFF, STARTING →
 * ACTIVE) only from the states the reference allows. Every call is recorded for the tests.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ContractVm {
  id: number;
  name: string;
  status: string;
  environment: { name: string; region: string };
  flavor: { name: string; cpu: number; ram: number; disk: number };
  image: { name: string };
  keypair: { name: string };
  fixed_ip: string | null;
  floating_ip: string | null;
  floating_ip_status: string | null;
  security_rules: Record<string, unknown>[];
  labels: string[];
  user_data: string | null;
  callback_url: string | null;
  vm_state: string;
  power_state: string;
  created_at: string;
  /** When it turns ACTIVE (or ERROR), when an attaching floating IP is attached, and when a deleting VM is gone; ms of the contract's clock. */
  readyAt: number;
  attachAt: number | null;
  goneAt: number | null;
  /** When a STOPPING VM is SHUTOFF, or a STARTING one ACTIVE. */
  poweredAt?: number;
}

export interface HyperstackContractOptions {
  apiKey?: string;
  /** How long a VM stays CREATING. @default 0 (ACTIVE from the first listing after its create) */
  bootMs?: number;
  /** How long a deleted VM stays DELETING. @default 0 */
  deleteMs?: number;
  /** How long `attach-floatingip` leaves the address ATTACHING. @default 0 */
  attachMs?: number;
  /** How long a VM stays STOPPING after a stop, or STARTING after a start. @default 0 */
  powerMs?: number;
  /** VMs whose name matches end in ERROR instead of ACTIVE. */
  failNames?: RegExp;
  /** The most VMs the account may have. @default 200 */
  maxVms?: number;
  /** Requests allowed per `windowMs` before 429. @default 500 per minute */
  rateLimit?: { requests: number; windowMs: number };
  /** Told when a VM turns ACTIVE (user data base64, as cloud-init would get it) and when it is gone. */
  lifecycle?: { active(vm: { id: string; name: string; userData: string | null }): void; gone(vm: { id: string }): void };
}

/** A call the contract made to a VM's `callback_url`. */
export interface Callback {
  url: string;
  body: Record<string, unknown>;
  /** The answer's status; 0 until it came, -1 when the call failed. */
  status: number;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  status: number;
}

export const ENVIRONMENT = 'cluster-env';
export const REGION = 'CANADA-1';
export const IMAGE = 'Ubuntu Server 22.04 LTS';
export const KEY_NAME = 'cluster-key';
export const FLAVORS = [
  // The smallest, but none to give: a create naming it is refused.
  { id: 0, name: 'n1-cpu-tiny', cpu: 1, ram: 2, disk: 20, gpu: '', gpu_count: 0, stock_available: false },
  { id: 1, name: 'n1-cpu-small', cpu: 2, ram: 4, disk: 50, gpu: '', gpu_count: 0, stock_available: true },
  { id: 2, name: 'n1-cpu-medium', cpu: 4, ram: 8, disk: 100, gpu: '', gpu_count: 0, stock_available: true },
  { id: 3, name: 'n1-cpu-large', cpu: 8, ram: 32, disk: 200, gpu: '', gpu_count: 0, stock_available: true },
  { id: 4, name: 'n3-A100x1', cpu: 28, ram: 120, disk: 100, gpu: 'A100-80G-PCIe', gpu_count: 1, stock_available: true },
];
const MAX_COUNT = 20;

/** A VM as Infrahub's answers show it: the contract's own clock fields and the user data left out. */
const shown = ({ readyAt: _r, attachAt: _a, goneAt: _g, poweredAt: _p, user_data: _u, ...vm }: ContractVm) => vm;

export class HyperstackContract {
  readonly calls: RecordedCall[] = [];
  readonly callbacks: Callback[] = [];
  readonly vms = new Map<number, ContractVm>();
  /** 429 the next this many requests, whatever the window says. */
  throttleNext = 0;
  private readonly apiKey: string;
  private readonly options: Required<Omit<HyperstackContractOptions, 'failNames' | 'lifecycle'>> & Pick<HyperstackContractOptions, 'failNames' | 'lifecycle'>;
  private server: Server | undefined;
  private nextId = 1000;
  private window: { start: number; count: number } = { start: 0, count: 0 };
  url = '';

  constructor(options: HyperstackContractOptions = {}) {
    this.apiKey = options.apiKey ?? 'contract-api-key';
    this.options = {
      apiKey: this.apiKey,
      bootMs: options.bootMs ?? 0,
      deleteMs: options.deleteMs ?? 0,
      attachMs: options.attachMs ?? 0,
      powerMs: options.powerMs ?? 0,
      maxVms: options.maxVms ?? 200,
      rateLimit: options.rateLimit ?? { requests: 500, windowMs: 60_000 },
      ...(options.failNames ? { failNames: options.failNames } : {}),
      ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
    };
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    for (const vm of this.vms.values()) this.options.lifecycle?.gone({ id: String(vm.id) });
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The settings that point the provider (or `PROVIDER=hyperstack npm start`) here. */
  env(): Record<string, string> {
    return { HYPERSTACK_API_KEY: this.apiKey, HYPERSTACK_API_URL: this.url, HYPERSTACK_ENVIRONMENT: ENVIRONMENT, HYPERSTACK_IMAGE: IMAGE, HYPERSTACK_KEY_NAME: KEY_NAME };
  }

  /** VMs that exist (DELETING ones included), after this moment's transitions. */
  live(): ContractVm[] {
    this.tick();
    return [...this.vms.values()];
  }

  private tick(): void {
    const now = Date.now();
    for (const vm of this.vms.values()) {
      if (vm.status === 'CREATING' && now >= vm.readyAt) {
        if (this.options.failNames?.test(vm.name)) {
          // Infrahub's VM has no reason field: its status and Nova's states are all it says.
          vm.status = 'ERROR';
          vm.vm_state = 'error';
          vm.power_state = 'NOSTATE';
          this.callBack(vm, 'createVM', 'FAILED');
        } else {
          vm.status = 'ACTIVE';
          vm.vm_state = 'active';
          vm.power_state = 'RUNNING';
          vm.fixed_ip = `10.0.${Math.floor(vm.id / 250) % 250}.${(vm.id % 250) + 2}`;
          this.callBack(vm, 'createVM', 'SUCCESS');
          this.options.lifecycle?.active({ id: String(vm.id), name: vm.name, userData: vm.user_data === null ? null : Buffer.from(vm.user_data).toString('base64') });
        }
      }
      if (vm.status === 'ACTIVE' && vm.floating_ip_status === 'ATTACHING' && now >= (vm.attachAt ?? vm.readyAt)) {
        vm.floating_ip = `203.0.113.${vm.id % 250}`;
        vm.floating_ip_status = 'ATTACHED';
      }
      if ((vm.status === 'STOPPING' || vm.status === 'STARTING') && now >= (vm.poweredAt ?? 0)) {
        const stopped = vm.status === 'STOPPING';
        vm.status = stopped ? 'SHUTOFF' : 'ACTIVE';
        vm.vm_state = stopped ? 'stopped' : 'active';
        vm.power_state = stopped ? 'SHUTDOWN' : 'RUNNING';
        vm.poweredAt = undefined;
      }
      if (vm.status === 'DELETING' && vm.goneAt !== null && now >= vm.goneAt) {
        this.vms.delete(vm.id);
        vm.status = 'DELETED';
        this.callBack(vm, 'deleteVM', 'SUCCESS');
        this.options.lifecycle?.gone({ id: String(vm.id) });
      }
    }
  }

  /**
   * Posts a VM's change to its callback_url, as Infrahub does. The event object's fields are not
   * published one by one: this one carries the resource (id, name, status) and the operation
   * (name, status), which is what the service reads of it.
   */
  private callBack(vm: ContractVm, operation: string, outcome: string): void {
    if (!vm.callback_url) return;
    const body = { resource: { id: vm.id, name: vm.name, type: 'virtual_machine', status: vm.status }, operation: { name: operation, status: outcome } };
    const callback: Callback = { url: vm.callback_url, body, status: 0 };
    this.callbacks.push(callback);
    void fetch(vm.callback_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        await response.arrayBuffer();
        callback.status = response.status;
      })
      .catch(() => {
        callback.status = -1;
      });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://contract');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | undefined;
    const call: RecordedCall = { method: request.method ?? 'GET', path: url.pathname.replace(/^\/v1/, ''), query: Object.fromEntries(url.searchParams), body: undefined, status: 0 };
    this.calls.push(call);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(payload));
    };
    const refuse = (status: number, message: string, reason: string, headers: Record<string, string> = {}) =>
      send(status, { status: false, message, error_reason: reason }, headers);
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      refuse(400, 'Invalid JSON body', 'the body is not JSON');
      return;
    }
    call.body = body;
    const given = Buffer.from(String(request.headers.api_key ?? ''));
    const expected = Buffer.from(this.apiKey);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      refuse(401, 'Unauthorized', 'a valid api_key header is required');
      return;
    }
    const now = Date.now();
    if (now - this.window.start >= this.options.rateLimit.windowMs) this.window = { start: now, count: 0 };
    this.window.count += 1;
    if (this.throttleNext > 0 || this.window.count > this.options.rateLimit.requests) {
      this.throttleNext = Math.max(0, this.throttleNext - 1);
      refuse(429, 'Too many requests', 'rate limit exceeded', { 'retry-after': '1' });
      return;
    }
    this.tick();
    const path = call.path;
    const method = call.method;
    if (method === 'GET' && path === '/core/environments') {
      const search = url.searchParams.get('search') ?? '';
      const environments = [{ id: 1, name: ENVIRONMENT, region: REGION }, { id: 2, name: 'other-env', region: 'NORWAY-1' }].filter((environment) => environment.name.includes(search));
      send(200, { status: true, message: 'Getting environments success', environments, count: environments.length, page: 1, page_size: Number(url.searchParams.get('pageSize') ?? 30) });
    } else if (method === 'GET' && path === '/core/flavors') {
      send(200, { status: true, message: 'Getting flavors success', data: [{ gpu: '', region_name: REGION, flavors: FLAVORS.map((flavor) => ({ ...flavor, region_name: REGION })) }] });
    } else if (method === 'GET' && path === '/core/virtual-machines') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const pageSize = Number(url.searchParams.get('pageSize') ?? 30);
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
        refuse(400, 'Invalid paging', 'page must be 1 or more and pageSize 1 to 100');
        return;
      }
      const search = url.searchParams.get('search') ?? '';
      const matching = [...this.vms.values()].filter((vm) => vm.name.includes(search)).sort((a, b) => b.id - a.id);
      const instances = matching.slice((page - 1) * pageSize, page * pageSize).map(shown);
      send(200, { status: true, message: 'Getting VMs success', instances, count: matching.length, page, page_size: pageSize });
    } else if (method === 'POST' && path === '/core/virtual-machines') {
      this.create(body ?? {}, send, refuse);
    } else if (method === 'DELETE' && /^\/core\/virtual-machines\/\d+$/.test(path)) {
      const vm = this.vms.get(Number(path.split('/').pop()));
      if (!vm) {
        refuse(404, 'Virtual machine not found', `no virtual machine ${path.split('/').pop()}`);
        return;
      }
      if (vm.status !== 'DELETING') {
        vm.status = 'DELETING';
        vm.goneAt = now + this.options.deleteMs;
      }
      send(200, { status: true, message: 'Virtual machine deleting' });
    } else if (method === 'GET' && /^\/core\/virtual-machines\/\d+\/(stop|start)$/.test(path)) {
      const vm = this.vms.get(Number(path.split('/')[3]));
      if (!vm) {
        refuse(404, 'Virtual machine not found', 'no such virtual machine');
        return;
      }
      const stop = path.endsWith('/stop');
      // As the reference says: a stop needs an ACTIVE or ERROR VM, a start a SHUTOFF one.
      if (stop ? vm.status !== 'ACTIVE' && vm.status !== 'ERROR' : vm.status !== 'SHUTOFF') {
        refuse(400, `Cannot ${stop ? 'stop' : 'start'} a virtual machine in ${vm.status} state`, 'bad_request');
        return;
      }
      vm.status = stop ? 'STOPPING' : 'STARTING';
      vm.poweredAt = now + this.options.powerMs;
      send(200, { status: true, message: stop ? 'Virtual machine stop request accepted' : 'Virtual machine start request accepted' });
    } else if (method === 'POST' && /^\/core\/virtual-machines\/\d+\/attach-floatingip$/.test(path)) {
      const vm = this.vms.get(Number(path.split('/')[3]));
      if (!vm) {
        refuse(404, 'Virtual machine not found', 'no such virtual machine');
        return;
      }
      if (vm.floating_ip_status === 'ATTACHED' || vm.floating_ip_status === 'ATTACHING') {
        refuse(400, 'Floating IP already attached', `virtual machine ${vm.id} already has a floating IP`);
        return;
      }
      vm.floating_ip_status = 'ATTACHING';
      vm.attachAt = now + this.options.attachMs;
      send(200, { status: true, message: 'Floating IP attaching' });
    } else {
      refuse(404, 'Not found', `no route ${method} ${path}`);
    }
  }

  private create(body: Record<string, unknown>, send: (status: number, payload: unknown) => void, refuse: (status: number, message: string, reason: string) => void): void {
    for (const field of ['name', 'environment_name', 'image_name', 'flavor_name', 'key_name', 'count']) {
      if (body[field] === undefined || body[field] === '') {
        refuse(400, `${field} is required`, `missing ${field}`);
        return;
      }
    }
    const name = String(body.name);
    const count = Number(body.count);
    if (name.length > 50) return refuse(400, 'Invalid name', 'name is at most 50 characters');
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) return refuse(400, 'Invalid count', `count must be 1 to ${MAX_COUNT}`);
    if (body.environment_name !== ENVIRONMENT) return refuse(404, `Environment ${String(body.environment_name)} not found`, 'environment not found');
    if (body.image_name !== IMAGE) return refuse(400, `Image ${String(body.image_name)} not found`, 'image not found');
    if (body.key_name !== KEY_NAME) return refuse(400, `Keypair ${String(body.key_name)} not found`, 'keypair not found');
    const flavor = FLAVORS.find((candidate) => candidate.name === body.flavor_name);
    if (!flavor) return refuse(400, `Flavor ${String(body.flavor_name)} not found`, 'flavor not found');
    if (!flavor.stock_available) return refuse(400, `Flavor ${flavor.name} is out of stock`, 'out of stock in this region');
    if (body.labels !== undefined && (!Array.isArray(body.labels) || body.labels.some((label) => typeof label !== 'string'))) return refuse(400, 'Invalid labels', 'labels must be strings');
    if (body.user_data !== undefined && typeof body.user_data !== 'string') return refuse(400, 'Invalid user_data', 'user_data must be a string');
    if (body.callback_url !== undefined && (typeof body.callback_url !== 'string' || !/^https?:\/\/\S+$/.test(body.callback_url))) return refuse(400, 'Invalid callback_url', 'callback_url must be a URL');
    const live = [...this.vms.values()].filter((vm) => vm.status !== 'DELETING').length;
    if (live + count > this.options.maxVms) return refuse(400, 'Quota exceeded', `the account may have ${this.options.maxVms} virtual machines`);
    const now = Date.now();
    const instances: ContractVm[] = [];
    for (let i = 1; i <= count; i += 1) {
      const id = this.nextId++;
      const vm: ContractVm = {
        id,
        name: count === 1 ? name : `${name}-${i}`,
        status: 'CREATING',
        environment: { name: ENVIRONMENT, region: REGION },
        flavor: { name: flavor.name, cpu: flavor.cpu, ram: flavor.ram, disk: flavor.disk },
        image: { name: IMAGE },
        keypair: { name: KEY_NAME },
        fixed_ip: null,
        floating_ip: null,
        floating_ip_status: body.assign_floating_ip === true ? 'ATTACHING' : null,
        security_rules: Array.isArray(body.security_rules) ? (body.security_rules as Record<string, unknown>[]) : [],
        labels: (body.labels as string[] | undefined) ?? [],
        user_data: typeof body.user_data === 'string' ? body.user_data : null,
        callback_url: typeof body.callback_url === 'string' ? body.callback_url : null,
        vm_state: 'building',
        power_state: 'NOSTATE',
        created_at: new Date(now).toISOString(),
        readyAt: now + this.options.bootMs,
        attachAt: null,
        goneAt: null,
      };
      this.vms.set(id, vm);
      instances.push(vm);
    }
    send(200, { status: true, message: 'VM is scheduled for creation.', instances: instances.map(shown) });
  }
}
