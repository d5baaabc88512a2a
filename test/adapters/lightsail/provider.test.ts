import { LightsailClient, type Bundle } from '@aws-sdk/client-lightsail';
import { afterEach, describe, expect, it } from 'vitest';
import { LightsailProvider, lightsailSettingsFromEnv, portInfos, type LightsailProviderOptions } from '#adapters/lightsail/index';
import { activeLinuxBundles, chooseBundle } from '#adapters/lightsail/bundles';
import { InvalidSpec, ProviderError, QuotaExceeded, TransientProviderError } from '#domain/errors';
import type { ProviderOperation, ServerRequest } from '#domain/provider';
import { ConfigError } from '#lib/config';
import { ACCESS_KEY, BUNDLES, KEY_PAIR, LightsailContract, REGION, SECRET_KEY, type LightsailContractOptions } from '../../contract/lightsail/server.ts';

const CLUSTER = 'c0ffee00-0000-4000-8000-000000000004';
const OTHER = 'c0ffee00-0000-4000-8000-000000000005';
const started: LightsailContract[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((cloud) => cloud.close()));
});

const connect = async (cloudOptions: LightsailContractOptions = {}, options: Partial<LightsailProviderOptions> = {}, accessKey = ACCESS_KEY) => {
  const cloud = await new LightsailContract(cloudOptions).start();
  started.push(cloud);
  // The real SDK, signing with the contract's key and reaching it at its endpoint.
  const client = new LightsailClient({ region: REGION, endpoint: cloud.url, credentials: { accessKeyId: accessKey, secretAccessKey: SECRET_KEY }, maxAttempts: 3 });
  const provider = new LightsailProvider({ ...lightsailSettingsFromEnv(cloud.env()), client, ...options });
  return { cloud, provider };
};

const server = (name: string, overrides: Partial<ServerRequest> = {}): ServerRequest => ({
  name,
  role: 'worker',
  group: 'workers',
  flavor: 'small_3_0',
  vcpus: 2,
  ramMb: 2048,
  diskGb: 50,
  publicIp: false,
  ...overrides,
});
const script = (text: string) => Buffer.from(text).toString('base64');
const recorder = () => {
  const operations: ProviderOperation[] = [];
  return { operations, onOperations: async (made: ProviderOperation[]) => void operations.push(...made) };
};
const creates = (cloud: LightsailContract) => cloud.calls.filter((call) => call.operation === 'CreateInstances' && call.status === 200);
const caught = async (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error);

describe('lightsail settings', () => {
  it('defaults the blueprint to debian_12 and the zone to the region’s first available one, asking GetRegions once', async () => {
    const settings = lightsailSettingsFromEnv({ AWS_REGION: 'eu-west-2' });
    expect(settings.blueprintId).toBe('debian_12');
    expect(settings.zone).toBeUndefined();
    const { cloud, provider } = await connect({}, { zone: undefined });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('a1')] });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('a2')] });
    expect(creates(cloud).map((call) => call.body.availabilityZone)).toEqual([`${REGION}b`, `${REGION}b`]);
    expect(cloud.calls.filter((call) => call.operation === 'GetRegions')).toHaveLength(1);
  });

  it('names the variable that is wrong', () => {
    expect(() => lightsailSettingsFromEnv({ LIGHTSAIL_ZONE: 'west' })).toThrow(ConfigError);
    expect(() => lightsailSettingsFromEnv({ LIGHTSAIL_ZONE: 'west' })).toThrow(/zone/);
    expect(() => lightsailSettingsFromEnv({ LIGHTSAIL_BLUEPRINT: 'Debian 12!' })).toThrow(/blueprintId/);
    expect(() => lightsailSettingsFromEnv({ AWS_ENDPOINT_URL_LIGHTSAIL: 'not a url' })).toThrow(/endpoint/);
  });
});

describe('lightsail bundles', () => {
  const sizes = activeLinuxBundles(BUNDLES as Bundle[]);

  it('keeps active Linux bundles only', () => {
    expect(sizes.map((bundle) => bundle.id)).not.toContain('small_win_3_0');
    expect(sizes.map((bundle) => bundle.id)).not.toContain('medium_2_0');
    expect(sizes.find((bundle) => bundle.id === 'nano_3_0')).toEqual({ id: 'nano_3_0', vcpus: 2, ramMb: 512, diskGb: 20, power: 300 });
  });

  it('picks the smallest that fits cpu, memory and disk and suits the blueprint’s minPower', () => {
    expect(chooseBundle(sizes, { vcpus: 1, ramMb: 512, diskGb: 10 }, 0).id).toBe('nano_3_0');
    expect(chooseBundle(sizes, { vcpus: 1, ramMb: 512, diskGb: 10 }, 1000).id).toBe('small_3_0');
    expect(chooseBundle(sizes, { vcpus: 4, ramMb: 4096, diskGb: 40 }, 0).id).toBe('xlarge_3_0');
    expect(() => chooseBundle(sizes, { vcpus: 16, ramMb: 4096, diskGb: 40 }, 0)).toThrow(InvalidSpec);
  });

  it('resolves and describes flavors synchronously, InvalidSpec when none fits', async () => {
    const { provider } = await connect();
    expect(provider.resolveFlavor({ vcpus: 2, ramMb: 3000, diskGb: 20 })).toBe('medium_3_0');
    expect(provider.describeFlavor('large_3_0')).toEqual({ vcpus: 2, ramMb: 8192, diskGb: 160 });
    expect(provider.describeFlavor('nope')).toBeNull();
    expect(() => provider.resolveFlavor({ vcpus: 64, ramMb: 1024, diskGb: 10 })).toThrow(InvalidSpec);
    const tooMuch = (() => {
      try {
        provider.resolveFlavor({ vcpus: 2, ramMb: 65_536, diskGb: 10 });
      } catch (error) {
        return error as InvalidSpec;
      }
    })();
    expect(tooMuch?.details).toEqual([{ path: 'ramMb', message: 'no lightsail bundle has 65536 MiB (the most is 32768)' }]);
  });

  it('asks GetBundles and GetBlueprints for the blueprint’s minPower when creating', async () => {
    const { cloud, provider } = await connect({ pageSize: 2 });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('wp', { vcpus: 1, ramMb: 512, diskGb: 10 })], options: { image: 'wordpress' } });
    expect(creates(cloud)[0]?.body).toMatchObject({ blueprintId: 'wordpress', bundleId: 'small_3_0' });
    // Both catalogues are read to their last page.
    expect(cloud.operations().filter((operation) => operation === 'GetBundles').length).toBe(Math.ceil(BUNDLES.filter((b) => b.isActive).length / 2));
    expect(cloud.operations()).toContain('GetBlueprints');
  });

  it('refuses a blueprint Lightsail does not have or that is not Linux', async () => {
    const { provider } = await connect();
    const missing = await caught(provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('a1')], options: { image: 'nope_1' } }));
    expect(missing).toBeInstanceOf(ProviderError);
    expect(missing?.name).toBe('LightsailNotFound');
    const windows = await caught(provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('a1')], options: { image: 'windows_server_2022' } }));
    expect(windows?.message).toMatch(/not Linux/);
  });
});

describe('lightsail createServers', () => {
  it('makes the batch with its zone, blueprint, key pair, tags, plain-text user data and operations', async () => {
    const { cloud, provider } = await connect();
    const { operations, onOperations } = recorder();
    const servers = await provider.createServers({
      clusterId: CLUSTER,
      clientToken: 't',
      networkIds: [],
      servers: [server('master', { role: 'master', userData: script('#!/bin/bash\necho master\n') }), server('worker-1', { userData: script('#!/bin/bash\necho worker\n') })],
      options: { tags: { team: 'data', 'lightsail:auto-snapshot': '03:00' } },
      onOperations,
    });

    expect(servers).toEqual([
      { id: `${CLUSTER}-master`, name: 'master', state: 'BUILD', privateIp: null, publicIp: null },
      { id: `${CLUSTER}-worker-1`, name: 'worker-1', state: 'BUILD', privateIp: null, publicIp: null },
    ]);
    // One call per user data: Lightsail takes one launch script per call.
    expect(creates(cloud).map((call) => call.body.instanceNames)).toEqual([[`${CLUSTER}-master`], [`${CLUSTER}-worker-1`]]);
    const body = creates(cloud)[0]?.body;
    expect(body).toMatchObject({ availabilityZone: `${REGION}b`, blueprintId: 'debian_12', bundleId: 'small_3_0', keyPairName: KEY_PAIR, userData: '#!/bin/bash\necho master\n' });
    expect(body?.tags).toEqual(
      expect.arrayContaining([
        { key: 'cluster-id', value: CLUSTER },
        { key: 'managed-by', value: 'cluster-service' },
        { key: 'team', value: 'data' },
      ]),
    );
    expect(body?.addOns).toEqual([{ addOnType: 'AutoSnapshot', autoSnapshotAddOnRequest: { snapshotTimeOfDay: '03:00' } }]);
    expect(operations.map((operation) => `${operation.type} ${operation.resource} ${operation.status}`)).toEqual([
      `CreateInstance ${CLUSTER}-master Succeeded`,
      `CreateInstance ${CLUSTER}-worker-1 Succeeded`,
    ]);
  });

  it('puts servers with the same user data in one CreateInstances with several instanceNames', async () => {
    const { cloud, provider } = await connect();
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('w1'), server('w2'), server('w3')], options: { userData: script('#!/bin/sh\ntrue\n') } });
    expect(creates(cloud).map((call) => call.body.instanceNames)).toEqual([[`${CLUSTER}-w1`, `${CLUSTER}-w2`, `${CLUSTER}-w3`]]);
  });

  it('adopts the instances of a call whose answer was lost (the SDK’s retry is told the names are in use)', async () => {
    const { cloud, provider } = await connect();
    cloud.loseNextCreates = 1;
    const servers = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('w1'), server('w2')] });
    expect(servers.map((made) => made.id)).toEqual([`${CLUSTER}-w1`, `${CLUSTER}-w2`]);
    const tries = cloud.calls.filter((call) => call.operation === 'CreateInstances');
    expect(tries.map((call) => call.error)).toEqual(['ServiceException', 'InvalidInputException']);
    expect(cloud.live().map((instance) => instance.name)).toEqual([`${CLUSTER}-w1`, `${CLUSTER}-w2`]);
  });

  it('adopts on a retried batch without calling CreateInstances again', async () => {
    const { cloud, provider } = await connect();
    const input = { clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('w1')] };
    await provider.createServers(input);
    const again = await provider.createServers(input);
    expect(again.map((made) => made.id)).toEqual([`${CLUSTER}-w1`]);
    expect(creates(cloud)).toHaveLength(1);
  });

  it('refuses a name in use by an instance that is not the cluster’s', async () => {
    const { cloud, provider } = await connect();
    await provider.createServers({ clusterId: OTHER, clientToken: 't', networkIds: [], servers: [server('w1')] });
    // Someone else's instance under the name this cluster's server would get.
    const theirs = cloud.instances.get(`${OTHER}-w1`)!;
    cloud.instances.set(`${CLUSTER}-w1`, { ...theirs, name: `${CLUSTER}-w1`, tags: [{ key: 'owner', value: 'someone' }] });
    const error = await caught(provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('w1')] }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error?.name).toBe('LightsailNameInUse');
    expect(error?.message).toContain(`${CLUSTER}-w1`);
  });

  it('turns the spec’s ingress rules into each instance’s public ports', async () => {
    const { cloud, provider } = await connect();
    const { operations, onOperations } = recorder();
    await provider.createServers({
      clusterId: CLUSTER,
      clientToken: 't',
      networkIds: [],
      servers: [server('w1')],
      securityRules: [
        { direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 },
        { direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '192.0.2.0/24', portRangeMin: 22, portRangeMax: 22 },
        { direction: 'ingress', protocol: 'icmp', ethertype: 'IPv6', remoteIpPrefix: '::/0' },
        { direction: 'egress', protocol: 'any', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' },
      ],
      onOperations,
    });
    expect(cloud.instances.get(`${CLUSTER}-w1`)?.ports).toEqual([
      { protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['10.0.0.0/8', '192.0.2.0/24'] },
      { protocol: 'icmpv6', fromPort: -1, toPort: -1, ipv6Cidrs: ['::/0'] },
    ]);
    expect(operations.map((operation) => operation.type)).toEqual(['CreateInstance', 'PutInstancePublicPorts']);
  });

  it('refuses a batch larger than maxBatchSize', async () => {
    const { provider } = await connect({}, { maxBatchSize: 2 });
    const error = await caught(provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('a'), server('b'), server('c')] }));
    expect(error?.name).toBe('BatchTooLarge');
  });
});

describe('lightsail describeServers', () => {
  it('answers the cluster’s instances from one paged GetInstances round: pending, then running with its private address', async () => {
    const { cloud, provider } = await connect({ pageSize: 2, bootMs: 300 });
    await provider.createServers({ clusterId: OTHER, clientToken: 't', networkIds: [], servers: [server('x1'), server('x2')] });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('w1'), server('w2'), server('w3')] });
    const before = cloud.calls.length;
    const pending = await provider.describeServers({ clusterId: CLUSTER });
    const round = cloud.calls.slice(before);
    // Five instances, two a page: three pages, and nothing else asked.
    expect(round.map((call) => call.operation)).toEqual(['GetInstances', 'GetInstances', 'GetInstances']);
    expect(pending.map((found) => [found.id, found.name, found.state])).toEqual([
      [`${CLUSTER}-w1`, 'w1', 'BUILD'],
      [`${CLUSTER}-w2`, 'w2', 'BUILD'],
      [`${CLUSTER}-w3`, 'w3', 'BUILD'],
    ]);
    await expect
      .poll(async () => (await provider.describeServers({ clusterId: CLUSTER })).map((found) => found.state), { timeout: 5000, interval: 100 })
      .toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
    const running = await provider.describeServers({ clusterId: CLUSTER });
    expect(running[0]?.privateIp).toMatch(/^172\.26\./);
    // An instance's own (dynamic) public address is not the cluster's: only static IPs are.
    expect(running[0]?.publicIp).toBeNull();
  });

  it('reports an instance that ended stopped instead of running as STOPPED with why, which the workflow reads as a failed boot', async () => {
    const { provider } = await connect({ failNames: /broken/ });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('broken-1')] });
    const [found] = await provider.describeServers({ clusterId: CLUSTER });
    expect(found).toMatchObject({ state: 'STOPPED', fault: 'instance is stopped' });
  });
});

describe('lightsail allocatePublicIps', () => {
  it('allocates and attaches a static IP per server, once, recording the operations', async () => {
    const { cloud, provider } = await connect();
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('master'), server('w1')] });
    const { operations, onOperations } = recorder();
    const addresses = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [`${CLUSTER}-master`], onOperations });
    expect(addresses).toEqual({ [`${CLUSTER}-master`]: expect.stringMatching(/^203\.0\.113\.\d+$/) });
    expect(cloud.staticIps.get(`${CLUSTER}-master-ip`)?.attachedTo).toBe(`${CLUSTER}-master`);
    expect(operations.map((operation) => operation.type)).toEqual(['AllocateStaticIp', 'AttachStaticIp', 'AttachStaticIp']);
    const [master] = await provider.describeServers({ clusterId: CLUSTER });
    expect(master?.publicIp).toBe(addresses[`${CLUSTER}-master`]);

    const before = cloud.calls.length;
    expect(await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [`${CLUSTER}-master`] })).toEqual(addresses);
    expect(cloud.calls.slice(before).map((call) => call.operation)).not.toContain('AllocateStaticIp');
    expect(cloud.staticIps.size).toBe(1);
  });

  it('refuses a server that is not the cluster’s', async () => {
    const { provider } = await connect();
    const error = await caught(provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [`${CLUSTER}-ghost`] }));
    expect(error?.name).toBe('ServerNotFound');
  });
});

describe('lightsail checkOptions and networks', () => {
  it('refuses more than one private network, naming network.privateNetworks and why', async () => {
    const { provider } = await connect();
    const details = provider.checkOptions({ options: {}, securityRules: [], privateNetworks: 2 });
    expect(details).toEqual([{ path: 'network.privateNetworks', message: expect.stringMatching(/private network.*at most 1/) }]);
    expect(provider.checkOptions({ options: {}, securityRules: [], privateNetworks: 1 })).toEqual([]);
    expect(await provider.createNetworks({ clusterId: CLUSTER, count: 1 })).toEqual([]);
    await expect(provider.createNetworks({ clusterId: CLUSTER, count: 2 })).rejects.toThrow(/network.privateNetworks/);
  });

  it('names each field it cannot honour', async () => {
    const { provider } = await connect();
    const details = provider.checkOptions({
      options: { region: 'us-east-1', tags: { 'lightsail:auto-snapshot': '3am', 'bad#key': 'x' } },
      securityRules: [
        { direction: 'egress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 443, portRangeMax: 443 },
        { direction: 'ingress', protocol: 'gre', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8' },
      ],
      privateNetworks: 0,
    });
    expect(details.map((detail) => detail.path)).toEqual([
      'region',
      'tags.bad#key',
      'tags.lightsail:auto-snapshot',
      'network.securityRules.0.direction',
      'network.securityRules.1.protocol',
    ]);
  });

  it('merges rules of the same port range into one public port', () => {
    expect(
      portInfos([
        { direction: 'ingress', protocol: 'any', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8' },
        { direction: 'ingress', protocol: 'any', ethertype: 'IPv6', remoteIpPrefix: 'fd00::/8' },
      ]),
    ).toEqual([{ protocol: 'all', fromPort: 0, toPort: 65_535, cidrs: ['10.0.0.0/8'], ipv6Cidrs: ['fd00::/8'] }]);
  });
});

describe('lightsail errors', () => {
  const create = (provider: LightsailProvider) => provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('w1')] });

  it('retries throttling and gives up as TransientProviderError', async () => {
    const { cloud, provider } = await connect();
    cloud.throttleNext = 2;
    expect(await provider.describeServers({ clusterId: CLUSTER })).toEqual([]);
    cloud.throttleNext = 10;
    expect(await caught(provider.describeServers({ clusterId: CLUSTER }))).toBeInstanceOf(TransientProviderError);
  });

  it.each([
    ['ServiceException', 500, TransientProviderError, 'TransientProviderError'],
    ['AccountSetupInProgressException', 428, TransientProviderError, 'TransientProviderError'],
    ['AccessDeniedException', 403, ProviderError, 'ProviderForbidden'],
    ['InvalidInputException', 400, ProviderError, 'LightsailInvalidInput'],
    ['NotFoundException', 404, ProviderError, 'LightsailNotFound'],
    ['OperationFailureException', 400, ProviderError, 'LightsailOperationFailure'],
  ])('maps %s to %s', async (type, status, kind, code) => {
    const { cloud, provider } = await connect();
    // Enough for every try the SDK makes of a retryable one.
    for (let i = 0; i < 3; i += 1) cloud.failNext.push({ type, status, message: `refused: ${type}` });
    const error = await caught(create(provider));
    expect(error).toBeInstanceOf(kind);
    expect(error?.name).toBe(code);
    expect(error?.message).toContain(type);
  });

  it('maps a request signed with an unknown key to ProviderAuthFailed', async () => {
    const { provider } = await connect({}, {}, 'AKIDSOMEONEELSE');
    const error = await caught(create(provider));
    expect(error?.name).toBe('ProviderAuthFailed');
    expect(error?.message).toContain('UnauthenticatedException');
  });

  it('maps the instance limit to QuotaExceeded', async () => {
    const { provider } = await connect({ maxInstances: 0 });
    expect(await caught(create(provider))).toBeInstanceOf(QuotaExceeded);
  });
});

describe('lightsail deleteCluster', () => {
  it('deletes the cluster’s instances with their add-ons and releases its static IPs; 0 once a round finds none', async () => {
    const { cloud, provider } = await connect({ deleteMs: 200 });
    await provider.createServers({ clusterId: OTHER, clientToken: 't', networkIds: [], servers: [server('x1')] });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('master'), server('w1')], options: { tags: { 'lightsail:auto-snapshot': '01:00' } } });
    await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [`${CLUSTER}-master`] });
    const { operations, onOperations } = recorder();

    const first = await provider.deleteCluster({ clusterId: CLUSTER, onOperations });
    expect(first.remaining).toBe(3);
    const deletes = cloud.calls.filter((call) => call.operation === 'DeleteInstance');
    expect(deletes.map((call) => call.body)).toEqual([
      { instanceName: `${CLUSTER}-master`, forceDeleteAddOns: true },
      { instanceName: `${CLUSTER}-w1`, forceDeleteAddOns: true },
    ]);
    expect(operations.map((operation) => operation.type)).toEqual(['DeleteInstance', 'DeleteInstance', 'ReleaseStaticIp']);
    await expect.poll(async () => (await provider.deleteCluster({ clusterId: CLUSTER })).remaining, { timeout: 5000, interval: 100 }).toBe(0);
    expect(cloud.live().map((instance) => instance.name)).toEqual([`${OTHER}-x1`]);
    expect(cloud.staticIps.size).toBe(0);
    // Instances already shutting down are not deleted twice.
    expect(cloud.calls.filter((call) => call.operation === 'DeleteInstance')).toHaveLength(2);
  });
});
