import { describe, expect, it } from 'vitest';
import { Identity, type Token } from '#adapters/openstack/identity';
import { openStackSettingsFromEnv } from '#adapters/openstack/index';
import { ProviderError } from '#domain/errors';
import { APPLICATION_CREDENTIAL } from '../../contract/openstack/keystone.ts';
import { CLUSTER, connect, contractCloud } from './support.ts';

const logins = (cloud: Awaited<ReturnType<typeof contractCloud>>) => cloud.calls('POST', /^\/auth\/tokens$/, 'identity');

describe('openstack identity', () => {
  it('logs in once for many calls', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { provider } = await connect(cloud);

    // Act
    for (let round = 0; round < 5; round++) await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(logins(cloud)).toHaveLength(1);
    expect(cloud.calls('GET', /^\/servers\/detail$/)).toHaveLength(5);
    expect(cloud.calls(undefined, /.*/).filter((call) => call.status === 401)).toHaveLength(0);
  });

  it('renews a token shortly before it expires, without a refused call', async () => {
    // Prepare
    const cloud = await contractCloud({ tokenTtlMs: 3_600_000 });
    const { provider } = await connect(cloud, { renewTokenBeforeMs: 300_000 });
    await provider.describeServers({ clusterId: CLUSTER });

    // Act
    cloud.clock.advance(3_600_000 - 200_000);
    await provider.describeServers({ clusterId: CLUSTER });
    await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(logins(cloud)).toHaveLength(2);
    expect(cloud.requests.filter((call) => call.status === 401)).toHaveLength(0);
    const tokens = cloud.calls('GET', /^\/servers\/detail$/).map((call) => call.headers['x-auth-token']);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(tokens[1]).toBe(tokens[2]);
  });

  it('logs in again once when a service refuses the token, and the call goes through', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { provider } = await connect(cloud);
    cloud.expireTokens();

    // Act
    const servers = await provider.describeServers({ clusterId: CLUSTER });

    // Assess
    expect(servers).toEqual([]);
    expect(logins(cloud)).toHaveLength(2);
    expect(cloud.calls('GET', /^\/servers\/detail$/).map((call) => call.status)).toEqual([401, 200]);
  });

  it('answers ProviderAuthFailed when the new token is refused too, after one new login', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { provider } = await connect(cloud);
    cloud.inject({ service: 'compute', path: /^\/servers\/detail$/, times: 2, fault: { kind: 'expire-token' } });

    // Act
    const failure = provider.describeServers({ clusterId: CLUSTER });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'ProviderAuthFailed', message: expect.stringContaining('requires authentication') });
    expect(logins(cloud)).toHaveLength(2);
  });

  it('answers ProviderAuthFailed with Keystone’s message for a wrong password', async () => {
    // Prepare
    const cloud = await contractCloud();

    // Act
    const failure = connect(cloud, {}, { OS_PASSWORD: 'wrong' });

    // Assess
    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({ name: 'ProviderAuthFailed', message: expect.stringContaining('Keystone POST /v3/auth/tokens: 401') });
  });

  it.each([
    ['by id', { OS_APPLICATION_CREDENTIAL_ID: APPLICATION_CREDENTIAL.id }],
    ['by name with its user', { OS_APPLICATION_CREDENTIAL_NAME: APPLICATION_CREDENTIAL.name, OS_USERNAME: 'demo', OS_USER_DOMAIN_NAME: 'Default' }],
  ])('logs in with an application credential %s, sending no scope', async (_, env) => {
    // Prepare
    const cloud = await contractCloud();
    const { OS_USERNAME: _u, OS_PASSWORD: _p, OS_PROJECT_NAME: _n, OS_USER_DOMAIN_NAME: _d, OS_PROJECT_DOMAIN_NAME: _pd, ...rest } = cloud.env();

    // Act
    const settings = openStackSettingsFromEnv({ ...rest, ...env, OS_APPLICATION_CREDENTIAL_SECRET: APPLICATION_CREDENTIAL.secret });
    const identity = new Identity(settings, { fetch, now: Date.now, renewBeforeMs: 0, timeoutMs: 5000 });
    const token = await identity.token();

    // Assess
    expect(token.projectId).toBe('6f70656e737461636b20342065766572');
    const body = logins(cloud)[0]?.body as { auth: Record<string, unknown> };
    expect(body.auth.scope).toBeUndefined();
  });

  it('shares one login between concurrent callers', async () => {
    // Prepare
    const cloud = await contractCloud();
    const identity = new Identity(openStackSettingsFromEnv(cloud.env()), { fetch, now: Date.now, renewBeforeMs: 0, timeoutMs: 5000 });

    // Act
    const tokens = await Promise.all([identity.token(), identity.token(), identity.token()]);

    // Assess
    expect(new Set(tokens.map((token) => token.value)).size).toBe(1);
    expect(logins(cloud)).toHaveLength(1);
  });

  it('picks endpoints by type, interface and region from the catalog; without a region, the compute endpoint’s for every service', async () => {
    // Prepare
    const cloud = await contractCloud();
    const make = (env: Record<string, string>) => new Identity(openStackSettingsFromEnv({ ...cloud.env(), ...env }), { fetch, now: Date.now, renewBeforeMs: 0, timeoutMs: 5000 });
    const one = make({ OS_REGION_NAME: 'RegionOne' });
    const two = make({ OS_REGION_NAME: 'RegionTwo' });
    const unset = make({ OS_REGION_NAME: '' });
    const token: Token = await one.token();

    // Act
    const compute = one.endpoint(token, 'compute');
    const elsewhere = two.endpoint(token, 'compute');
    const volume = one.endpoint(token, 'volume');
    const noImageInTwo = two.endpoint(token, 'image');
    const computeRegionsImage = unset.endpoint(token, 'image');

    // Assess
    expect(compute).toEqual({ url: `${cloud.url}/compute/v2.1`, region: 'RegionOne' });
    expect(elsewhere).toEqual({ url: `${cloud.url}/regiontwo/compute/v2.1`, region: 'RegionTwo' });
    expect(volume?.url).toBe(`${cloud.url}/volume/v3/6f70656e737461636b20342065766572`);
    expect(noImageInTwo).toBeUndefined();
    expect(computeRegionsImage).toEqual({ url: `${cloud.url}/image`, region: 'RegionOne' });
  });

  it('answers ServiceNotInCatalog naming the service when the region has none', async () => {
    // Prepare
    const cloud = await contractCloud();

    // Act
    const failure = connect(cloud, {}, { OS_REGION_NAME: 'RegionThree' });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'ServiceNotInCatalog', message: expect.stringContaining('no Nova (compute) endpoint for the interface public in RegionThree') });
  });
});
