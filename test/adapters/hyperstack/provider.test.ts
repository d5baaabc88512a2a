import { afterEach, describe, expect, it } from 'vitest';
import { HyperstackProvider, hyperstackSettingsFromEnv, type HyperstackProviderOptions } from '#adapters/hyperstack/index';
import { hyperstackError } from '#adapters/hyperstack/client';
import { namePrefix } from '#adapters/hyperstack/provider';
import { InvalidSpec, ProviderError, TransientProviderError } from '#domain/errors';
import type { ServerRequest } from '#domain/provider';
import { ConfigError } from '#lib/config';
import { HyperstackContract, type HyperstackContractOptions } from '../../contract/hyperstack/server.ts';

const CLUSTER = 'c0ffee00-0000-4000-8000-000000000002';
const started: HyperstackContract[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((cloud) => cloud.close()));
});

const connect = async (cloudOptions: HyperstackContractOptions = {}, options: HyperstackProviderOptions = {}, env: Record<string, string> = {}) => {
  const cloud = await new HyperstackContract(cloudOptions).start();
  started.push(cloud);
  const sleeps: number[] = [];
  let clock = 1_000_000;
  const provider = await HyperstackProvider.connect(hyperstackSettingsFromEnv({ ...cloud.env(), ...env }), {
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...options,
  });
  return { cloud, provider, sleeps };
};

const server = (name: string, overrides: Partial<ServerRequest> = {}): ServerRequest => ({
  name,
  role: 'worker',
  group: 'workers',
  flavor: 'n1-cpu-small',
  vcpus: 2,
  ramMb: 4096,
  diskGb: 50,
  publicIp: false,
  ...overrides,
});
const workers = (count: number, first = 1) => Array.from({ length: count }, (_, i) => server(`worker-${first + i}`));
const creates = (cloud: HyperstackContract) => cloud.calls.filter((call) => call.method === 'POST' && call.path === '/core/virtual-machines');

describe('hyperstack settings', () => {
  it('names every missing variable', () => {
    expect(() => hyperstackSettingsFromEnv({})).toThrow(ConfigError);
    expect(() => hyperstackSettingsFromEnv({})).toThrow(/HYPERSTACK_API_KEY.*HYPERSTACK_ENVIRONMENT.*HYPERSTACK_IMAGE.*HYPERSTACK_KEY_NAME/);
  });

  it('defaults the API URL to Infrahub v1', () => {
    const settings = hyperstackSettingsFromEnv({ HYPERSTACK_API_KEY: 'k', HYPERSTACK_ENVIRONMENT: 'e', HYPERSTACK_IMAGE: 'i', HYPERSTACK_KEY_NAME: 'n' });
    expect(settings.apiUrl).toBe('https://infrahub-api.nexgencloud.com/v1');
  });

  it('refuses to connect with a wrong api_key: ProviderAuthFailed', async () => {
    const error = await connect({}, {}, { HYPERSTACK_API_KEY: 'wrong-key-000000' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).name).toBe('ProviderAuthFailed');
  });

  it('refuses an environment the account does not have, naming the variable', async () => {
    await expect(connect({}, {}, { HYPERSTACK_ENVIRONMENT: 'elsewhere' })).rejects.toThrow(/HYPERSTACK_ENVIRONMENT/);
  });

  it('finds its environment by name with the listing’s search, and only the flavors of that environment’s region', async () => {
    const { cloud, provider } = await connect();
    expect(cloud.calls.find((call) => call.path === '/core/environments')?.query).toMatchObject({ search: 'cluster-env' });
    expect(provider.describeFlavor('n1-cpu-small')).not.toBeNull();
  });
});

describe('hyperstack flavors', () => {
  it('picks the smallest CPU flavor in stock that fits cpu, ram GB and disk GB, and describes named ones', async () => {
    const { provider } = await connect();
    // n1-cpu-tiny fits, but Infrahub has none to give.
    expect(provider.describeFlavor('n1-cpu-tiny')).toEqual({ vcpus: 1, ramMb: 2048, diskGb: 20 });
    expect(provider.resolveFlavor({ vcpus: 1, ramMb: 1024, diskGb: 10 })).toBe('n1-cpu-small');
    expect(provider.resolveFlavor({ vcpus: 2, ramMb: 6144, diskGb: 10 })).toBe('n1-cpu-medium');
    expect(provider.resolveFlavor({ vcpus: 2, ramMb: 4096, diskGb: 150 })).toBe('n1-cpu-large');
    expect(provider.describeFlavor('n1-cpu-medium')).toEqual({ vcpus: 4, ramMb: 8192, diskGb: 100 });
    expect(provider.describeFlavor('nope')).toBeNull();
  });

  it('answers InvalidSpec naming the field when nothing fits', async () => {
    const { provider } = await connect();
    const error = (() => {
      try {
        provider.resolveFlavor({ vcpus: 64, ramMb: 1024, diskGb: 10 });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidSpec);
    expect((error as InvalidSpec).details[0]?.path).toBe('vcpus');
  });
});

describe('hyperstack checkOptions', () => {
  it('refuses region, zone, more than one private network and unknown protocols, by field path', async () => {
    const { provider } = await connect();
    const details = provider.checkOptions({
      options: { region: 'x', zone: 'y' },
      privateNetworks: 2,
      securityRules: [
        { direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 22, portRangeMax: 22 },
        { direction: 'ingress', protocol: 'sctp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' },
      ],
    });
    expect(details.map((detail) => detail.path)).toEqual(['region', 'zone', 'network.privateNetworks', 'network.securityRules.1.protocol']);
    expect(provider.checkOptions({ options: {}, privateNetworks: 1, securityRules: [] })).toEqual([]);
  });
});

describe('hyperstack createServers', () => {
  it('sends labels, the floating IP only where publicIp, the rules and the user data decoded', async () => {
    const { cloud, provider } = await connect();
    const script = '#!/bin/bash\necho hello\n';
    const made = await provider.createServers({
      clusterId: CLUSTER,
      clientToken: 't1',
      networkIds: [],
      servers: [server('master', { role: 'master', group: 'masters', publicIp: true, userData: Buffer.from(script).toString('base64') }), server('worker-1')],
      options: { tags: { team: 'data' } },
      securityRules: [{ direction: 'ingress', protocol: 'TCP', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 }],
    });
    expect(made.map((vm) => [vm.name, vm.state])).toEqual([
      ['master', 'BUILD'],
      ['worker-1', 'BUILD'],
    ]);
    const [master, worker] = creates(cloud).map((call) => call.body ?? {});
    expect(master).toMatchObject({
      name: `${namePrefix(CLUSTER)}master`,
      environment_name: 'cluster-env',
      count: 1,
      assign_floating_ip: true,
      user_data: script,
      security_rules: [{ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remote_ip_prefix: '10.0.0.0/8', port_range_min: 22, port_range_max: 22 }],
    });
    expect(master?.labels).toEqual(expect.arrayContaining([`cluster-service.cluster=${CLUSTER}`, 'cluster-service.group=masters', 'team=data']));
    expect(worker).toMatchObject({ assign_floating_ip: false, labels: expect.arrayContaining(['cluster-service.group=workers']) });
    expect(worker).not.toHaveProperty('user_data');
  });

  it('registers the cluster’s callback URL as callback_url, unless it is a loopback address an Infrahub elsewhere cannot call', async () => {
    const { cloud, provider } = await connect();
    const callbackUrl = `http://127.0.0.1:9/v1/clusters/${CLUSTER}/provider-events/${'s'.repeat(43)}`;
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(1), callbackUrl });
    expect(creates(cloud)[0]?.body?.callback_url).toBe(callbackUrl);

    // The same contract, but reached as an Infrahub on another host: a loopback callback is left out, a public one sent.
    const far = await HyperstackProvider.connect(hyperstackSettingsFromEnv({ ...cloud.env(), HYPERSTACK_API_URL: 'https://infrahub.example.org/v1' }), {
      fetch: (url, init) => fetch(String(url).replace('https://infrahub.example.org/v1', cloud.url), init),
    });
    await far.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('worker-2')], callbackUrl });
    await far.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('worker-3')], callbackUrl: 'https://api.example.org/v1/clusters/x/provider-events/y' });
    expect(creates(cloud).slice(1).map((call) => call.body?.callback_url)).toEqual([undefined, 'https://api.example.org/v1/clusters/x/provider-events/y']);
    expect(provider.takesCallbackUrl).toBe(true);
  });

  it('adopts what a retried batch already made instead of making it again', async () => {
    const { cloud, provider } = await connect();
    const first = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(3) });
    const again = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(4) });
    expect(again.slice(0, 3).map((vm) => vm.id)).toEqual(first.map((vm) => vm.id));
    expect(creates(cloud)).toHaveLength(4);
    expect(cloud.vms.size).toBe(4);
  });

  it('does not adopt a VM of the same name without the cluster label', async () => {
    const { cloud, provider } = await connect();
    await fetch(`${cloud.url}/core/virtual-machines`, {
      method: 'POST',
      headers: { api_key: 'contract-api-key', 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${namePrefix(CLUSTER)}worker-1`, environment_name: 'cluster-env', image_name: 'Ubuntu Server 22.04 LTS', flavor_name: 'n1-cpu-small', key_name: 'cluster-key', count: 1 }),
    });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(1) });
    expect(cloud.vms.size).toBe(2);
    expect(await provider.describeServers({ clusterId: CLUSTER })).toHaveLength(1);
  });

  it('refuses more than 20 servers in one call: BatchTooLarge', async () => {
    const { provider } = await connect();
    expect(provider.maxBatchSize).toBe(20);
    await expect(provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(21) })).rejects.toMatchObject({ name: 'BatchTooLarge' });
  });

  it('names Infrahub refusals: ImageNotFound, KeyPairNotFound, QuotaExceeded (the account’s, and a flavor out of stock)', async () => {
    const { provider } = await connect({ maxVms: 1 });
    const batch = (options = {}, servers = workers(2)) => provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers, options });
    await expect(batch({ image: 'Windows' })).rejects.toMatchObject({ name: 'ImageNotFound' });
    await expect(batch({ keyName: 'other' })).rejects.toMatchObject({ name: 'KeyPairNotFound' });
    const stock = await batch({}, [server('worker-9', { flavor: 'n1-cpu-tiny' })]).catch((caught: unknown) => caught);
    expect(stock).toBeInstanceOf(ProviderError);
    expect(stock).toMatchObject({ name: 'QuotaExceeded', message: expect.stringMatching(/out of stock/) });
    const quota = await batch().catch((caught: unknown) => caught);
    expect(quota).toBeInstanceOf(ProviderError);
    expect(quota).toMatchObject({ name: 'QuotaExceeded', message: expect.stringMatching(/Quota exceeded/) });
  });
});

describe('hyperstack describeServers', () => {
  it('lists a 45-node cluster in one paged round: no call per VM', async () => {
    const { cloud, provider } = await connect({}, { pageSize: 20 });
    for (let first = 1; first <= 45; first += 20) {
      await provider.createServers({ clusterId: CLUSTER, clientToken: `t${first}`, networkIds: [], servers: workers(Math.min(20, 46 - first), first) });
    }
    expect(creates(cloud).every((call) => (call.body?.count as number) <= 20)).toBe(true);
    const before = cloud.calls.length;
    const listed = await provider.describeServers({ clusterId: CLUSTER });
    const round = cloud.calls.slice(before);
    expect(listed).toHaveLength(45);
    expect(listed.every((vm) => vm.state === 'ACTIVE' && vm.privateIp !== null)).toBe(true);
    expect(round.map((call) => `${call.method} ${call.path} ${call.query.page}`)).toEqual(['GET /core/virtual-machines 1', 'GET /core/virtual-machines 2', 'GET /core/virtual-machines 3']);
    expect(round.every((call) => call.query.search === namePrefix(CLUSTER))).toBe(true);
  });

  it('answers CREATING as BUILD until booted, and ERROR with its reason', async () => {
    const { provider } = await connect({ bootMs: 60_000 });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(1) });
    expect((await provider.describeServers({ clusterId: CLUSTER }))[0]?.state).toBe('BUILD');
    const failing = await connect({ failNames: /worker-2/ });
    await failing.provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(2) });
    const states = await failing.provider.describeServers({ clusterId: CLUSTER });
    expect(states.find((vm) => vm.name === 'worker-2')).toMatchObject({ state: 'ERROR', fault: 'Infrahub reports the VM ERROR, vm_state error, power_state NOSTATE' });
    expect(states.find((vm) => vm.name === 'worker-1')?.state).toBe('ACTIVE');
  });
});

describe('hyperstack rate limits', () => {
  it('retries a 429 with backoff and succeeds', async () => {
    const { cloud, provider, sleeps } = await connect();
    cloud.throttleNext = 2;
    await expect(provider.describeServers({ clusterId: CLUSTER })).resolves.toEqual([]);
    expect(cloud.calls.filter((call) => call.status === 429)).toHaveLength(2);
    expect(sleeps.filter((ms) => ms >= 1000)).toHaveLength(2);
  });

  it('gives up after its attempts with a TransientProviderError', async () => {
    const { cloud, provider } = await connect({}, { maxAttempts: 2 });
    cloud.throttleNext = 5;
    await expect(provider.describeServers({ clusterId: CLUSTER })).rejects.toBeInstanceOf(TransientProviderError);
  });

  it('spaces its own calls to the requests per minute it allows itself', async () => {
    const { provider, sleeps } = await connect({}, { requestsPerMinute: 60 });
    sleeps.length = 0;
    await provider.describeServers({ clusterId: CLUSTER });
    await provider.describeServers({ clusterId: CLUSTER });
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('maps an error body without a known cause to a code by status', () => {
    expect(hyperstackError('GET /x', 403, { status: false, message: 'Forbidden', error_reason: 'no access' }).name).toBe('ProviderForbidden');
    expect(hyperstackError('GET /x', 502, 'bad gateway')).toBeInstanceOf(TransientProviderError);
  });
});

describe('hyperstack public IPs and destroy', () => {
  it('answers the floating IPs given at create, and attaches one, once, where it is missing: pending until Infrahub shows it', async () => {
    const { cloud, provider } = await connect({ attachMs: 60_000 });
    const [master, worker] = await provider.createServers({
      clusterId: CLUSTER,
      clientToken: 't',
      networkIds: [],
      servers: [server('master', { publicIp: true }), server('worker-1')],
    });
    const ids = [master?.id ?? '', worker?.id ?? ''];
    const attaches = () => cloud.calls.filter((call) => call.path.endsWith('/attach-floatingip'));

    await expect(provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids })).rejects.toThrow(TransientProviderError);
    await expect(provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids })).rejects.toThrow(/still attaching a floating IP to .*worker-1/);
    expect(attaches().map((call) => call.path)).toEqual([`/core/virtual-machines/${worker?.id}/attach-floatingip`]);
    for (const vm of cloud.vms.values()) vm.attachAt = 0;
    const addresses = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: ids });

    expect(addresses[master?.id ?? '']).toMatch(/^203\.0\.113\./);
    expect(addresses[worker?.id ?? '']).toMatch(/^203\.0\.113\./);
    expect(attaches()).toHaveLength(1);
  });

  it('answers a pending floating IP as TransientProviderError by name, which the workflow retries', async () => {
    const { provider } = await connect({ bootMs: 60_000 });
    const [master] = await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: [server('master', { publicIp: true })] });
    const error = await provider.allocatePublicIps({ clusterId: CLUSTER, serverIds: [master?.id ?? ''] }).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('TransientProviderError');
  });

  it('deletes every VM of the cluster and answers 0 only once the listing finds none', async () => {
    const { cloud, provider } = await connect({ deleteMs: 60_000 });
    await provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds: [], servers: workers(3) });
    expect(await provider.deleteCluster({ clusterId: CLUSTER })).toEqual({ remaining: 3 });
    expect(cloud.calls.filter((call) => call.method === 'DELETE')).toHaveLength(3);
    expect(await provider.deleteCluster({ clusterId: CLUSTER })).toEqual({ remaining: 3 });
    expect(cloud.calls.filter((call) => call.method === 'DELETE')).toHaveLength(3);
    for (const vm of cloud.vms.values()) vm.goneAt = 0;
    expect(await provider.deleteCluster({ clusterId: CLUSTER })).toEqual({ remaining: 0 });
    expect(cloud.live()).toEqual([]);
  });
});
