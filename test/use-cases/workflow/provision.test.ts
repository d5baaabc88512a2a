import { describe, expect, it } from 'vitest';
import { runStep, type StepDeps } from '#use-cases/workflow/index';
import { nativeCreateRequestSchema, nativeToSpec } from '#domain/native-request';
import { planServers } from '#domain/plan';
import type { Cluster } from '#domain/model';
import { providerRegistry } from '#domain/providers';
import type { CloudProvider, CreateNetworksInput, CreateServersInput } from '#domain/provider';
import { nativeBody } from '../../support/http.ts';
import { clusterRecord } from '../../support/clusters.ts';
import { storeCluster } from '../../support/dynamodb.ts';
import { stepTablePerTest } from '../../support/step-deps.ts';

const CLUSTER_ID = '35380a49-aae4-4935-9844-dfd6737b8c51';
const USER_DATA = Buffer.from('#!/bin/sh\necho hello > /tmp/hello\n').toString('base64');
const RULE = { direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 };

/** A provider that makes whatever it is asked for and remembers how it was asked. */
const recordingProvider = (maxBatchSize: number) => {
  const networkCalls: CreateNetworksInput[] = [];
  const serverCalls: CreateServersInput[] = [];
  const provider = {
    name: 'local',
    maxBatchSize,
    timings: { expectedBootSeconds: 1, expectedConfigurationSeconds: 1 },
    resolveFlavor: () => 'c1r1024d10',
    describeFlavor: () => null,
    checkOptions: () => [],
    createNetworks: async (input: CreateNetworksInput) => {
      networkCalls.push(input);
      return Array.from({ length: input.count }, (_, i) => `net-${i}`);
    },
    createServers: async (input: CreateServersInput) => {
      serverCalls.push(input);
      return input.servers.map((server) => ({ id: `id-${server.name}`, name: server.name, state: 'BUILD' as const, privateIp: null, publicIp: null }));
    },
  } as unknown as CloudProvider;
  return { provider, networkCalls, serverCalls };
};

const clusterFrom = (body: Record<string, unknown>): Cluster => {
  const spec = nativeToSpec(nativeCreateRequestSchema.parse(body), 'local', () => ({ vcpus: 1, ramMb: 1024, diskGb: 10 }));
  return clusterRecord({
    id: CLUSTER_ID,
    name: spec.name,
    status: 'PROVISIONING',
    phase: 'plan',
    spec,
    request: body,
    servers: planServers(spec, { resolveFlavor: () => 'c1r1024d10' }),
    quotaReserved: true,
  });
};


const steps = stepTablePerTest({ CONFIGURATION_TIMEOUT_SECONDS: 30 });
const depsFor = steps.depsFor;

describe('the create steps pass the spec’s options to the provider', () => {
  it('hands every server batch the spec’s region, zone, image, key name, user data and tags, with the batch’s own client token', async () => {
    // Prepare
    const body = nativeBody(4, {
      region: 'local',
      zone: 'local-b',
      image: 'ubuntu-24.04',
      keyName: 'ops',
      userData: USER_DATA,
      tags: { team: 'data', cost: 'cc-42' },
    });
    const { record } = await storeCluster(steps.table, clusterFrom(body));
    const { provider, serverCalls } = recordingProvider(2);

    // Act
    await runStep(depsFor(provider), { step: 'create-servers', clusterId: CLUSTER_ID });

    // Assess
    expect(serverCalls).toHaveLength(3);
    for (const call of serverCalls) {
      expect(call.options).toEqual({ region: 'local', zone: 'local-b', image: 'ubuntu-24.04', keyName: 'ops', userData: USER_DATA, tags: { team: 'data', cost: 'cc-42' } });
    }
    expect(serverCalls.map((call) => call.clientToken).sort()).toEqual([`${CLUSTER_ID}-a1-b0`, `${CLUSTER_ID}-a1-b1`, `${CLUSTER_ID}-a1-b2`]);
    expect((await record()).servers.every((server) => server.id !== null)).toBe(true);
  });

  it('hands each server its node group and whether the publicIp policy gives it an address, and every batch the security rules', async () => {
    // Prepare
    const body = nativeBody(2, { network: { privateNetworks: 1, publicIp: 'master', securityRules: [RULE] } });
    await storeCluster(steps.table, clusterFrom(body));
    const { provider, serverCalls } = recordingProvider(50);

    // Act
    await runStep(depsFor(provider), { step: 'create-servers', clusterId: CLUSTER_ID });

    // Assess
    expect(serverCalls.flatMap((call) => call.servers.map(({ name, group, publicIp }) => ({ name, group, publicIp })))).toEqual([
      { name: 'analytics-master', group: 'master', publicIp: true },
      { name: 'analytics-worker-1', group: 'worker', publicIp: false },
      { name: 'analytics-worker-2', group: 'worker', publicIp: false },
    ]);
    expect(serverCalls.map((call) => call.securityRules)).toEqual([[{ ...RULE, ethertype: 'IPv4' }]]);
  });

  it('hands nothing a spec does not ask for: the provider’s defaults apply', async () => {
    // Prepare
    await storeCluster(steps.table, clusterFrom(nativeBody(1)));
    const { provider, serverCalls } = recordingProvider(50);

    // Act
    await runStep(depsFor(provider), { step: 'create-servers', clusterId: CLUSTER_ID });

    // Assess
    expect(serverCalls.map((call) => call.options)).toEqual([{}]);
  });

  it('hands the spec’s security rules to createNetworks with the count of networks', async () => {
    // Prepare
    const body = nativeBody(1, { network: { privateNetworks: 2, securityRules: [RULE, { direction: 'ingress', protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' }] } });
    const { record } = await storeCluster(steps.table, clusterFrom(body));
    const { provider, networkCalls } = recordingProvider(50);

    // Act
    await runStep(depsFor(provider), { step: 'create-networks', clusterId: CLUSTER_ID });

    // Assess
    expect(networkCalls).toEqual([
      {
        clusterId: CLUSTER_ID,
        count: 2,
        securityRules: [
          { ...RULE, ethertype: 'IPv4' },
          { direction: 'ingress', protocol: 'icmp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' },
        ],
      },
    ]);
    expect((await record()).networks).toEqual(['net-0', 'net-1']);
  });
});

describe('the provider’s operations on the timeline', () => {
  it('writes each operation a provider reports from create-servers as a timeline note under the step’s status and phase', async () => {
    // Prepare
    await storeCluster(steps.table, clusterFrom(nativeBody(2)));
    const { provider } = recordingProvider(10);
    const createServers = provider.createServers.bind(provider);
    provider.createServers = async (input) => {
      await input.onOperations?.([
        { id: 'op-1', type: 'CreateInstance', resource: 'node-a', status: 'Succeeded' },
        { id: 'op-2', type: 'CreateInstance', resource: 'node-b', status: 'Failed', error: 'NoCapacity: none left' },
      ]);
      return createServers(input);
    };

    // Act
    await runStep(depsFor(provider), { step: 'create-servers', clusterId: CLUSTER_ID });

    // Assess
    const events = await steps.table.clusters.listEvents(CLUSTER_ID);
    const notes = events.filter((event) => event.message.includes(' operation '));
    expect(notes.map((event) => event.message)).toEqual([
      'local operation CreateInstance node-a: Succeeded (op-1)',
      'local operation CreateInstance node-b: Failed: NoCapacity: none left (op-2)',
    ]);
    expect(notes.every((event) => event.status === 'PROVISIONING' && event.phase === 'create-servers')).toBe(true);
  });
});
