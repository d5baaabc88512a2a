/**
 * `npm run test:openstack-peer`: the openstack provider and the service against a real OpenStack
 * (docs/openstack-provider.md, "A real cloud"). Not part of `npm test`.
 *
 * 1. The peer: a Keystone token request as the demo user says whether one is running; if none is,
 *    `setup.sh` of the peer scripts brings one up (as root; its output goes to a log file).
 * 2. The adapter's own lifecycle (adapter-lifecycle.ts), as a child process.
 * 3. The service's lifecycle through the local stack (`PROVIDER=openstack`, real HTTP): the seed's
 *    request through the compat route → ACTIVE, configured by the cloud-init runner; a cluster with
 *    a server no host takes → FAILED at wait-servers and rolled back; DELETE → DESTROYED. Nova and
 *    Neutron are asked with admin credentials what is left of each cluster.
 *    The peer has no data plane, so its servers cannot run their user data: the script reads each
 *    ACTIVE server's user data from Nova (as admin) and runs it here as the node would
 *    (test/contract/cloud-init/nodes.ts: bash, a stand-in ansible-playbook), reporting to the
 *    local service.
 * 4. The peer is torn down if this run brought it up, unless `--keep`; `--teardown` tears down one
 *    it found running too.
 *
 * Settings (environment): `OSPEER_DIR` — the peer scripts (setup.sh, teardown.sh), default
 * `../shared/openstack-peer` beside the repository; `OS_CLIENT_CONFIG_FILE` — the clouds.yaml
 * setup.sh writes, default `/var/lib/ospeer/clouds.yaml`; `OSPEER_CLOUD` / `OSPEER_ADMIN_CLOUD` —
 * its clouds, default `ospeer-demo` / `ospeer-admin`. Each step prints PASS or FAIL with its
 * time; any failure exits 1.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { openStackSettingsFromEnv } from '#adapters/openstack/index';
import { CloudInitNodes } from '../../contract/cloud-init/nodes.ts';
import { seedRequest } from '../../support/clusters.ts';
import { clusterServers, leftovers, login, taggedResources, type Catalog } from './inventory.ts';

// The service's own log lines would bury the trace; POWERTOOLS_LOG_LEVEL=INFO shows them.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const peerDir = path.resolve(process.env.OSPEER_DIR ?? path.join(repoRoot, '..', 'shared', 'openstack-peer'));
const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/var/lib/ospeer/clouds.yaml';
const demoCloud = process.env.OSPEER_CLOUD ?? 'ospeer-demo';
const adminCloud = process.env.OSPEER_ADMIN_CLOUD ?? 'ospeer-admin';
const keep = process.argv.includes('--keep');
const alwaysTeardown = process.argv.includes('--teardown');

/** What the provider and the inventory read: the peer's clouds.yaml, its image and external network. */
const providerEnv = (cloud: string): Record<string, string> => ({
  OS_CLIENT_CONFIG_FILE: cloudsFile,
  OS_CLOUD: cloud,
  OPENSTACK_IMAGE: process.env.OPENSTACK_IMAGE ?? 'cirros-fake',
  OPENSTACK_EXTERNAL_NETWORK: process.env.OPENSTACK_EXTERNAL_NETWORK ?? 'public',
});

const SETUP_TIMEOUT_MS = 900_000;
const ACTIVE_TIMEOUT_MS = 420_000;
const FAILED_TIMEOUT_MS = 240_000;
const DESTROYED_TIMEOUT_MS = 240_000;

// ---------------------------------------------------------------------------------------------
// The trace

const started = Date.now();
const results: { name: string; ok: boolean }[] = [];
const clock = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
const say = (line: string) => process.stdout.write(`${clock()} ${line}\n`);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

class CheckFailed extends Error {}

/** Throws CheckFailed with `what` when `ok` is false: a step stops at its first failed check. */
const expect = (ok: boolean, what: string): void => {
  if (!ok) throw new CheckFailed(what);
};

/** Runs a step: PASS with its time and what it returned, or FAIL with why. */
const step = async <T>(name: string, run: () => Promise<T>, detail: (value: T) => string = () => ''): Promise<T | undefined> => {
  const at = Date.now();
  say(`---- ${name}`);
  try {
    const value = await run();
    const extra = detail(value);
    say(`PASS ${name} (${((Date.now() - at) / 1000).toFixed(1)} s)${extra ? `: ${extra}` : ''}`);
    results.push({ name, ok: true });
    return value;
  } catch (error) {
    say(`FAIL ${name} (${((Date.now() - at) / 1000).toFixed(1)} s): ${messageOf(error)}`);
    results.push({ name, ok: false });
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// The peer

/** A Keystone token for the demo project: the peer is up and answers. */
const peerAnswers = async (): Promise<boolean> => {
  if (!existsSync(cloudsFile)) return false;
  try {
    await login(openStackSettingsFromEnv(providerEnv(demoCloud)));
    return true;
  } catch {
    return false;
  }
};

const runScript = (script: string, log: string, timeoutMs: number): Promise<number | null> =>
  new Promise((resolve, reject) => {
    const out = openSync(log, 'a');
    const child = spawn('bash', [path.join(peerDir, script)], { stdio: ['ignore', out, out], cwd: tmpdir() });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

/** Whether this run brought the peer up (and so tears it down). */
const bringUpPeer = async (): Promise<boolean> => {
  if (await peerAnswers()) {
    say(`the peer answers at ${cloudsFile} (${demoCloud}): reused`);
    return false;
  }
  expect(existsSync(path.join(peerDir, 'setup.sh')), `no setup.sh in ${peerDir}: set OSPEER_DIR to the openstack-peer scripts`);
  expect(process.getuid?.() === 0, `no peer answers and setup.sh needs root: run \`sudo bash ${peerDir}/setup.sh\` first, or this script as root`);
  const log = path.join(tmpdir(), `ospeer-setup-${process.pid}.log`);
  say(`no peer answers: bash ${peerDir}/setup.sh (output in ${log}; 2.5-5.5 min)`);
  const code = await runScript('setup.sh', log, SETUP_TIMEOUT_MS);
  expect(code === 0, `setup.sh exited ${code}; see ${log}`);
  expect(await peerAnswers(), `setup.sh finished but Keystone does not give the demo user a token; see ${log}`);
  return true;
};

// ---------------------------------------------------------------------------------------------
// The adapter's lifecycle

const adapterLifecycle = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/peer/openstack/adapter-lifecycle.ts')], {
      cwd: repoRoot,
      env: { ...process.env, ...providerEnv(demoCloud) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = '';
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        process.stdout.write(`         | ${line}\n`);
        last = line;
      }
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.once('error', reject);
    // 'close': its output is all read by then.
    child.once('close', (code) => {
      // Its last line, without its own clock: PASS, or FAIL with what failed.
      const verdict = last.replace(/^\[[^\]]*\]\s*/, '');
      if (code === 0) resolve(verdict);
      else reject(new Error(`adapter-lifecycle.ts exited ${code}: ${verdict}`));
    });
  });

// ---------------------------------------------------------------------------------------------
// The service's lifecycle

interface ClusterBody {
  id: string;
  status: string;
  phase: string;
  provider: string;
  servers: { id: string; name: string; role: string; state: string; privateIp: string | null; publicIp: string | null; configuration?: { state: string } }[];
  error?: { code: string; message: string; step: string };
}

interface Stack {
  url: string;
  token: string;
  stop(): Promise<void>;
}

const api = (stack: Stack, route: string, init: RequestInit = {}) =>
  fetch(`${stack.url}${route}`, { ...init, headers: { 'Content-Type': 'application/json', Authorization: `Token ${stack.token}`, ...init.headers } });

const waitForStatus = async (stack: Stack, id: string, statuses: string[], timeoutMs: number): Promise<ClusterBody> => {
  const until = Date.now() + timeoutMs;
  let seen = '';
  for (;;) {
    const body = (await (await api(stack, `/v1/clusters/${id}`)).json()) as ClusterBody;
    const now = `${body.status}/${body.phase}`;
    if (now !== seen) say(`     cluster ${id.slice(0, 8)}: ${now}`);
    seen = now;
    if (statuses.includes(body.status)) return body;
    expect(Date.now() < until, `cluster ${id} is still ${now} after ${timeoutMs / 1000} s`);
    await delay(1000);
  }
};

/**
 * The nodes' first boot, driven from the peer: every second Nova (as admin) lists the cluster's
 * servers; each one ACTIVE runs its user data here, each one gone or being deleted is stopped.
 */
class PeerNodes {
  readonly nodes = new CloudInitNodes();
  /** Every server id Nova listed, per cluster. */
  private readonly seen = new Map<string, Set<string>>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly admin: Catalog) {
    this.loop = this.poll();
  }

  watch(clusterId: string): void {
    this.seen.set(clusterId, new Set());
  }

  serversOf(clusterId: string): string[] {
    return [...(this.seen.get(clusterId) ?? [])];
  }

  private async poll(): Promise<void> {
    while (this.running) {
      for (const [clusterId, seen] of this.seen) {
        try {
          const servers = await clusterServers(this.admin, clusterId);
          for (const server of servers) {
            seen.add(server.id);
            if (server['OS-EXT-STS:task_state'] === 'deleting') this.nodes.stop(server.id);
            else if (server.status === 'ACTIVE') this.nodes.boot({ id: server.id, name: server.name, userData: server['OS-EXT-SRV-ATTR:user_data'] ?? null });
          }
          const listed = new Set(servers.map((server) => server.id));
          for (const id of seen) if (!listed.has(id)) this.nodes.stop(id);
        } catch (error) {
          say(`     (the node runner could not list the servers: ${messageOf(error)})`);
        }
      }
      await delay(1000);
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.nodes.close();
  }
}

const serviceLifecycle = async (): Promise<void> => {
  const admin = await login(openStackSettingsFromEnv(providerEnv(adminCloud)), { allProjects: true });
  const { startTestStack } = await import('../../support/stack.ts');
  let stack: Stack | undefined;
  let runner: PeerNodes | undefined;
  try {
    stack = await step(
      'the local service starts with PROVIDER=openstack on the peer',
      async () => {
        const started = await startTestStack({ env: { PROVIDER: 'openstack' }, providerEnv: providerEnv(demoCloud) });
        const openstack = started.providers.find((provider) => provider.name === 'openstack');
        expect(openstack?.available === true, `openstack is not available: ${openstack?.reason}`);
        return started;
      },
      (started) => `${started.url}, openstack: ${started.providers.find((provider) => provider.name === 'openstack')?.reason}`,
    );
    if (!stack) return;
    const service = stack;
    runner = new PeerNodes(admin);
    const nodes = runner;

    // The seed's request through the compat route, two slaves on two networks.
    const seed = { ...seedRequest(), instance_name: 'peer-seed', slaves: 2, network_request: 2 };
    const seedId = await step(
      'the seed’s request (POST /backend/create_lambda_instance) is accepted',
      async () => {
        const created = await api(service, '/backend/create_lambda_instance', { method: 'POST', body: JSON.stringify(seed) });
        const body = (await created.json()) as { uuid?: string };
        expect(created.status === 202 && typeof body.uuid === 'string', `answered ${created.status}: ${JSON.stringify(body)}`);
        nodes.watch(body.uuid ?? '');
        return body.uuid ?? '';
      },
      (id) => `cluster ${id}`,
    );
    if (seedId) {
      const cluster = await step(
        'the seed’s cluster reaches ACTIVE: master + 2 slaves, configured by their own user data',
        async () => {
          const body = await waitForStatus(service, seedId, ['ACTIVE', 'FAILED'], ACTIVE_TIMEOUT_MS);
          const master = nodes.nodes.run(seed.master_name);
          expect(body.status === 'ACTIVE', `${body.status}: ${JSON.stringify(body.error)}${master ? `\nthe master's output:\n${nodes.nodes.output(seed.master_name)}` : ''}`);
          expect(body.provider === 'openstack', `provider ${body.provider}`);
          expect(JSON.stringify(body.servers.map((server) => server.role)) === '["master","worker","worker"]', `roles ${body.servers.map((server) => server.role).join(', ')}`);
          expect(body.servers.every((server) => server.configuration?.state === 'SUCCEEDED'), `configuration ${body.servers.map((server) => `${server.name}=${server.configuration?.state}`).join(' ')}`);
          return body;
        },
        (body) => body.servers.map((server) => `${server.name}=${server.state}@${server.privateIp}${server.publicIp ? `+${server.publicIp}` : ''}`).join(' '),
      );
      if (cluster) {
        await step(
          'the master has the floating IP Neutron associated; the slaves have none',
          async () => {
            const [master, ...slaves] = cluster.servers;
            expect(/^203\.0\.113\.\d+$/.test(master?.publicIp ?? ''), `the master's publicIp ${master?.publicIp}`);
            expect(slaves.every((server) => server.publicIp === null), `slaves' publicIp ${slaves.map((server) => server.publicIp).join(', ')}`);
            const floating = await taggedResources(admin, 'floatingips', seedId);
            expect(floating.length === 1, `${floating.length} floating IPs tagged with the cluster`);
            expect(floating[0]?.floating_ip_address === master?.publicIp && floating[0]?.fixed_ip_address === master?.privateIp, `Neutron: ${floating[0]?.floating_ip_address} → ${floating[0]?.fixed_ip_address}`);
            return `${floating[0]?.floating_ip_address} → ${floating[0]?.fixed_ip_address} (Neutron status ${floating[0]?.status})`;
          },
          (text) => text,
        );
        await step(
          'one Neutron network per network_request (2), each with its subnet',
          async () => {
            const networks = await taggedResources(admin, 'networks', seedId);
            const subnets = await taggedResources(admin, 'subnets', seedId);
            expect(networks.length === 2 && subnets.length === 2, `${networks.length} networks, ${subnets.length} subnets tagged with the cluster`);
            return subnets.map((subnet) => subnet.cidr as string).join(', ');
          },
          (text) => text,
        );
        await step(
          'the cloud-init runner’s report: every component ran, the workers let the master’s key in',
          async () => {
            const events = ((await (await api(service, `/v1/clusters/${seedId}/events`)).json()) as { items: { phase: string; message: string }[] }).items;
            const phases = events.map((event) => event.phase);
            for (const phase of ['configure:common', 'configure:hdfs', 'configure:yarn', 'configure:kafka', 'configure:flink']) expect(phases.includes(phase), `no ${phase} in the timeline`);
            expect(events.some((event) => event.message === 'all 2 workers let the controller key in'), 'the workers never let the controller key in');
            return [...new Set(phases.filter((phase) => phase.startsWith('configure:')))].join(' ');
          },
          (text) => text,
        );
      }
    }

    // A cluster no host takes: its worker's flavor asks for a resource no host has.
    const nohostId = await step(
      'a cluster whose worker has the flavor error.nohost is accepted (POST /v1/clusters)',
      async () => {
        const created = await api(service, '/v1/clusters', {
          method: 'POST',
          body: JSON.stringify({
            name: 'peer-nohost',
            nodeGroups: [
              { name: 'master', role: 'master', count: 1, flavor: 'm1.tiny' },
              { name: 'worker', role: 'worker', count: 1, flavor: 'error.nohost' },
            ],
            configuration: { profile: 'lambda' },
          }),
        });
        const body = (await created.json()) as { id?: string };
        expect(created.status === 202 && typeof body.id === 'string', `answered ${created.status}: ${JSON.stringify(body)}`);
        nodes.watch(body.id ?? '');
        return body.id ?? '';
      },
      (id) => `cluster ${id}`,
    );
    if (nohostId) {
      await step(
        'the error.nohost cluster is FAILED at wait-servers with Nova’s fault, rolled back',
        async () => {
          const body = await waitForStatus(service, nohostId, ['FAILED', 'ACTIVE'], FAILED_TIMEOUT_MS);
          expect(body.status === 'FAILED', `${body.status}`);
          expect(body.error?.code === 'ServerBootFailed' && body.error.step === 'wait-servers', `error ${JSON.stringify(body.error)}`);
          expect(/No valid host was found/.test(body.error?.message ?? ''), `message "${body.error?.message}"`);
          return `${body.error?.code} at ${body.error?.step}: "${body.error?.message}"`;
        },
        (text) => text,
      );
      await step(
        'nothing of the error.nohost cluster is left in Nova or Neutron (admin, by tag and name)',
        async () => {
          const left = await leftovers(admin, nohostId, nodes.serversOf(nohostId), []);
          expect(left.length === 0, left.join('; '));
          return 'none';
        },
        (text) => text,
      );
    }

    if (seedId) {
      const networkIds = (await taggedResources(admin, 'networks', seedId)).map((network) => network.id as string);
      await step(
        'DELETE the seed’s cluster → DESTROYED',
        async () => {
          const deleted = await api(service, `/v1/clusters/${seedId}`, { method: 'DELETE' });
          expect(deleted.status === 202, `DELETE answered ${deleted.status}: ${await deleted.text()}`);
          const body = await waitForStatus(service, seedId, ['DESTROYED', 'FAILED'], DESTROYED_TIMEOUT_MS);
          expect(body.status === 'DESTROYED', `${body.status}: ${JSON.stringify(body.error)}`);
          return body.status;
        },
        (text) => text,
      );
      await step(
        'nothing of the seed’s cluster is left in Nova or Neutron (admin, by tag and name)',
        async () => {
          const left = await leftovers(admin, seedId, nodes.serversOf(seedId), networkIds);
          expect(left.length === 0, left.join('; '));
          return 'none';
        },
        (text) => text,
      );
    }
  } finally {
    await runner?.close();
    await stack?.stop();
  }
};

// ---------------------------------------------------------------------------------------------

const main = async (): Promise<void> => {
  say(`openstack-peer: scripts ${peerDir}, clouds ${cloudsFile} (${demoCloud}, ${adminCloud})`);
  const broughtUp = await step('the peer answers a Keystone token request (brought up if needed)', bringUpPeer, (brought) => (brought ? 'brought up by this run' : 'already running'));
  if (broughtUp !== undefined) {
    await step('the adapter’s lifecycle against the peer (adapter-lifecycle.ts)', adapterLifecycle, (last) => last);
    try {
      await serviceLifecycle();
    } catch (error) {
      say(`FAIL the service's lifecycle: ${messageOf(error)}`);
      results.push({ name: 'the service’s lifecycle', ok: false });
    }
  }
  if ((broughtUp && !keep) || (broughtUp === false && alwaysTeardown)) {
    await step('the peer is torn down (teardown.sh)', async () => {
      const code = await runScript('teardown.sh', path.join(tmpdir(), `ospeer-teardown-${process.pid}.log`), 300_000);
      expect(code === 0, `teardown.sh exited ${code}`);
    });
  } else if (broughtUp !== undefined) {
    say(`the peer is left running (${broughtUp ? '--keep' : 'it was running before'}); bash ${peerDir}/teardown.sh stops it`);
  }
  const failed = results.filter((result) => !result.ok);
  say(`${results.length - failed.length} passed, ${failed.length} failed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  say(failed.length === 0 ? 'PASS' : `FAIL (${failed.map((result) => result.name).join('; ')})`);
};

await main();
process.exit(results.every((result) => result.ok) && results.length > 0 ? 0 : 1);
