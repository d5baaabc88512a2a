/**
 * The openstack adapter's quota calls (`describeQuota`, the dry run's `cloudQuota`) against a real
 * OpenStack, with the raw answers printed beside what the adapter made of them, so the contract
 * server's `GET /limits`, Neutron quota details and Cinder quota set can be compared with it. Not a
 * vitest test; makes nothing.
 *
 *   OS_CLIENT_CONFIG_FILE=/var/lib/ospeer/clouds.yaml OS_CLOUD=ospeer-demo \
 *   OPENSTACK_IMAGE=cirros-fake OPENSTACK_EXTERNAL_NETWORK=public \
 *   npx tsx test/peer/openstack/quota.ts
 *
 * Those four are the defaults. The last line is PASS or FAIL; a failure exits 1.
 */
import { OpenStackProvider, openStackSettingsFromEnv } from '#adapters/openstack/index';
import { checks, peerEnv } from './script.ts';

const env = peerEnv();
const { check, run } = checks();

/** Prints every quota answer's body as it came. */
const showing: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const url = String(input instanceof Request ? input.url : input);
  if (/\/limits$|\/quotas\/|os-quota-sets/.test(url)) {
    const text = await response.clone().text();
    process.stdout.write(`---- ${init?.method ?? 'GET'} ${url} → ${response.status}\n${text}\n`);
  }
  return response;
};

const main = async () => {
  const provider = await OpenStackProvider.connect(openStackSettingsFromEnv(env), { fetch: showing });
  const flavor = provider.resolveFlavor({ vcpus: 1, ramMb: 512, diskGb: 1 });
  const quota = await provider.describeQuota({
    servers: [
      { name: 'master', flavor, diskGb: 1, publicIp: true },
      { name: 'worker-1', flavor, diskGb: 1, publicIp: false },
    ],
    privateNetworks: 1,
    securityRules: [],
  });
  process.stdout.write(`---- describeQuota\n${JSON.stringify(quota, null, 2)}\n`);
  for (const name of ['instances', 'cores', 'ramMb']) {
    const line = quota[name];
    check(line !== undefined && Number.isInteger(line.limit) && Number.isInteger(line.used), `Nova answers ${name}`, JSON.stringify(line));
  }
  for (const name of ['floatingIps', 'networks', 'subnets', 'routers', 'ports', 'securityGroups', 'securityGroupRules']) {
    const line = quota[name];
    check(line !== undefined && Number.isInteger(line.limit) && Number.isInteger(line.used), `Neutron answers ${name}`, JSON.stringify(line));
  }
  check(quota.instances?.requested === 2 && quota.floatingIps?.requested === 1 && quota.networks?.requested === 1, 'the plan is counted');
};

await run(main);
