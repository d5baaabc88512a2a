/**
 * The contract Lightsail on its own: `npm run contract:lightsail [-- port]` prints the
 * environment (`AWS_ENDPOINT_URL_LIGHTSAIL`, region, access key, `LIGHTSAIL_*`) that points
 * `PROVIDER=lightsail npm start` at it, and serves until stopped. `CONTRACT_BOOT_MS` sets how long
 * instances stay pending (default 3000); `CONTRACT_RUN_USER_DATA=1` runs each instance's user data
 * once it is running, as cloud-init would (test/contract/cloud-init/nodes.ts).
 */
import { CloudInitNodes } from '../cloud-init/nodes.ts';
import { LightsailContract } from './server.ts';

const port = Number(process.argv[2] ?? process.env.CONTRACT_PORT ?? 0);
const bootMs = Number(process.env.CONTRACT_BOOT_MS ?? 3000);
const nodes = process.env.CONTRACT_RUN_USER_DATA === '1' ? new CloudInitNodes() : undefined;
const cloud = await new LightsailContract({ bootMs, deleteMs: 1000, ...(nodes ? { lifecycle: nodes.lifecycle() } : {}) }).start(port);

const lines = Object.entries(cloud.env()).map(([name, value]) => `export ${name}=${value}`);
process.stdout.write(`${lines.join('\n')}\n# contract Lightsail on ${cloud.url}${nodes ? `, running user data under ${nodes.root}` : ''}; Ctrl-C stops it\n`);

const stop = () => {
  void Promise.all([cloud.close(), nodes?.close()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
