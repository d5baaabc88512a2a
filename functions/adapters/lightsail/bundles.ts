/**
 * Lightsail's bundles (its sizes). `resolveFlavor` answers from the Linux bundles Lightsail lists
 * (the port asks synchronously); `createServers` checks the answer against GetBundles and picks
 * the smallest active bundle that fits and that suits the blueprint's `minPower`.
 */
import type { Bundle } from '@aws-sdk/client-lightsail';
import { InvalidSpec } from '#domain/errors';
import type { ServerSize } from '#domain/provider';

export interface BundleSize {
  id: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  power: number;
}

/** The Linux bundles (`*_3_0`), smallest first. */
export const KNOWN_BUNDLES: readonly BundleSize[] = [
  { id: 'nano_3_0', vcpus: 2, ramMb: 512, diskGb: 20, power: 300 },
  { id: 'micro_3_0', vcpus: 2, ramMb: 1024, diskGb: 40, power: 500 },
  { id: 'small_3_0', vcpus: 2, ramMb: 2048, diskGb: 60, power: 1000 },
  { id: 'medium_3_0', vcpus: 2, ramMb: 4096, diskGb: 80, power: 2000 },
  { id: 'large_3_0', vcpus: 2, ramMb: 8192, diskGb: 160, power: 3000 },
  { id: 'xlarge_3_0', vcpus: 4, ramMb: 16_384, diskGb: 320, power: 4000 },
  { id: '2xlarge_3_0', vcpus: 8, ramMb: 32_768, diskGb: 640, power: 5000 },
];

const fits = (bundle: BundleSize, size: ServerSize): boolean =>
  bundle.vcpus >= size.vcpus && bundle.ramMb >= size.ramMb && bundle.diskGb >= size.diskGb;

/** The smallest Linux bundle that fits; InvalidSpec naming the first dimension none has enough of. */
export const smallestKnownBundle = (size: ServerSize): BundleSize => {
  const bundle = KNOWN_BUNDLES.find((candidate) => fits(candidate, size));
  if (bundle) return bundle;
  const most = (pick: (candidate: BundleSize) => number) => Math.max(...KNOWN_BUNDLES.map(pick));
  const detail =
    most((b) => b.vcpus) < size.vcpus
      ? { path: 'vcpus', message: `no lightsail bundle has ${size.vcpus} vCPUs (the most is ${most((b) => b.vcpus)})` }
      : most((b) => b.ramMb) < size.ramMb
        ? { path: 'ramMb', message: `no lightsail bundle has ${size.ramMb} MiB (the most is ${most((b) => b.ramMb)})` }
        : most((b) => b.diskGb) < size.diskGb
          ? { path: 'diskGb', message: `no lightsail bundle has ${size.diskGb} GB of disk (the most is ${most((b) => b.diskGb)})` }
          : { path: 'vcpus', message: `no lightsail bundle has ${size.vcpus} vCPUs, ${size.ramMb} MiB and ${size.diskGb} GB together` };
  throw new InvalidSpec(`No lightsail bundle fits: ${detail.message}`, [detail]);
};

/** GetBundles' answer as sizes: active Linux bundles only. */
export const activeLinuxBundles = (bundles: Bundle[]): BundleSize[] =>
  bundles
    .filter((bundle) => bundle.isActive === true && (bundle.supportedPlatforms ?? ['LINUX_UNIX']).includes('LINUX_UNIX'))
    .filter((bundle) => bundle.bundleId && bundle.cpuCount !== undefined && bundle.ramSizeInGb !== undefined && bundle.diskSizeInGb !== undefined)
    .map((bundle) => ({
      id: bundle.bundleId!,
      vcpus: bundle.cpuCount!,
      ramMb: Math.round(bundle.ramSizeInGb! * 1024),
      diskGb: bundle.diskSizeInGb!,
      power: bundle.power ?? 0,
    }));

/** The smallest (by power, then memory) active bundle that fits the size and the blueprint's minimum power. */
export const chooseBundle = (bundles: readonly BundleSize[], size: ServerSize, minPower: number): BundleSize => {
  const candidates = bundles
    .filter((bundle) => fits(bundle, size) && bundle.power >= minPower)
    .sort((a, b) => a.power - b.power || a.ramMb - b.ramMb || a.diskGb - b.diskGb);
  const bundle = candidates[0];
  if (!bundle) {
    throw new InvalidSpec(
      `no active Lightsail bundle has ${size.vcpus} vCPUs, ${size.ramMb} MB of memory and ${size.diskGb} GB of disk with power ${minPower} or more`,
    );
  }
  return bundle;
};
