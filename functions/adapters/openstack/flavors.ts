/**
 * Sizes to flavors and back, over the catalogue Nova listed when the provider connected. A disk
 * no flavor has does not rule a flavor out: the server boots from a volume of that size instead.
 */
import { InvalidSpec, type ErrorDetail } from '#domain/errors';
import type { ServerSize } from '#domain/provider';
import type { Flavor } from './compute.ts';

const bySize = (a: Flavor, b: Flavor): number => a.vcpus - b.vcpus || a.ramMb - b.ramMb || a.diskGb - b.diskGb || a.name.localeCompare(b.name);

/**
 * The smallest flavor with the vCPUs and RAM, preferring one whose own disk is big enough;
 * InvalidSpec naming `vcpus` or `ramMb` when none has them.
 */
export const smallestFlavor = (flavors: readonly Flavor[], size: ServerSize): Flavor => {
  const fitting = flavors.filter((flavor) => flavor.vcpus >= size.vcpus && flavor.ramMb >= size.ramMb).sort(bySize);
  const best = fitting.find((flavor) => flavor.diskGb >= size.diskGb) ?? fitting[0];
  if (best) return best;
  const details: ErrorDetail[] = [];
  const mostVcpus = Math.max(0, ...flavors.map((flavor) => flavor.vcpus));
  if (mostVcpus < size.vcpus) {
    details.push({ path: 'vcpus', message: `no openstack flavor has ${size.vcpus} vCPUs (the most is ${mostVcpus})` });
  } else {
    const mostRam = Math.max(0, ...flavors.filter((flavor) => flavor.vcpus >= size.vcpus).map((flavor) => flavor.ramMb));
    details.push({ path: 'ramMb', message: `no openstack flavor with ${size.vcpus} or more vCPUs has ${size.ramMb} MiB (the most is ${mostRam})` });
  }
  throw new InvalidSpec(`No openstack flavor fits: ${details.map((detail) => detail.message).join('; ')}`, details);
};

/** A flavor named by the client: names first (what people write), ids second. */
export const flavorNamed = (flavors: readonly Flavor[], nameOrId: string): Flavor | undefined =>
  flavors.find((flavor) => flavor.name === nameOrId) ?? flavors.find((flavor) => flavor.id === nameOrId);

/**
 * The boot volume a server needs, in GiB, or undefined when the flavor's own disk will do: a
 * disk bigger than the flavor's, or a flavor without a disk (Nova boots those from volumes only).
 * Never smaller than the image asks for.
 */
export const bootVolumeGb = (flavor: Flavor, diskGb: number, imageMinDiskGb: number): number | undefined =>
  flavor.diskGb === 0 || diskGb > flavor.diskGb ? Math.max(diskGb, imageMinDiskGb, 1) : undefined;
