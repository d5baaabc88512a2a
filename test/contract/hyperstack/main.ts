/**
 * The contract Infrahub on its own: `npm run contract:hyperstack [-- port]` prints the
 * `HYPERSTACK_*` environment that points `PROVIDER=hyperstack npm start` at it, and serves until
 * stopped. `CONTRACT_BOOT_MS` sets how long VMs stay CREATING (default 3000);
 * `CONTRACT_RUN_USER_DATA=1` runs each VM's user data once it is ACTIVE, as cloud-init would
 * (test/contract/cloud-init/nodes.ts).
 */
import { CloudInitNodes } from '../cloud-init/nodes.ts';
import { HyperstackContract } from './server.ts';

const port = Number(process.argv[2] ?? process.env.CONTRACT_PORT ?? 0);
const bootMs = Number(process.env.CONTRACT_BOOT_MS ?? 3000);
const nodes = process.env.CONTRACT_RUN_USER_DATA === '1' ? new CloudInitNodes() : undefined;
const cloud = await new HyperstackContract({ bootMs, deleteMs: 1000, ...(nodes ? { lifecycle: nodes.lifecycle() } : {}) }).start(port);

// Quoted for the shell (the image's name has spaces), to be pasted into the one that runs npm start.
const quoted = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
const lines = Object.entries(cloud.env()).map(([name, value]) => `export ${name}=${quoted(value)}`);
process.stdout.write(`${lines.join('\n')}\n# contract Infrahub on ${cloud.url}${nodes ? `, running user data under ${nodes.root}` : ''}; Ctrl-C stops it\n`);

const stop = () => {
  void Promise.all([cloud.close(), nodes?.close()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
