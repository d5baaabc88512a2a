/**
 * `PROVIDER=lightsail` local mode against the contract Lightsail, through real HTTP and the real
 * SDK, with the cloud-init runner's user data run for real on each instance
 * (test/contract/cloud-init/nodes.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { CloudInitNodes } from '../contract/cloud-init/nodes.ts';
import { LightsailContract } from '../contract/lightsail/server.ts';
import { seedRequest } from '../support/clusters.ts';
import { eventsOf, stackFetch as api, waitForStatus as waitFor, withContractCloud } from '../support/cloud-stack.ts';

// Whole clusters boot and configure here, their nodes' scripts included: a bound for a busy machine, not a target.
vi.setConfig({ testTimeout: 120_000 });

const withCloud = (options: { nodes?: CloudInitNodes; failNames?: RegExp; env?: Record<string, string> } = {}) =>
  withContractCloud(
    'lightsail',
    (lifecycle) =>
      new LightsailContract({
        bootMs: 200,
        deleteMs: 100,
        // Small pages: every polling round reads several.
        pageSize: 2,
        ...(options.failNames ? { failNames: options.failNames } : {}),
        ...(lifecycle ? { lifecycle } : {}),
      }).start(),
    { ...(options.nodes ? { nodes: options.nodes } : {}), ...(options.env ? { env: options.env } : {}) },
  );

const timeline = async (stack: LocalStack, id: string) => (await eventsOf(stack, id)).map((event) => event.message);

const ofCluster = (cloud: LightsailContract, id: string) => cloud.live().filter((instance) => instance.tags.some((tag) => tag.key === 'cluster-id' && tag.value === id));
const ipsOf = (cloud: LightsailContract, id: string) => [...cloud.staticIps.values()].filter((ip) => ip.name.startsWith(`${id}-`));

describe('PROVIDER=lightsail with the cloud-init runner', () => {
  const nodes = new CloudInitNodes();
  const context = withCloud({ nodes });

  it('takes the seed’s request to ACTIVE, configured by the nodes’ own user data, the master’s static IP only, the operations on the timeline; DELETE leaves nothing', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/backend/create_lambda_instance/', { method: 'POST', body: JSON.stringify({ ...seedRequest(), slaves: 2 }) });
    expect(created.status, await created.clone().text()).toBe(202);
    const { uuid } = (await created.json()) as { uuid: string };

    const cluster = await waitFor(stack, uuid, ['ACTIVE', 'FAILED']);

    expect(cluster.error, JSON.stringify(cluster.error) + nodes.output(`${uuid}-lambda-master`)).toBeUndefined();
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.provider).toBe('lightsail');
    expect(cluster.servers.map((server) => server.role)).toEqual(['master', 'worker', 'worker']);
    expect(cluster.servers[0]?.publicIp).toMatch(/^203\.0\.113\.\d+$/);
    expect(cluster.servers.slice(1).map((server) => server.publicIp)).toEqual([null, null]);
    expect(cluster.servers.every((server) => server.privateIp?.startsWith('172.26.'))).toBe(true);
    expect(cluster.servers.map((server) => server.configuration?.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const instances = ofCluster(cloud, uuid);
    expect(instances).toHaveLength(3);
    // Lightsail gets the launch script itself, not the port's base64; 4 vCPUs and 4 GiB fit xlarge_3_0.
    expect(instances.every((instance) => instance.userData?.startsWith('#!') || instance.userData?.startsWith('Content-Type:'))).toBe(true);
    expect(instances.map((instance) => instance.bundleId)).toEqual(['xlarge_3_0', 'xlarge_3_0', 'xlarge_3_0']);
    expect(ipsOf(cloud, uuid).map((ip) => ip.attachedTo)).toEqual([`${uuid}-lambda-master`]);
    const events = await timeline(stack, uuid);
    for (const instance of instances) expect(events).toContainEqual(expect.stringMatching(new RegExp(`^lightsail operation CreateInstance ${instance.name}: Succeeded \\(`)));
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^lightsail operation AllocateStaticIp ${uuid}-lambda-master-ip: Succeeded`)));
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^lightsail operation AttachStaticIp ${uuid}-lambda-master: Succeeded`)));

    const deleted = await api(stack, `/v1/clusters/${uuid}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect((await waitFor(stack, uuid, ['DESTROYED'])).status).toBe('DESTROYED');
    expect(ofCluster(cloud, uuid)).toEqual([]);
    expect(ipsOf(cloud, uuid)).toEqual([]);
    const after = await timeline(stack, uuid);
    expect(after.filter((message) => message.startsWith('lightsail operation DeleteInstance '))).toHaveLength(3);
    expect(after).toContainEqual(expect.stringMatching(new RegExp(`^lightsail operation ReleaseStaticIp ${uuid}-lambda-master-ip: Succeeded`)));
  });
});

describe('PROVIDER=lightsail: refusals and boot failures', () => {
  const context = withCloud({ failNames: /-worker-1$/ });

  it('answers 400 naming network.privateNetworks for more than one private network', async () => {
    const { stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'two-networks',
        nodeGroups: [{ name: 'master', role: 'master', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 }],
        network: { privateNetworks: 2 },
        configuration: { profile: 'none' },
      }),
    });
    expect(created.status).toBe(400);
    const body = (await created.json()) as { error: { code: string; details?: { path: string; message: string }[] } };
    expect(body.error.code).toBe('InvalidSpec');
    expect(body.error.details).toContainEqual({ path: 'network.privateNetworks', message: expect.stringMatching(/private network/) });
  });

  it('fails a cluster whose instance stops instead of running and rolls it back leaving no instance and no static IP', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'broken',
        nodeGroups: [
          { name: 'master', role: 'master', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 },
          { name: 'worker', role: 'worker', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 },
        ],
        network: { publicIp: 'all' },
        configuration: { profile: 'none' },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(202);
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['FAILED', 'ACTIVE']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'ServerBootFailed', step: 'wait-servers' });
    expect(cluster.error?.message).toContain('instance is stopped');
    await expect.poll(() => ofCluster(cloud, id), { timeout: 30_000 }).toEqual([]);
    expect(ipsOf(cloud, id)).toEqual([]);
    expect(await timeline(stack, id)).toContainEqual(expect.stringMatching(/^lightsail operation DeleteInstance /));
  });
});

describe('PROVIDER=lightsail with the cloud-init runner: nodes that never report', () => {
  // The contract cloud runs the instances but no user data: no agent ever asks.
  const context = withCloud({ env: { CONFIGURATION_AGENT_TIMEOUT_SECONDS: '2' } });

  it('fails the cluster after its static IPs were attached and rolls it back releasing them', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'silent',
        nodeGroups: [
          { name: 'master', role: 'master', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 },
          { name: 'worker', role: 'worker', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 },
        ],
        network: { publicIp: 'all' },
        configuration: { profile: 'lambda' },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(202);
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['FAILED', 'ACTIVE']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error?.code).toBe('ConfigurationAgentsOffline');
    const events = await timeline(stack, id);
    expect(events.filter((message) => message.startsWith('lightsail operation AllocateStaticIp '))).toHaveLength(2);
    await expect.poll(() => ofCluster(cloud, id), { timeout: 30_000 }).toEqual([]);
    expect(ipsOf(cloud, id)).toEqual([]);
    expect((await timeline(stack, id)).filter((message) => message.startsWith('lightsail operation ReleaseStaticIp '))).toHaveLength(2);
  });

  it('refuses a runner lightsail does not have, naming configuration.runner', async () => {
    const response = await api(context.stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({ name: 'ssm', nodeGroups: [{ name: 'master', role: 'master', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 }], configuration: { profile: 'lambda', runner: 'ssm' } }),
    });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { details: { path: string; message: string }[] } };
    expect(body.error.details).toEqual([{ path: 'configuration.runner', message: 'not a runner of lightsail (its runners: cloud-init)' }]);
  });
});
