/** A contract OpenStack and a provider connected to it, for the openstack adapter's tests. */
import { afterEach } from 'vitest';
import { OpenStackProvider, openStackSettingsFromEnv, type OpenStackProviderOptions } from '#adapters/openstack/index';
import type { ServerRequest } from '#domain/provider';
import { ContractCloud } from '../../contract/openstack/server.ts';
import type { ContractOptions } from '../../contract/openstack/state.ts';

export interface Connected {
  cloud: ContractCloud;
  provider: OpenStackProvider;
  /** The waits the provider asked for, in ms, instead of waiting. */
  sleeps: number[];
}

const started: ContractCloud[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((cloud) => cloud.close()));
});

/** A started contract cloud, closed after the test. */
export const contractCloud = async (options: ContractOptions = {}): Promise<ContractCloud> => {
  const cloud = await new ContractCloud(options).start();
  started.push(cloud);
  return cloud;
};

/** A provider logged in to `cloud` with the env it prints, on the cloud's clock, waiting for nothing. */
export const connect = async (cloud: ContractCloud, options: OpenStackProviderOptions = {}, env: Record<string, string> = {}): Promise<Connected> => {
  const sleeps: number[] = [];
  const settings = openStackSettingsFromEnv({ ...cloud.env(), ...env });
  const provider = await OpenStackProvider.connect(settings, {
    now: () => cloud.clock.now(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { cloud, provider, sleeps };
};

export const contractProvider = async (cloudOptions: ContractOptions = {}, options: OpenStackProviderOptions = {}): Promise<Connected> =>
  connect(await contractCloud(cloudOptions), options);

/** `count` workers of a flavor, named `worker-<n>` from `first`. */
export const workers = (count: number, flavor = 'm1.small', first = 1, diskGb = 20): ServerRequest[] =>
  Array.from({ length: count }, (_, i) => ({ name: `worker-${first + i}`, role: 'worker', group: 'workers', publicIp: false, flavor, vcpus: 1, ramMb: 2048, diskGb }));

export const CLUSTER = 'c0ffee00-0000-4000-8000-000000000001';
