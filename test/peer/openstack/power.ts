/**
 * The openstack adapter's stop and start (`os-stop`, `os-start`) against a real OpenStack: one
 * server made, stopped, stopped again (Nova's 409 taken as no failure), started, and deleted, with
 * each state the adapter reads. Not a vitest test.
 *
 *   OS_CLIENT_CONFIG_FILE=/var/lib/ospeer/clouds.yaml OS_CLOUD=ospeer-demo \
 *   OPENSTACK_IMAGE=cirros-fake OPENSTACK_EXTERNAL_NETWORK=public \
 *   npx tsx test/peer/openstack/power.ts
 *
 * Those four are the defaults. The last line is PASS or FAIL; a failure exits 1.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenStackProvider, openStackSettingsFromEnv } from '#adapters/openstack/index';
import type { ProviderServer } from '#domain/provider';
import { checks, peerEnv } from './script.ts';

const env = peerEnv();
const { check, run } = checks();

const main = async () => {
  const provider = await OpenStackProvider.connect(openStackSettingsFromEnv(env));
  const clusterId = randomUUID();
  const seen: string[] = [];
  /** Polls the cluster's one server until its state is `want` (60 s at most), noting every state read. */
  const until = async (want: ProviderServer['state']): Promise<ProviderServer | undefined> => {
    for (let i = 0; i < 120; i += 1) {
      const [server] = await provider.describeServers({ clusterId });
      if (server && seen.at(-1) !== server.state) seen.push(server.state);
      if (server?.state === want) return server;
      await sleep(500);
    }
    return undefined;
  };
  try {
    const flavor = provider.resolveFlavor({ vcpus: 1, ramMb: 512, diskGb: 1 });
    const networkIds = await provider.createNetworks({ clusterId, count: 1 });
    const [made] = await provider.createServers({
      clusterId,
      clientToken: `${clusterId}-a1-b0`,
      networkIds,
      servers: [{ name: 'power-1', role: 'worker', group: 'worker', flavor, vcpus: 1, ramMb: 512, diskGb: 1, publicIp: false }],
    });
    const id = made?.id ?? '';
    const active = await until('ACTIVE');
    check(active !== undefined, 'the server runs', seen.join(' → '));
    await provider.stopServers({ clusterId, serverIds: [id] });
    const stopped = await until('STOPPED');
    check(stopped !== undefined, 'os-stop: the server is STOPPED', seen.join(' → '));
    check(stopped?.privateIp === active?.privateIp, 'it keeps its address', `${active?.privateIp} → ${stopped?.privateIp}`);
    const again = await provider.stopServers({ clusterId, serverIds: [id] }).then(() => 'no failure', (error: unknown) => String(error));
    check(again === 'no failure', 'a second os-stop (Nova 409) is no failure', again);
    await provider.startServers({ clusterId, serverIds: [id] });
    const started = await until('ACTIVE');
    check(started !== undefined, 'os-start: the server runs again', seen.join(' → '));
  } finally {
    for (let i = 0; i < 60 && (await provider.deleteCluster({ clusterId })).remaining > 0; i += 1) await sleep(1000);
  }
};

await run(main);
