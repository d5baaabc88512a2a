/**
 * A contract Lightsail on loopback, speaking its JSON 1.1 protocol as the API reference and
 * botocore's model (2016-11-28) say: `POST /` with `X-Amz-Target: Lightsail_20161128.<Operation>`
 * and `application/x-amz-json-1.1`, refusals as `{"__type", "message"}` with the model's status,
 * a SigV4 `Authorization` whose access key must be the contract's (UnauthenticatedException
 * otherwise), listings paged by `pageToken`/`nextPageToken`, instances `pending` until booted
 * then `running` (or `stopped`, for `failNames`), names unique per region ("already in use"),
 * every mutating call answered with its `operations`, ThrottlingException on demand. Every call
 * is recorded for the tests; the real SDK reaches it through `AWS_ENDPOINT_URL_LIGHTSAIL`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const REGION = 'eu-west-2';
export const ACCESS_KEY = 'AKIDCONTRACTLIGHTSAIL';
export const SECRET_KEY = 'contract-secret-key';
export const KEY_PAIR = 'cluster-key';
export const BLUEPRINTS = [
  { blueprintId: 'debian_12', name: 'Debian', group: 'debian', type: 'os', isActive: true, minPower: 0, platform: 'LINUX_UNIX', version: '12.5' },
  { blueprintId: 'ubuntu_24_04', name: 'Ubuntu', group: 'ubuntu', type: 'os', isActive: true, minPower: 0, platform: 'LINUX_UNIX', version: '24.04 LTS' },
  { blueprintId: 'wordpress', name: 'WordPress', group: 'wordpress', type: 'app', isActive: true, minPower: 1000, platform: 'LINUX_UNIX', version: '6.5' },
  { blueprintId: 'windows_server_2022', name: 'Windows Server 2022', group: 'windows_2022', type: 'os', isActive: true, minPower: 500, platform: 'WINDOWS', version: '2022' },
  { blueprintId: 'debian_10', name: 'Debian', group: 'debian', type: 'os', isActive: false, minPower: 0, platform: 'LINUX_UNIX', version: '10.8' },
];
export const BUNDLES = [
  { bundleId: 'nano_3_0', name: 'Nano', cpuCount: 2, ramSizeInGb: 0.5, diskSizeInGb: 20, power: 300, price: 5, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: 'micro_3_0', name: 'Micro', cpuCount: 2, ramSizeInGb: 1, diskSizeInGb: 40, power: 500, price: 7, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: 'small_3_0', name: 'Small', cpuCount: 2, ramSizeInGb: 2, diskSizeInGb: 60, power: 1000, price: 12, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: 'small_win_3_0', name: 'Small', cpuCount: 2, ramSizeInGb: 2, diskSizeInGb: 60, power: 1000, price: 20, isActive: true, supportedPlatforms: ['WINDOWS'] },
  { bundleId: 'medium_2_0', name: 'Medium', cpuCount: 2, ramSizeInGb: 4, diskSizeInGb: 80, power: 1500, price: 20, isActive: false, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: 'medium_3_0', name: 'Medium', cpuCount: 2, ramSizeInGb: 4, diskSizeInGb: 80, power: 2000, price: 24, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: 'large_3_0', name: 'Large', cpuCount: 2, ramSizeInGb: 8, diskSizeInGb: 160, power: 3000, price: 44, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: 'xlarge_3_0', name: 'XLarge', cpuCount: 4, ramSizeInGb: 16, diskSizeInGb: 320, power: 4000, price: 84, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
  { bundleId: '2xlarge_3_0', name: '2XLarge', cpuCount: 8, ramSizeInGb: 32, diskSizeInGb: 640, power: 5000, price: 164, isActive: true, supportedPlatforms: ['LINUX_UNIX'] },
];
const TARGET_PREFIX = 'Lightsail_20161128.';
/** The region's zones that take instances (`<region>a` is out of service). */
export const AVAILABLE_ZONES = [`${REGION}b`, `${REGION}c`];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,254}$/;

export interface ContractInstance {
  name: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down';
  /** A StopInstance or StartInstance under way (`stopping`, or `pending` again) since `at`. */
  power?: { action: 'stop' | 'start'; at: number };
  blueprintId: string;
  bundleId: string;
  availabilityZone: string;
  keyPairName: string | null;
  tags: { key: string; value?: string }[];
  addOns: Record<string, unknown>[];
  userData: string | null;
  ports: Record<string, unknown>[];
  privateIpAddress: string;
  publicIpAddress: string;
  staticIp: string | null;
  createdAt: number;
  readyAt: number;
  goneAt: number | null;
}

export interface ContractStaticIp {
  name: string;
  ipAddress: string;
  attachedTo: string | null;
}

export interface RecordedCall {
  operation: string;
  body: Record<string, unknown>;
  status: number;
  error?: string;
}

export interface LightsailContractOptions {
  /** How long an instance stays `pending`. @default 0 (running from the first listing after its create) */
  bootMs?: number;
  /** How long a deleted instance stays `shutting-down`. @default 0 */
  deleteMs?: number;
  /** How long a stopped instance stays `stopping`, or a started one `pending`. @default 0 */
  powerMs?: number;
  /** Items per listing page. @default 25 */
  pageSize?: number;
  /** Instances whose name matches end `stopped` instead of `running`. */
  failNames?: RegExp;
  /** The most instances the account may have. @default 200 */
  maxInstances?: number;
  /** Told when an instance turns running (user data base64, as cloud-init would get it) and when it is gone. */
  lifecycle?: { active(server: { id: string; name: string; userData: string | null }): void; gone(server: { id: string }): void };
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}
const invalid = (message: string) => new Refusal(400, 'InvalidInputException', message);
const notFound = (message: string) => new Refusal(404, 'NotFoundException', message);

export class LightsailContract {
  readonly calls: RecordedCall[] = [];
  readonly instances = new Map<string, ContractInstance>();
  readonly staticIps = new Map<string, ContractStaticIp>();
  /** Answer the next this many requests ThrottlingException. */
  throttleNext = 0;
  /** Refusals the next requests get, one each, before anything else is looked at (the model's status per type). */
  readonly failNext: { type: string; status: number; message: string }[] = [];
  /** Make the next this many CreateInstances but answer ServiceException, as an answer lost on the way. */
  loseNextCreates = 0;
  url = '';
  private readonly options: Required<Omit<LightsailContractOptions, 'failNames' | 'lifecycle'>> & Pick<LightsailContractOptions, 'failNames' | 'lifecycle'>;
  private server: Server | undefined;
  private nextAddress = 10;

  constructor(options: LightsailContractOptions = {}) {
    this.options = {
      bootMs: options.bootMs ?? 0,
      deleteMs: options.deleteMs ?? 0,
      powerMs: options.powerMs ?? 0,
      pageSize: options.pageSize ?? 25,
      maxInstances: options.maxInstances ?? 200,
      ...(options.failNames ? { failNames: options.failNames } : {}),
      ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
    };
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const instance of this.instances.values()) this.options.lifecycle?.gone({ id: instance.name });
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The settings that point the provider (or `PROVIDER=lightsail npm start`) here. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_LIGHTSAIL: this.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      LIGHTSAIL_BLUEPRINT: 'debian_12',
      LIGHTSAIL_KEY_PAIR: KEY_PAIR,
    };
  }

  /** Instances that exist (shutting-down ones included), after this moment's transitions. */
  live(): ContractInstance[] {
    this.tick();
    return [...this.instances.values()];
  }

  /** The names of the operations called, in order. */
  operations(): string[] {
    return this.calls.map((call) => call.operation);
  }

  private tick(): void {
    const now = Date.now();
    for (const instance of this.instances.values()) {
      if (instance.power) {
        // A stop or start: no boot, so the user data does not run again.
        if (now >= instance.power.at + this.options.powerMs) {
          instance.state = instance.power.action === 'stop' ? 'stopped' : 'running';
          instance.power = undefined;
        }
      } else if (instance.state === 'pending' && now >= instance.readyAt) {
        if (this.options.failNames?.test(instance.name)) {
          instance.state = 'stopped';
        } else {
          instance.state = 'running';
          this.options.lifecycle?.active({
            id: instance.name,
            name: instance.name,
            userData: instance.userData === null ? null : Buffer.from(instance.userData).toString('base64'),
          });
        }
      }
      if (instance.state === 'shutting-down' && instance.goneAt !== null && now >= instance.goneAt) {
        this.instances.delete(instance.name);
        this.options.lifecycle?.gone({ id: instance.name });
      }
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const call: RecordedCall = { operation, body: {}, status: 0 };
    this.calls.push(call);
    const send = (status: number, payload: unknown) => {
      call.status = status;
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      response.end(JSON.stringify(payload));
    };
    try {
      if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) throw new Refusal(400, 'UnknownOperationException', `no operation ${target}`);
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
        throw new Refusal(400, 'SerializationException', 'the content type must be application/x-amz-json-1.1');
      }
      const authorization = String(request.headers.authorization ?? '');
      if (!authorization.startsWith('AWS4-HMAC-SHA256 ') || !authorization.includes(`Credential=${ACCESS_KEY}/`) || !authorization.includes(`/${REGION}/lightsail/aws4_request`)) {
        throw new Refusal(401, 'UnauthenticatedException', 'The request is not signed with a known access key for this region');
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        call.body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        throw new Refusal(400, 'SerializationException', 'the body is not JSON');
      }
      const failure = this.failNext.shift();
      if (failure) throw new Refusal(failure.status, failure.type, failure.message);
      if (this.throttleNext > 0) {
        this.throttleNext -= 1;
        throw new Refusal(400, 'ThrottlingException', 'Rate exceeded');
      }
      this.tick();
      send(200, this.answer(operation, call.body));
    } catch (error) {
      if (error instanceof Refusal) {
        call.error = error.type;
        send(error.status, { __type: error.type, message: error.message });
      } else {
        call.error = 'ServiceException';
        send(500, { __type: 'ServiceException', message: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  private answer(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetBlueprints':
        return this.page(BLUEPRINTS.filter((blueprint) => blueprint.isActive || body.includeInactive === true), body.pageToken, 'blueprints');
      case 'GetBundles':
        return this.page(BUNDLES.filter((bundle) => bundle.isActive || body.includeInactive === true), body.pageToken, 'bundles');
      case 'GetRegions':
        return {
          regions: [REGION, 'us-east-1'].map((name) => ({
            name,
            displayName: name,
            continentCode: name.startsWith('eu') ? 'EU' : 'NA',
            // The first zone by name is out of service here: the provider must skip it.
            ...(body.includeAvailabilityZones === true
              ? { availabilityZones: ['c', 'b', 'a'].map((letter) => ({ zoneName: `${name}${letter}`, state: letter === 'a' && name === REGION ? 'unavailable' : 'available' })) }
              : {}),
          })),
        };
      case 'GetInstances':
        return this.page([...this.instances.values()].map((instance) => this.view(instance)), body.pageToken, 'instances');
      case 'GetStaticIps':
        return this.page([...this.staticIps.values()].map((ip) => this.ipView(ip)), body.pageToken, 'staticIps');
      case 'CreateInstances':
        return this.createInstances(body);
      case 'DeleteInstance':
        return this.deleteInstance(body);
      case 'PutInstancePublicPorts':
        return this.putPorts(body);
      case 'AllocateStaticIp':
        return this.allocate(body);
      case 'AttachStaticIp':
        return this.attach(body);
      case 'ReleaseStaticIp':
        return this.release(body);
      case 'StopInstance':
      case 'StartInstance':
        return this.power(body, operation === 'StopInstance' ? 'stop' : 'start');
      default:
        throw new Refusal(400, 'UnknownOperationException', `the contract Lightsail has no operation ${operation}`);
    }
  }

  private page<T>(items: T[], token: unknown, key: string): Record<string, unknown> {
    let start = 0;
    if (token !== undefined) {
      start = typeof token === 'string' && /^p\d+$/.test(token) ? Number(token.slice(1)) : NaN;
      if (!Number.isInteger(start) || start > items.length) throw invalid('The pageToken is not valid');
    }
    const end = start + this.options.pageSize;
    return { [key]: items.slice(start, end), ...(end < items.length ? { nextPageToken: `p${end}` } : {}) };
  }

  private operation(type: string, resourceName: string, resourceType: string, zone?: string) {
    const now = Date.now() / 1000;
    return {
      id: randomUUID(),
      resourceName,
      resourceType,
      createdAt: now,
      location: { availabilityZone: zone ?? 'all', regionName: REGION },
      isTerminal: true,
      operationType: type,
      status: 'Succeeded',
      statusChangedAt: now,
    };
  }

  private string(body: Record<string, unknown>, field: string): string {
    const value = body[field];
    if (typeof value !== 'string' || value === '') throw invalid(`${field} is required`);
    return value;
  }

  private createInstances(body: Record<string, unknown>) {
    const names = body.instanceNames;
    if (!Array.isArray(names) || names.length === 0 || names.some((name) => typeof name !== 'string')) throw invalid('instanceNames is required');
    const zone = this.string(body, 'availabilityZone');
    const blueprintId = this.string(body, 'blueprintId');
    const bundleId = this.string(body, 'bundleId');
    if (!AVAILABLE_ZONES.includes(zone)) throw invalid(`The availability zone ${zone} is not available in ${REGION}`);
    const blueprint = BLUEPRINTS.find((candidate) => candidate.blueprintId === blueprintId);
    if (!blueprint) throw notFound(`The blueprint ${blueprintId} does not exist`);
    if (!blueprint.isActive) throw invalid(`The blueprint ${blueprintId} is not active`);
    const bundle = BUNDLES.find((candidate) => candidate.bundleId === bundleId);
    if (!bundle) throw notFound(`The bundle ${bundleId} does not exist`);
    if (!bundle.isActive) throw invalid(`The bundle ${bundleId} is not active`);
    if (!bundle.supportedPlatforms.includes(blueprint.platform)) throw invalid(`The bundle ${bundleId} does not support the blueprint's platform ${blueprint.platform}`);
    if (bundle.power < blueprint.minPower) throw invalid(`The bundle ${bundleId} is too small for the blueprint ${blueprintId} (minimum power ${blueprint.minPower})`);
    if (body.keyPairName !== undefined && body.keyPairName !== KEY_PAIR) throw notFound(`The key pair ${String(body.keyPairName)} does not exist`);
    if (body.userData !== undefined && typeof body.userData !== 'string') throw invalid('userData must be a string');
    if (typeof body.userData === 'string' && /^[A-Za-z0-9+/=\s]+$/.test(body.userData) && body.userData.length > 16) {
      // Lightsail runs the launch script as given: base64 would reach the instance unreadable.
      throw invalid('userData must be the launch script itself, not base64');
    }
    const tags = (body.tags ?? []) as { key?: unknown; value?: unknown }[];
    if (!Array.isArray(tags) || tags.length > 50) throw invalid('tags: at most 50');
    for (const tag of tags) {
      if (typeof tag.key !== 'string' || !/^[\p{L}\p{N} +\-=._:/@]{1,128}$/u.test(tag.key)) throw invalid(`Tag key ${String(tag.key)} is not valid`);
      if (tag.value !== undefined && (typeof tag.value !== 'string' || !/^[\p{L}\p{N} +\-=._:/@]{0,256}$/u.test(tag.value))) throw invalid(`Tag value for ${tag.key} is not valid`);
    }
    const addOns = (body.addOns ?? []) as { addOnType?: unknown; autoSnapshotAddOnRequest?: { snapshotTimeOfDay?: unknown } }[];
    for (const addOn of addOns) {
      if (addOn.addOnType !== 'AutoSnapshot') throw invalid(`The add-on ${String(addOn.addOnType)} is not available for instances`);
      const time = addOn.autoSnapshotAddOnRequest?.snapshotTimeOfDay;
      if (time !== undefined && (typeof time !== 'string' || !/^([01]\d|2[0-3]):00$/.test(time))) throw invalid('snapshotTimeOfDay must be HH:00');
    }
    for (const name of names as string[]) {
      if (!NAME.test(name)) throw invalid(`${name} is not a valid resource name. Resource names must be at least 2 characters long and contain only alphanumerics, -, _, and .`);
    }
    const taken = (names as string[]).filter((name) => this.instances.has(name) || this.staticIps.has(name));
    if (taken.length > 0) throw invalid(`Some names are already in use: ${taken.join(', ')}`);
    const live = [...this.instances.values()].filter((instance) => instance.state !== 'shutting-down').length;
    if (live + names.length > this.options.maxInstances) throw new Refusal(400, 'OperationFailureException', `You have reached the limit of ${this.options.maxInstances} instances (quota)`);
    const now = Date.now();
    for (const name of names as string[]) {
      const n = this.nextAddress++;
      this.instances.set(name, {
        name,
        state: 'pending',
        blueprintId,
        bundleId,
        availabilityZone: zone,
        keyPairName: typeof body.keyPairName === 'string' ? body.keyPairName : null,
        tags: tags.map((tag) => ({ key: String(tag.key), ...(tag.value !== undefined ? { value: String(tag.value) } : {}) })),
        addOns: addOns.map((addOn) => ({ name: 'AutoSnapshot', status: 'Enabled', snapshotTimeOfDay: addOn.autoSnapshotAddOnRequest?.snapshotTimeOfDay ?? '06:00' })),
        userData: typeof body.userData === 'string' ? body.userData : null,
        ports: [
          { fromPort: 22, toPort: 22, protocol: 'tcp', cidrs: ['0.0.0.0/0'] },
          { fromPort: 80, toPort: 80, protocol: 'tcp', cidrs: ['0.0.0.0/0'] },
        ],
        privateIpAddress: `172.26.${Math.floor(n / 250)}.${(n % 250) + 2}`,
        publicIpAddress: `198.51.100.${n % 250}`,
        staticIp: null,
        createdAt: now,
        readyAt: now + this.options.bootMs,
        goneAt: null,
      });
    }
    if (this.loseNextCreates > 0) {
      this.loseNextCreates -= 1;
      throw new Error('the answer was lost on the way');
    }
    return { operations: (names as string[]).map((name) => this.operation('CreateInstance', name, 'Instance', zone)) };
  }

  private instance(body: Record<string, unknown>): ContractInstance {
    const name = this.string(body, 'instanceName');
    const instance = this.instances.get(name);
    if (!instance) throw notFound(`The Instance does not exist: ${name}`);
    return instance;
  }

  private deleteInstance(body: Record<string, unknown>) {
    const instance = this.instance(body);
    if (instance.state !== 'shutting-down') {
      if (instance.addOns.length > 0 && body.forceDeleteAddOns !== true) {
        throw new Refusal(400, 'OperationFailureException', `The instance ${instance.name} has add-ons: delete them first or ask forceDeleteAddOns`);
      }
      instance.state = 'shutting-down';
      instance.goneAt = Date.now() + this.options.deleteMs;
      if (instance.staticIp) {
        const ip = this.staticIps.get(instance.staticIp);
        if (ip) ip.attachedTo = null;
        instance.staticIp = null;
      }
      this.tick();
    }
    return { operations: [this.operation('DeleteInstance', instance.name, 'Instance', instance.availabilityZone)] };
  }

  /**
   * StopInstance from `running` (then `stopping`, `stopped`), StartInstance from `stopped` (then
   * `pending`, `running`); any other state is refused as Lightsail refuses it. A stopped instance
   * keeps its static IP; its own public address is given anew on start.
   */
  private power(body: Record<string, unknown>, action: 'stop' | 'start') {
    const instance = this.instance(body);
    const from = action === 'stop' ? 'running' : 'stopped';
    if (instance.state !== from || instance.power) {
      throw invalid(`You can't ${action} the instance ${instance.name} while it is ${instance.state}`);
    }
    instance.state = action === 'stop' ? 'stopping' : 'pending';
    instance.power = { action, at: Date.now() };
    if (action === 'start' && !instance.staticIp) instance.publicIpAddress = `198.51.100.${this.nextAddress++ % 250}`;
    this.tick();
    return { operations: [this.operation(action === 'stop' ? 'StopInstance' : 'StartInstance', instance.name, 'Instance', instance.availabilityZone)] };
  }

  private putPorts(body: Record<string, unknown>) {
    const instance = this.instance(body);
    const ports = body.portInfos;
    if (!Array.isArray(ports)) throw invalid('portInfos is required');
    for (const port of ports as Record<string, unknown>[]) {
      if (!['tcp', 'udp', 'all', 'icmp', 'icmpv6'].includes(String(port.protocol))) throw invalid(`protocol ${String(port.protocol)} is not valid`);
      const from = Number(port.fromPort);
      const to = Number(port.toPort);
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < -1 || to > 65_535 || from > to) throw invalid('fromPort and toPort must be 0-65535 (or -1 for ICMP), fromPort first');
    }
    instance.ports = ports as Record<string, unknown>[];
    return { operation: this.operation('PutInstancePublicPorts', instance.name, 'Instance', instance.availabilityZone) };
  }

  private allocate(body: Record<string, unknown>) {
    const name = this.string(body, 'staticIpName');
    if (!NAME.test(name)) throw invalid(`${name} is not a valid resource name`);
    if (this.staticIps.has(name) || this.instances.has(name)) throw invalid(`Some names are already in use: ${name}`);
    const n = this.nextAddress++;
    this.staticIps.set(name, { name, ipAddress: `203.0.113.${n % 250}`, attachedTo: null });
    return { operations: [this.operation('AllocateStaticIp', name, 'StaticIp')] };
  }

  private attach(body: Record<string, unknown>) {
    const ip = this.staticIps.get(this.string(body, 'staticIpName'));
    if (!ip) throw notFound(`The StaticIp does not exist: ${String(body.staticIpName)}`);
    const instance = this.instance(body);
    if (instance.state !== 'running') throw new Refusal(400, 'OperationFailureException', `The instance ${instance.name} is ${instance.state}: a static IP attaches to a running instance`);
    if (ip.attachedTo && ip.attachedTo !== instance.name) throw invalid(`The static IP ${ip.name} is attached to ${ip.attachedTo}`);
    if (instance.staticIp && instance.staticIp !== ip.name) throw invalid(`The instance ${instance.name} already has the static IP ${instance.staticIp}`);
    ip.attachedTo = instance.name;
    instance.staticIp = ip.name;
    return { operations: [this.operation('AttachStaticIp', ip.name, 'StaticIp'), this.operation('AttachStaticIp', instance.name, 'Instance', instance.availabilityZone)] };
  }

  private release(body: Record<string, unknown>) {
    const name = this.string(body, 'staticIpName');
    const ip = this.staticIps.get(name);
    if (!ip) throw notFound(`The StaticIp does not exist: ${name}`);
    if (ip.attachedTo) {
      const instance = this.instances.get(ip.attachedTo);
      if (instance) instance.staticIp = null;
    }
    this.staticIps.delete(name);
    return { operations: [this.operation('ReleaseStaticIp', name, 'StaticIp')] };
  }

  private view(instance: ContractInstance) {
    const bundle = BUNDLES.find((candidate) => candidate.bundleId === instance.bundleId);
    const ip = instance.staticIp ? this.staticIps.get(instance.staticIp) : undefined;
    return {
      name: instance.name,
      arn: `arn:aws:lightsail:${REGION}:123456789012:Instance/${instance.name}`,
      supportCode: '123456789012/i-0contract',
      createdAt: instance.createdAt / 1000,
      location: { availabilityZone: instance.availabilityZone, regionName: REGION },
      resourceType: 'Instance',
      tags: instance.tags,
      blueprintId: instance.blueprintId,
      blueprintName: BLUEPRINTS.find((candidate) => candidate.blueprintId === instance.blueprintId)?.name,
      bundleId: instance.bundleId,
      addOns: instance.addOns,
      isStaticIp: ip !== undefined,
      privateIpAddress: instance.privateIpAddress,
      ...(instance.state === 'running' || ip ? { publicIpAddress: ip?.ipAddress ?? instance.publicIpAddress } : {}),
      hardware: { cpuCount: bundle?.cpuCount, ramSizeInGb: bundle?.ramSizeInGb, disks: [{ sizeInGb: bundle?.diskSizeInGb, isSystemDisk: true }] },
      networking: { ports: instance.ports },
      state: { code: { pending: 0, running: 16, 'shutting-down': 32, stopping: 64, stopped: 80 }[instance.state], name: instance.state },
      username: 'admin',
      ...(instance.keyPairName ? { sshKeyName: instance.keyPairName } : {}),
    };
  }

  private ipView(ip: ContractStaticIp) {
    return {
      name: ip.name,
      arn: `arn:aws:lightsail:${REGION}:123456789012:StaticIp/${ip.name}`,
      location: { availabilityZone: 'all', regionName: REGION },
      resourceType: 'StaticIp',
      ipAddress: ip.ipAddress,
      isAttached: ip.attachedTo !== null,
      ...(ip.attachedTo ? { attachedTo: ip.attachedTo } : {}),
    };
  }
}
