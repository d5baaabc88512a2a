/** The emulated cloud for its own tests: a hand-moved clock, fixed draws, no API latency. */
import { LocalCloud, type LocalCloudOptions } from '../../infra/local/cloud/cloud.ts';

const T0 = Date.UTC(2025, 0, 1);

/** A cloud on a hand-moved clock, with no API latency so tests need not sleep. */
export async function cloudAt(options: LocalCloudOptions = {}) {
  const clock = { now: T0 };
  const cloud = await LocalCloud.open({
    apiLatencyMs: { min: 0, max: 0 },
    bootMs: { min: 1000, max: 3000 },
    configMs: { min: 5000, max: 5000 },
    deleteMs: { min: 200, max: 200 },
    now: () => clock.now,
    random: () => 0.5,
    ...options,
  });
  return { cloud, clock, advance: (ms: number) => (clock.now += ms) };
}

export const requests = (prefix: string, count: number, flavor = 'c2r4096d20') =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i + 1}`, role: 'worker', flavor }));

/** Servers of a cluster, already booted, ready for configuration. */
export async function runningCluster(options: LocalCloudOptions = {}, names = ['master', 'worker-1', 'worker-2']) {
  const env = await cloudAt(options);
  const servers = await env.cloud.createServers({
    clusterId: 'c1',
    clientToken: 'batch-1',
    networkIds: [],
    servers: names.map((name) => ({ name, role: name === 'master' ? 'master' : 'worker', flavor: 'c2r4096d20' })),
  });
  env.advance(3000);
  return { ...env, nodes: servers.map(({ id, name }) => ({ id, name, role: 'worker' })) };
}

export const caught = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);
