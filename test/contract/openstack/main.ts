/**
 * The contract OpenStack on its own: `npx tsx test/contract/openstack/main.ts [port]` prints the
 * `OS_*` environment that points a client (or `PROVIDER=openstack npm start`) at it, and serves
 * until stopped. `CONTRACT_BOOT_MS` sets how long servers take to boot (default 3000);
 * `CONTRACT_RUN_USER_DATA=1` runs each server's user data once it is ACTIVE, as cloud-init would
 * (the cloud-init runner's agent, with a stand-in ansible-playbook: test/contract/cloud-init/nodes.ts).
 */
import { CloudInitNodes } from '../cloud-init/nodes.ts';
import { ContractCloud } from './server.ts';

const port = Number(process.argv[2] ?? process.env.CONTRACT_PORT ?? 0);
const bootMs = Number(process.env.CONTRACT_BOOT_MS ?? 3000);
const nodes = process.env.CONTRACT_RUN_USER_DATA === '1' ? new CloudInitNodes() : undefined;
const cloud = await new ContractCloud({ bootMs, deleteMs: 1000, ...(nodes ? { lifecycle: nodes.lifecycle() } : {}) }).start(port);

// The clock only moves forward on requests; nothing else needs a timer.
const lines = Object.entries(cloud.env()).map(([name, value]) => `export ${name}=${value}`);
process.stdout.write(`${lines.join('\n')}\n# contract OpenStack on ${cloud.url}${nodes ? `, running user data under ${nodes.root}` : ''}; Ctrl-C stops it\n`);

const stop = () => {
  void Promise.all([cloud.close(), nodes?.close()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
