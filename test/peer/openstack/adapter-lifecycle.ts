/**
 * The openstack adapter against a real OpenStack (docs/openstack-provider.md, "A real cloud"): one
 * cluster id driven through the port from flavors to destroy, then Nova and Neutron asked
 * directly whether anything of the cluster is left. Not a vitest test (its name does not end in
 * .test.ts): it needs a running cloud with the flavors m1.tiny, m1.large and error.nohost, and
 * takes a minute or two.
 *
 *   OS_CLIENT_CONFIG_FILE=/var/lib/ospeer/clouds.yaml OS_CLOUD=ospeer-demo \
 *   OPENSTACK_IMAGE=cirros-fake OPENSTACK_EXTERNAL_NETWORK=public \
 *   npx tsx test/peer/openstack/adapter-lifecycle.ts [--trace exchanges.jsonl]
 *
 * Those four are the defaults; `OS_CLOUD=` with the `OS_*` login variables (the contract server's
 * `main.ts` prints them) points it at another cloud. Every step prints one line; the last line is
 * PASS or FAIL, and a failure exits 1. `--trace` writes every HTTP exchange the adapter makes
 * (method, URL, status, headers, bodies) as JSON lines, for comparing two clouds.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { OpenStackProvider, openStackSettingsFromEnv, type OpenStackSettings } from '#adapters/openstack/index';
import type { ProviderServer, ServerRequest } from '#domain/provider';
import type { SecurityRule } from '#domain/model';
import { leftovers, login } from './inventory.ts';
import { checks, peerEnv } from './script.ts';

const env = peerEnv();
const traceArg = process.argv.indexOf('--trace');
const traceFile = traceArg >= 0 ? process.argv[traceArg + 1] : undefined;

const BOOT_TIMEOUT_MS = 240_000;
const ADDRESS_TIMEOUT_MS = 90_000;
const DESTROY_TIMEOUT_MS = 300_000;
const POLL_MS = 2_000;

const started = Date.now();
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
const { check, run } = checks(log);

/** fetch that records each exchange when `--trace` is given. */
const tracing: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (!traceFile) return response;
  const text = await response.clone().text();
  let requestBody: unknown = init?.body ?? undefined;
  try {
    requestBody = typeof requestBody === 'string' ? JSON.parse(requestBody) : requestBody;
  } catch {
    // Kept as text.
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Kept as text.
  }
  const headers = Object.fromEntries([...response.headers].filter(([name]) => !/^(date|x-openstack-request-id|x-compute-request-id|x-subject-token)$/i.test(name)));
  appendFileSync(traceFile, `${JSON.stringify({ method: init?.method ?? 'GET', url: String(input), status: response.status, request: requestBody, headers, body })}\n`);
  return response;
};

// ---------------------------------------------------------------------------------------------

const waitFor = async (what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) {
      check(false, `${what} within ${timeoutMs / 1000} s`);
      return false;
    }
    await delay(POLL_MS);
  }
};

const brief = (servers: ProviderServer[]) => servers.map((server) => `${server.name}=${server.state}${server.privateIp ? `@${server.privateIp}` : ''}${server.publicIp ? `+${server.publicIp}` : ''}`).join(' ');

const main = async (): Promise<void> => {
  if (traceFile) writeFileSync(traceFile, '');
  const settings = openStackSettingsFromEnv(env);
  log(`cloud ${env.OS_CLOUD ?? settings.authUrl}: ${settings.authUrl}, image ${settings.image}, external network ${settings.externalNetwork ?? 'none'}`);
  const provider = await OpenStackProvider.connect(settings, { fetch: tracing });
  const clusterId = randomUUID();
  log(`connected; cluster ${clusterId}`);
  const serverIds: string[] = [];
  let networkIds: string[] = [];

  try {
    // Flavors
    const flavor = provider.resolveFlavor({ vcpus: 4, ramMb: 4096, diskGb: 40 });
    check(flavor === 'm1.large', 'resolveFlavor 4 vCPU / 4096 MiB / 40 GB', flavor);

    // Networks: one, then two (the first found again), with the spec's rules
    const rules: SecurityRule[] = [
      { direction: 'ingress', protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0', portRangeMin: 22, portRangeMax: 22 },
      { direction: 'ingress', protocol: 'icmp', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' },
      { direction: 'ingress', protocol: 'udp', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32', portRangeMin: 4789, portRangeMax: 4789 },
    ];
    const one = await provider.createNetworks({ clusterId, count: 1, securityRules: rules });
    check(one.length === 1, 'createNetworks count 1', one.join(', '));
    networkIds = await provider.createNetworks({ clusterId, count: 2, securityRules: rules });
    check(networkIds.length === 2 && networkIds[0] === one[0], 'createNetworks count 2 keeps the first network', networkIds.join(', '));
    const again = await provider.createNetworks({ clusterId, count: 2, securityRules: rules });
    check(JSON.stringify(again) === JSON.stringify(networkIds), 'createNetworks retried makes nothing new');

    // Servers: master + 2 workers, then the same call again
    const nodes: ServerRequest[] = [
      { name: 'master', role: 'master', group: 'master', publicIp: true, flavor: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
      { name: 'worker-1', role: 'worker', group: 'workers', publicIp: false, flavor: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
      { name: 'worker-2', role: 'worker', group: 'workers', publicIp: false, flavor: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
    ];
    const input = { clusterId, clientToken: `${clusterId}-a1-b0`, networkIds, servers: nodes, options: { tags: { purpose: 'peer-lifecycle' } } };
    const made = await provider.createServers(input);
    serverIds.push(...made.map((server) => server.id));
    check(made.length === 3, 'createServers master + 2 workers', brief(made));
    const adopted = await provider.createServers(input);
    check(JSON.stringify(adopted.map((server) => server.id)) === JSON.stringify(serverIds), 'createServers retried with the same client token adopts', brief(adopted));
    const listed = await provider.describeServers({ clusterId });
    check(listed.length === 3, 'describeServers right after create lists 3 servers', brief(listed));

    // Boot
    let servers: ProviderServer[] = [];
    await waitFor('all 3 servers ACTIVE', BOOT_TIMEOUT_MS, async () => {
      servers = await provider.describeServers({ clusterId });
      return servers.length === 3 && servers.every((server) => server.state === 'ACTIVE') && servers.every((server) => server.privateIp !== null);
    });
    check(
      servers.every((server) => server.state === 'ACTIVE' && server.privateIp?.startsWith('10.42.0.')),
      'describeServers: ACTIVE, each with a private address on the first network',
      brief(servers),
    );

    // Public address of the master
    const master = made.find((server) => server.name === 'master')?.id ?? '';
    const addresses = await provider.allocatePublicIps({ clusterId, serverIds: [master] });
    const address = addresses[master];
    check(/^\d+\.\d+\.\d+\.\d+$/.test(address ?? ''), 'allocatePublicIps for the master', address);
    const repeat = await provider.allocatePublicIps({ clusterId, serverIds: [master] });
    check(repeat[master] === address, 'allocatePublicIps retried answers the same address', repeat[master]);
    await waitFor('the master’s public address in describeServers', ADDRESS_TIMEOUT_MS, async () => {
      servers = await provider.describeServers({ clusterId });
      return servers.find((server) => server.id === master)?.publicIp === address;
    });
    check(servers.find((server) => server.id === master)?.publicIp === address, 'describeServers shows the master’s public address', brief(servers));

    // A server no host can take
    const failing = await provider.createServers({ clusterId, clientToken: `${clusterId}-a1-b1`, networkIds, servers: [{ name: 'nohost', role: 'worker', group: 'workers', publicIp: false, flavor: 'error.nohost', vcpus: 1, ramMb: 64, diskGb: 1 }] });
    serverIds.push(...failing.map((server) => server.id));
    let broken: ProviderServer | undefined;
    await waitFor('the error.nohost server in ERROR', BOOT_TIMEOUT_MS, async () => {
      broken = (await provider.describeServers({ clusterId })).find((server) => server.name === 'nohost');
      return broken?.state === 'ERROR';
    });
    check(broken?.state === 'ERROR' && /No valid host was found/.test(broken.fault ?? ''), 'error.nohost server: ERROR with its fault', `${broken?.state} "${broken?.fault}"`);
  } catch (error) {
    check(false, 'the lifecycle ran without an exception', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }

  // Destroy, whatever happened above
  const answers: number[] = [];
  const deadline = Date.now() + DESTROY_TIMEOUT_MS;
  try {
    for (;;) {
      const { remaining } = await provider.deleteCluster({ clusterId });
      answers.push(remaining);
      if (remaining === 0 || Date.now() > deadline) break;
      await delay(POLL_MS);
    }
    check(answers.at(-1) === 0, `deleteCluster repeated until remaining 0 (${answers.length} rounds)`, answers.join(' '));
    const again = await provider.deleteCluster({ clusterId });
    check(again.remaining === 0, 'deleteCluster once more answers 0', String(again.remaining));
  } catch (error) {
    check(false, 'deleteCluster ran without an exception', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }

  // Nothing of the cluster left, as Nova and Neutron see it
  const catalog = await login(settings);
  const left = await leftovers(catalog, clusterId, serverIds, networkIds);
  check(left.length === 0, 'Nova and Neutron hold nothing of the cluster (servers, ports, floating IPs, routers, subnets, networks, security groups)', left.join('; ') || 'none');
};

await run(main);
