import { describe, expect, it } from 'vitest';
import { faultOf, openStackError, retryAfterMs } from '#adapters/openstack/errors';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { CLUSTER, contractProvider } from './support.ts';

describe('openstack fault bodies', () => {
  it.each([
    ['Nova', { badRequest: { code: 400, message: 'Can not find requested image' } }, { message: 'Can not find requested image' }],
    ['Neutron', { NeutronError: { type: 'NetworkNotFound', message: 'Network n1 could not be found.', detail: '' } }, { type: 'NetworkNotFound', message: 'Network n1 could not be found.' }],
    ['Keystone', { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } }, { message: 'The request you have made requires authentication.' }],
    ['Glance', '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID x<br /><br />\n\n\n\n </body>\n</html>', { message: '404 Not Found No image found with ID x' }],
    ['a proxy', '404 Not Found\n\nNo image found with ID x\n\n', { message: '404 Not Found No image found with ID x' }],
  ])('reads %s’s', (_, body, fault) => {
    expect(faultOf(body)).toEqual(fault);
  });
});

describe('openstack errors in the domain’s terms', () => {
  it.each([
    [{ service: 'compute', status: 400, body: { badRequest: { code: 400, message: 'Flavor 77 could not be found.' } } }, 'FlavorNotFound'],
    [{ service: 'compute', status: 400, body: { badRequest: { code: 400, message: 'Can not find requested image' } } }, 'ImageNotFound'],
    [{ service: 'compute', status: 400, body: { badRequest: { code: 400, message: 'Network 4d1e could not be found.' } } }, 'NetworkNotFound'],
    [{ service: 'compute', status: 404, body: { itemNotFound: { code: 404, message: 'Flavor 77 could not be found.' } } }, 'FlavorNotFound'],
    [{ service: 'compute', status: 400, body: { badRequest: { code: 400, message: 'Invalid metadata' } } }, 'NovaBadRequest'],
    [{ service: 'compute', status: 403, body: { forbidden: { code: 403, message: 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances' } } }, 'QuotaExceeded'],
    [{ service: 'compute', status: 403, body: { forbidden: { code: 403, message: 'Policy does not allow os_compute_api:servers:create:forced_host to be performed.' } } }, 'NovaForbidden'],
    [{ service: 'network', status: 409, body: { NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['network'].", detail: '' } } }, 'QuotaExceeded'],
    [{ service: 'network', status: 404, body: { NeutronError: { type: 'ExternalGatewayForFloatingIPNotFound', message: 'External network x is not reachable', detail: '' } } }, 'ExternalGatewayForFloatingIPNotFound'],
    [{ service: 'network', status: 409, body: { NeutronError: { type: 'IpAddressGenerationFailure', message: 'No more IP addresses available on network x.', detail: '' } } }, 'IpAddressGenerationFailure'],
    [{ service: 'identity', status: 401, body: { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } } }, 'ProviderAuthFailed'],
    [{ service: 'compute', status: 406, body: { computeFault: { code: 406, message: 'Version 2.52 is not supported by the API.' } } }, 'ComputeMicroversionUnsupported'],
  ] as const)('names %o %s, with the service’s message', (call, code) => {
    // Act
    const error = openStackError({ ...call, operation: 'POST /x' });

    // Assess
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.name).toBe(code);
    expect(error.message).toContain(`: ${call.status})`);
  });

  it.each([
    [{ service: 'compute', status: 409, body: { conflictingRequest: { code: 409, message: "Cannot 'delete' instance while it is in task_state rebuilding" } } }],
    [{ service: 'network', status: 409, body: { NeutronError: { type: 'SubnetInUse', message: 'One or more ports have an IP allocation from this subnet.', detail: '' } } }],
    [{ service: 'compute', status: 429, body: { overLimit: { code: 429, message: 'This request was rate-limited.', retryAfter: '30' } } }],
    [{ service: 'compute', status: 413, body: { overLimit: { code: 413, message: 'This request was rate-limited.' } } }],
    [{ service: 'compute', status: 500, body: { computeFault: { code: 500, message: 'Unexpected API Error.' } } }],
    [{ service: 'network', status: 503, body: 'Service Unavailable' }],
  ] as const)('retries %o through the workflow', (call) => {
    expect(openStackError({ ...call, operation: 'POST /x' })).toBeInstanceOf(TransientProviderError);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3', 0)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});

describe('openstack calls that fail', () => {
  it('waits as long as Retry-After says on 429, then goes on', async () => {
    // Prepare
    const { cloud, provider, sleeps } = await contractProvider();
    cloud.inject({ service: 'compute', path: /^\/servers\/detail$/, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '2' }, body: { overLimit: { code: 429, message: 'This request was rate-limited.', retryAfter: '2' } } } });

    // Act
    const servers = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(servers).toEqual([]);
    expect(sleeps).toEqual([2000]);
    expect(cloud.calls('GET', /^\/servers\/detail$/).map((call) => call.status)).toEqual([429, 200]);
  });

  it('leaves a longer wait than it may take to the workflow: TransientProviderError naming Retry-After', async () => {
    // Prepare
    const { cloud, provider, sleeps } = await contractProvider({}, { maxRetryWaitMs: 5000 });
    cloud.inject({ service: 'compute', path: /^\/servers\/detail$/, fault: { kind: 'status', status: 413, headers: { 'Retry-After': '60' }, body: { overLimit: { code: 413, message: 'This request was rate-limited.' } } } });

    // Act
    const failure = provider.describeServers({ clusterId: CLUSTER });

    // Assess
    await expect(failure).rejects.toBeInstanceOf(TransientProviderError);
    await expect(failure).rejects.toThrow(/retry after 60 s/);
    expect(sleeps).toEqual([]);
  });

  it('stops waiting after a few 429s without Retry-After time, leaving the rest to the workflow', async () => {
    // Prepare
    const { cloud, provider, sleeps } = await contractProvider();
    cloud.inject({ service: 'compute', path: /^\/servers\/detail$/, times: 10, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '0' } } });

    // Act
    const failure = provider.describeServers({ clusterId: CLUSTER });

    // Assess
    await expect(failure).rejects.toBeInstanceOf(TransientProviderError);
    expect(sleeps).toEqual([0, 0, 0]);
  });

  it.each([
    ['a dropped connection', { kind: 'drop' } as const],
    ['503', { kind: 'status', status: 503, body: { serviceUnavailable: { code: 503, message: 'Service Unavailable' } } } as const],
    ['409 conflictingRequest', { kind: 'status', status: 409, body: { conflictingRequest: { code: 409, message: 'Conflict' } } } as const],
  ])('answers TransientProviderError to %s', async (_, fault) => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    cloud.inject({ service: 'compute', path: /^\/servers\/detail$/, fault });

    // Act
    const failure = provider.describeServers({ clusterId: CLUSTER });

    // Assess
    await expect(failure).rejects.toBeInstanceOf(TransientProviderError);
  });

  it('words Glance’s refusal, an HTML page, as its text', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    const networkIds = await provider.createNetworks({ clusterId: CLUSTER, count: 1 });
    cloud.inject({ service: 'image', path: /^\/v2\/images$/, times: 2, fault: { kind: 'expire-token' } });

    // Act
    const failure = provider.createServers({ clusterId: CLUSTER, clientToken: 't', networkIds, servers: [{ name: 'a', role: 'worker', group: 'workers', publicIp: false, flavor: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 }] });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'ProviderAuthFailed', message: expect.stringMatching(/^401 Unauthorized This server could not verify that you are authorized .* \(Glance GET \/images: 401\)$/) });
  });

  it('names Neutron’s fault by its type', async () => {
    // Prepare
    const { cloud, provider } = await contractProvider();
    cloud.inject({ method: 'POST', service: 'network', path: /^\/v2\.0\/networks$/, fault: { kind: 'status', status: 409, body: { NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['network'].", detail: '' } } } });

    // Act
    const failure = provider.createNetworks({ clusterId: CLUSTER, count: 1 });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'QuotaExceeded', message: expect.stringContaining("Quota exceeded for resources: ['network']. (Neutron POST /networks: 409)") });
  });
});
