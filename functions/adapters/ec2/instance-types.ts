/**
 * The EC2 instance types provider `ec2` resolves sizes to (docs/ec2-provider.md).
 *
 * Graviton (arm64) only, so one AMI serves every node: mixing arm64 and x86_64 types would need
 * an image per architecture, and the port has one `imageId`. Three families of the same
 * generation differ only in memory per vCPU — c7g 2 GiB, m7g 4 GiB, r7g 8 GiB — so the
 * smallest fit is the cheapest one for every size the API accepts. Burstable (t4g) types are
 * left out: a configuration run or a Hadoop job would drain their CPU credits. Metal sizes are
 * left out: they boot in minutes, not seconds.
 *
 * Figures are from the EC2 instance type specifications; `ramMib` is what EC2 reports as
 * `MemoryInfo.SizeInMiB`.
 */
import { InvalidSpec, type ErrorDetail } from '#domain/errors';

export interface Ec2InstanceType {
  name: string;
  vcpus: number;
  ramMib: number;
}

/** The architecture every type in the table runs; the provider checks the AMI against it. */
export const INSTANCE_ARCHITECTURE = 'arm64';

const FAMILIES = [
  { family: 'c7g', mibPerVcpu: 2048 },
  { family: 'm7g', mibPerVcpu: 4096 },
  { family: 'r7g', mibPerVcpu: 8192 },
] as const;

const SIZES = [
  { size: 'medium', vcpus: 1 },
  { size: 'large', vcpus: 2 },
  { size: 'xlarge', vcpus: 4 },
  { size: '2xlarge', vcpus: 8 },
  { size: '4xlarge', vcpus: 16 },
  { size: '8xlarge', vcpus: 32 },
  { size: '12xlarge', vcpus: 48 },
  { size: '16xlarge', vcpus: 64 },
] as const;

/**
 * Every type, smallest first: fewest vCPUs, then least memory. On these families that order is
 * also the on-demand price order, so the first type that fits is the cheapest that fits.
 */
export const EC2_INSTANCE_TYPES: readonly Ec2InstanceType[] = SIZES.flatMap(({ size, vcpus }) =>
  FAMILIES.map(({ family, mibPerVcpu }) => ({ name: `${family}.${size}`, vcpus, ramMib: vcpus * mibPerVcpu })),
).sort((a, b) => a.vcpus - b.vcpus || a.ramMib - b.ramMib);

const BY_NAME = new Map(EC2_INSTANCE_TYPES.map((type) => [type.name, type]));

/** gp3's largest volume, in GiB. */
export const MAX_ROOT_VOLUME_GB = 16_384;

export const instanceType = (name: string): Ec2InstanceType | null => BY_NAME.get(name) ?? null;

/** The smallest type with at least `vcpus` vCPUs and `ramMb` MiB; InvalidSpec naming the field nothing can meet. */
export const smallestInstanceType = (size: { vcpus: number; ramMb: number; diskGb: number }): Ec2InstanceType => {
  const details: ErrorDetail[] = [];
  const largest = (pick: (type: Ec2InstanceType) => number) => Math.max(...EC2_INSTANCE_TYPES.map(pick));
  if (size.diskGb > MAX_ROOT_VOLUME_GB) {
    details.push({ path: 'diskGb', message: `at most ${MAX_ROOT_VOLUME_GB} GB fits one gp3 root volume` });
  }
  const fit = EC2_INSTANCE_TYPES.find((type) => type.vcpus >= size.vcpus && type.ramMib >= size.ramMb);
  if (!fit) {
    if (size.vcpus > largest((type) => type.vcpus)) {
      details.push({ path: 'vcpus', message: `at most ${largest((type) => type.vcpus)} vCPUs fit one EC2 instance type here` });
    }
    if (size.ramMb > largest((type) => type.ramMib)) {
      details.push({ path: 'ramMb', message: `at most ${largest((type) => type.ramMib)} MiB fit one EC2 instance type here` });
    }
    if (details.length === 0) {
      // Each figure fits some type, but no type has both.
      details.push({ path: 'vcpus', message: `no EC2 instance type here has ${size.vcpus} vCPUs and ${size.ramMb} MiB` });
      details.push({ path: 'ramMb', message: `no EC2 instance type here has ${size.vcpus} vCPUs and ${size.ramMb} MiB` });
    }
  }
  if (!fit || details.length > 0) {
    throw new InvalidSpec(`No EC2 instance type fits: ${details.map((detail) => `${detail.path} ${detail.message}`).join('; ')}`, details);
  }
  return fit;
};
