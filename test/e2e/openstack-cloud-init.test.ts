/**
 * `PROVIDER=openstack` local mode against the contract OpenStack, through real HTTP, with the
 * cloud-init runner's user data run for real on each server (test/contract/cloud-init/nodes.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CloudInitNodes } from '../contract/cloud-init/nodes.ts';
import { ContractCloud } from '../contract/openstack/server.ts';
import { seedRequest } from '../support/clusters.ts';
import { eventsOf, stackFetch as api, waitForStatus as waitFor, withContractCloud } from '../support/cloud-stack.ts';

// Whole clusters boot and configure here, their nodes' scripts included: a bound for a busy machine, not a target.
vi.setConfig({ testTimeout: 150_000 });

const CLUSTER_TAG = (id: string) => `cluster-service:cluster=${id}`;

const withCloud = (options: { nodes?: CloudInitNodes; env?: Record<string, string>; shellEnv?: Record<string, string> } = {}) =>
  withContractCloud(
    'openstack',
    (lifecycle) => new ContractCloud({ bootMs: 200, deleteMs: 100, quotas: { instances: 20, cores: 64 }, ...(lifecycle ? { lifecycle } : {}) }).start(),
    options,
  );

/** A native body: a master and one worker of `workerFlavor`, profile lambda. */
const twoNodes = (name: string, workerFlavor: string) =>
  JSON.stringify({
    name,
    nodeGroups: [
      { name: 'master', role: 'master', count: 1, flavor: 'm1.small' },
      { name: 'worker', role: 'worker', count: 1, flavor: workerFlavor },
    ],
    configuration: { profile: 'lambda' },
  });

describe('PROVIDER=openstack with the cloud-init runner', () => {
  const nodes = new CloudInitNodes();
  const context = withCloud({ nodes });

  it('takes the seed’s request to ACTIVE: master and slaves configured by their own user data, the master’s floating IP, one network per network_request; DELETE leaves nothing', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/backend/create_lambda_instance/', { method: 'POST', body: JSON.stringify({ ...seedRequest(), slaves: 2, network_request: 2 }) });
    expect(created.status).toBe(202);
    const { uuid } = (await created.json()) as { uuid: string };

    const cluster = await waitFor(stack, uuid, ['ACTIVE', 'FAILED']);

    expect(cluster.error, JSON.stringify(cluster.error) + nodes.output('lambda-master')).toBeUndefined();
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.provider).toBe('openstack');
    expect(cluster.servers.map((server) => server.role)).toEqual(['master', 'worker', 'worker']);
    expect(cluster.servers[0]?.publicIp).toMatch(/^203\.0\.113\.\d+$/);
    expect(cluster.servers.slice(1).map((server) => server.publicIp)).toEqual([null, null]);
    expect(cluster.servers.map((server) => server.configuration?.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const networks = [...cloud.state.networks.values()].filter((network) => network.tags.includes(CLUSTER_TAG(uuid)));
    expect(networks).toHaveLength(2);
    const timeline = await eventsOf(stack, uuid);
    expect(timeline.map((event) => event.phase)).toEqual(expect.arrayContaining(['configure:common', 'configure:hdfs', 'configure:yarn', 'configure:kafka', 'configure:flink']));
    expect(timeline.map((event) => event.message)).toEqual(expect.arrayContaining(['the master lambda-master sent its controller key', 'all 2 workers let the controller key in']));
    // Every worker let the master's own key in, from the master's address only.
    const masterKey = spawnSync('ssh-keygen', ['-y', '-f', path.join(nodes.run('lambda-master')!.dir, 'state', 'id_ed25519')], { encoding: 'utf8' })
      .stdout.trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    expect(masterKey).toMatch(/^ssh-ed25519 /);
    for (const worker of cluster.servers.slice(1)) {
      const authorized = readFileSync(path.join(nodes.run(worker.name)!.dir, 'home', '.ssh', 'authorized_keys'), 'utf8');
      expect(authorized).toBe(`from="${cluster.servers[0]?.privateIp}" ${masterKey} cluster-controller\n`);
      expect(nodes.output(worker.name)).toContain('agent: done');
    }

    const deleted = await api(stack, `/v1/clusters/${uuid}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect((await waitFor(stack, uuid, ['DESTROYED'])).status).toBe('DESTROYED');
    expect(cloud.state.tagged(CLUSTER_TAG(uuid))).toBe(0);
  });

  it('fails a cluster whose server goes ERROR (NoValidHost) at wait-servers, and rolls it back leaving nothing', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: twoNodes('nohost', 'error.nohost'),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['FAILED', 'ACTIVE']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'ServerBootFailed', step: 'wait-servers' });
    expect(cluster.error?.message).toContain('No valid host was found.');
    expect(cloud.state.tagged(CLUSTER_TAG(id))).toBe(0);
  });
});

describe('PROVIDER=openstack with the cloud-init runner: a component that fails', () => {
  const nodes = new CloudInitNodes({ failComponent: 'kafka', failNode: 'lambda-slave-1' });
  const context = withCloud({ nodes });

  it('fails the cluster at the configuration naming the component and the node, from the master’s report', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/backend/create_lambda_instance', { method: 'POST', body: JSON.stringify({ ...seedRequest(), master_name: 'lambda-master', instance_name: 'lambda', slaves: 1 }) });
    const { uuid } = (await created.json()) as { uuid: string };

    const cluster = await waitFor(stack, uuid, ['ACTIVE', 'FAILED']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error).toMatchObject({ code: 'ConfigurationFailed', step: 'configure:kafka' });
    expect(cluster.error?.message).toContain('kafka');
    expect(cluster.error?.message).toContain('lambda-slave-1');
    expect(cloud.state.tagged(CLUSTER_TAG(uuid))).toBe(0);
  });
});

describe('PROVIDER=openstack with the cloud-init runner: nodes that never report', () => {
  // The contract cloud boots the servers but runs no user data: no agent ever asks.
  const context = withCloud({ env: { CONFIGURATION_AGENT_TIMEOUT_SECONDS: '2' } });

  it('fails the cluster with ConfigurationAgentsOffline naming the servers never heard from, and rolls it back', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: twoNodes('silent', 'm1.small'),
    });
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['ACTIVE', 'FAILED']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error?.code).toBe('ConfigurationAgentsOffline');
    expect(cluster.error?.message).toContain('silent-master');
    expect(cluster.error?.message).toContain('silent-worker');
    expect(cloud.state.tagged(CLUSTER_TAG(id))).toBe(0);
  });

  it('refuses a runner openstack does not have, naming configuration.runner', async () => {
    const response = await api(context.stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({ name: 'ssm', nodeGroups: [{ name: 'master', role: 'master', count: 1, flavor: 'm1.small' }], configuration: { profile: 'lambda', runner: 'ssm' } }),
    });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { details: { path: string; message: string }[] } };
    expect(body.error.details).toEqual([{ path: 'configuration.runner', message: 'not a runner of openstack (its runners: cloud-init, container)' }]);
  });
});

describe('PROVIDER=openstack with the cloud-init runner: a run that never ends', () => {
  const nodes = new CloudInitNodes({ hangComponent: 'common' });
  const context = withCloud({ nodes, env: { CONFIGURATION_TIMEOUT_SECONDS: '10' } });

  it('fails the cluster with ConfigurationTimeout naming the last component heard from, and rolls it back', async () => {
    const { cloud, stack } = context;
    const created = await api(stack, '/backend/create_lambda_instance', { method: 'POST', body: JSON.stringify({ ...seedRequest(), instance_name: 'stuck', slaves: 1 }) });
    const { uuid } = (await created.json()) as { uuid: string };

    const cluster = await waitFor(stack, uuid, ['ACTIVE', 'FAILED']);

    expect(cluster.status).toBe('FAILED');
    expect(cluster.error?.code).toBe('ConfigurationTimeout');
    // The component the timeline last showed before the rollback: `common` once the master got
    // there, `controller` if it was still unpacking the bundle when the time ran out.
    const phases = (await eventsOf(stack, uuid)).map((event) => event.phase);
    const last = phases.slice(0, phases.indexOf('rollback')).filter((phase) => phase.startsWith('configure:')).at(-1);
    expect(['configure:controller', 'configure:common']).toContain(last);
    expect(cluster.error?.message).toContain(`the last component heard from: ${last?.slice('configure:'.length)}`);
    expect(cloud.state.tagged(CLUSTER_TAG(uuid))).toBe(0);
  });
});

describe('PROVIDER=openstack with the container runner', () => {
  // The stand-in ansible-playbook only: with the container runner the servers run no agent.
  const tools = new CloudInitNodes();
  const sshArgs = path.join(tools.root, 'ssh-args');
  const keyFile = path.join(tools.root, 'configuration-key');
  writeFileSync(keyFile, 'the key of the nodes\n', { mode: 0o600 });
  const context = withCloud({
    nodes: tools,
    env: { LOCAL_CONFIGURATION_SSH_KEY_FILE: keyFile },
    shellEnv: { PATH: `${tools.stubDir}:${process.env.PATH ?? ''}`, STUB_SSH_ARGS_FILE: sshArgs },
  });

  it('configures the cluster from outside its networks, every connection through the master’s floating IP, and reaches ACTIVE', async () => {
    const { stack } = context;
    const created = await api(stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'boxed',
        nodeGroups: [
          { name: 'master', role: 'master', count: 1, flavor: 'm1.small' },
          { name: 'worker', role: 'worker', count: 2, flavor: 'm1.small' },
        ],
        network: { publicIp: 'master' },
        configuration: { profile: 'lambda', runner: 'container' },
      }),
    });
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(stack, id, ['ACTIVE', 'FAILED']);

    expect(cluster.error).toBeUndefined();
    expect(cluster.status).toBe('ACTIVE');
    const phases = (await eventsOf(stack, id)).map((event) => event.phase);
    expect(phases).toEqual(expect.arrayContaining(['configure:container', 'configure:common', 'configure:flink']));
    // One ansible-playbook run per component, each through the master at its public address.
    const runs = readFileSync(sshArgs, 'utf8').trim().split('\n');
    expect(runs).toHaveLength(5);
    for (const args of runs) expect(args).toContain(`-o ProxyCommand="ssh -W %h:%p`);
    for (const args of runs) expect(args).toContain(` -i ${keyFile} debian@${cluster.servers[0]?.publicIp}"`);
  });

  it('fails a cluster whose master has no public address: the container could not reach it', async () => {
    const created = await api(context.stack, '/v1/clusters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'unreachable',
        nodeGroups: [{ name: 'master', role: 'master', count: 1, flavor: 'm1.small' }],
        network: { publicIp: 'none' },
        configuration: { profile: 'lambda', runner: 'container' },
      }),
    });
    const { id } = (await created.json()) as { id: string };

    const cluster = await waitFor(context.stack, id, ['ACTIVE', 'FAILED']);

    expect(cluster.error).toMatchObject({ code: 'ContainerRunnerUnavailable', step: 'configure:container' });
    expect(cluster.error?.message).toContain('network.publicIp none');
    expect(context.cloud.state.tagged(CLUSTER_TAG(id))).toBe(0);
  });
});
