/**
 * `PROVIDER=hyperstack` local mode against the contract Infrahub, through real HTTP, with the
 * cloud-init runner's user data run for real on each VM (test/contract/cloud-init/nodes.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { CloudInitNodes } from '../contract/cloud-init/nodes.ts';
import { HyperstackContract } from '../contract/hyperstack/server.ts';
import { seedRequest } from '../support/clusters.ts';
import { stackFetch as api, waitForStatus as waitFor, withContractCloud } from '../support/cloud-stack.ts';

// Whole clusters boot and configure here, their nodes' scripts included: a bound for a busy machine, not a target.
vi.setConfig({ testTimeout: 120_000 });

const withCloud = (options: { nodes?: CloudInitNodes; failNames?: RegExp } = {}) =>
  withContractCloud('hyperstack', (lifecycle) =>
    new HyperstackContract({ bootMs: 200, deleteMs: 100, ...(options.failNames ? { failNames: options.failNames } : {}), ...(lifecycle ? { lifecycle } : {}) }).start(),
  { ...(options.nodes ? { nodes: options.nodes } : {}) });

const ofCluster = (cloud: HyperstackContract, id: string) => cloud.live().filter((vm) => vm.labels.includes(`cluster-service.cluster=${id}`));

describe('PROVIDER=hyperstack with the cloud-init runner', () => {
  const nodes = new CloudInitNodes();
  const context = withCloud({ nodes });

  it('takes the seed’s request to ACTIVE, configured by the nodes’ own user data, the master’s floating IP only; DELETE leaves nothing', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/backend/create_lambda_instance/', { method: 'POST', body: JSON.stringify({ ...seedRequest(), slaves: 2 }) });
    expect(created.status).toBe(202);
    const { uuid } = (await created.json()) as { uuid: string };

    const cluster = await waitFor(stack, uuid, ['ACTIVE', 'FAILED']);

    expect(cluster.error, JSON.stringify(cluster.error) + nodes.output('lambda-master')).toBeUndefined();
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.provider).toBe('hyperstack');
    expect(cluster.servers.map((server) => server.role)).toEqual(['master', 'worker', 'worker']);
    expect(cluster.servers[0]?.publicIp).toMatch(/^203\.0\.113\.\d+$/);
    expect(cluster.servers.slice(1).map((server) => server.publicIp)).toEqual([null, null]);
    expect(cluster.servers.map((server) => server.configuration?.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const vms = ofCluster(cloud, uuid);
    expect(vms.map((vm) => vm.floating_ip_status)).toEqual(expect.arrayContaining(['ATTACHED', null, null]));
    // Infrahub gets the cloud-init document itself, not the port's base64.
    expect(vms.every((vm) => vm.user_data?.startsWith('#!') || vm.user_data?.startsWith('Content-Type:'))).toBe(true);

    // Infrahub called back on each VM's change, at the cluster's own URL, and the timeline shows it.
    const callbacks = cloud.callbacks.filter((callback) => callback.url.includes(`/v1/clusters/${uuid}/provider-events/`));
    expect(callbacks.filter((callback) => (callback.body.operation as { name: string }).name === 'createVM')).toHaveLength(3);
    await expect.poll(() => callbacks.every((callback) => callback.status === 200), { timeout: 10_000 }).toBe(true);
    const events = (await (await api(stack, `/v1/clusters/${uuid}/events`)).json()) as { events?: { message: string }[]; items?: { message: string }[] };
    const messages = (events.events ?? events.items ?? []).map((event) => event.message);
    expect(messages.filter((message) => /^hyperstack reports createVM ACTIVE of (lambda-master|VM cs-\w+-lambda-master)$/.test(message))).toHaveLength(1);
    // The URL is the credential: another secret, or the node secret's route, gets nothing.
    const url = new URL(callbacks[0]?.url ?? '');
    const forged = await fetch(`${stack.url}/v1/clusters/${uuid}/provider-events/${'A'.repeat(43)}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(forged.status).toBe(401);
    const elsewhere = await fetch(`${stack.url}${url.pathname.replace(uuid, 'c0ffee00-0000-4000-8000-00000000dead')}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(elsewhere.status).toBe(401);
    const garbled = await fetch(url.href.replace(url.origin, stack.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'not json' });
    expect(garbled.status).toBe(400);

    const deleted = await api(stack, `/v1/clusters/${uuid}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect((await waitFor(stack, uuid, ['DESTROYED'])).status).toBe('DESTROYED');
    expect(ofCluster(cloud, uuid)).toEqual([]);
  });
});

describe('PROVIDER=hyperstack: many nodes and boot failures', () => {
  const context = withCloud({ failNames: /-broken-worker-/ });

  it('makes a 45-node cluster in create batches of at most 20 never asking for one VM by id', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'wide',
        nodeGroups: [
          { name: 'master', role: 'master', count: 1, flavor: 'n1-cpu-small' },
          { name: 'worker', role: 'worker', count: 44, flavor: 'n1-cpu-small' },
        ],
        configuration: { profile: 'none' },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(202);
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['ACTIVE', 'FAILED']);

    expect(cluster.error).toBeUndefined();
    expect(cluster.servers).toHaveLength(45);
    const posts = cloud.calls.filter((call) => call.method === 'POST' && call.path === '/core/virtual-machines' && call.status === 200);
    expect(posts).toHaveLength(45);
    expect(posts.every((call) => Number(call.body?.count) <= 20)).toBe(true);
    // No call ever asks for one VM by id.
    expect(cloud.calls.filter((call) => call.method === 'GET' && /^\/core\/virtual-machines\/\d+$/.test(call.path))).toEqual([]);

    await api(stack, `/v1/clusters/${id}`, { method: 'DELETE' });
    await waitFor(stack, id, ['DESTROYED']);
    expect(ofCluster(cloud, id)).toEqual([]);
  });

  it('fails a cluster whose VM goes ERROR and rolls it back leaving nothing', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'broken',
        nodeGroups: [
          { name: 'master', role: 'master', count: 1, flavor: 'n1-cpu-small' },
          { name: 'worker', role: 'worker', count: 1, flavor: 'n1-cpu-small' },
        ],
        configuration: { profile: 'none' },
      }),
    });
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['FAILED', 'ACTIVE']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'ServerBootFailed', step: 'wait-servers' });
    expect(cluster.error?.message).toContain('Infrahub reports the VM ERROR, vm_state error');
    await expect.poll(() => ofCluster(cloud, id), { timeout: 30_000 }).toEqual([]);
  });
});
