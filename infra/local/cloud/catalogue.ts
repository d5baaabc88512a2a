/**
 * What the emulated cloud offers: every server size within bounds, each a flavor named after it;
 * one region, three zones, a few images by name. A server asked for with no zone or image lands
 * in the first zone from the first image.
 */
import type { ErrorDetail } from '#domain/errors';
import type { ServerOptions } from '#domain/provider';

export interface ServerSize {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export const LOCAL_FLAVOR_LIMITS: Readonly<Record<keyof ServerSize, { min: number; max: number; unit: string }>> = {
  vcpus: { min: 1, max: 128, unit: 'vCPUs' },
  ramMb: { min: 256, max: 1_048_576, unit: 'MiB' },
  diskGb: { min: 1, max: 16_384, unit: 'GB' },
};

/** Largest number of servers one create call may ask for. */
export const LOCAL_CLOUD_MAX_BATCH_SIZE = 50;

export const localFlavorName = (size: ServerSize): string => `c${size.vcpus}r${size.ramMb}d${size.diskGb}`;

/** Why no flavor of this size exists, one detail per offending field; empty when it does. */
export function localFlavorProblems(size: ServerSize): ErrorDetail[] {
  return (Object.keys(LOCAL_FLAVOR_LIMITS) as (keyof ServerSize)[]).flatMap((field) => {
    const { min, max, unit } = LOCAL_FLAVOR_LIMITS[field];
    const value = size[field];
    return Number.isInteger(value) && value >= min && value <= max
      ? []
      : [{ path: field, message: `${field} must be a whole number from ${min} to ${max} ${unit}; got ${value}` }];
  });
}

export function parseLocalFlavor(flavor: string): ServerSize | null {
  const match = /^c(\d+)r(\d+)d(\d+)$/.exec(flavor);
  if (!match) return null;
  const size = { vcpus: Number(match[1]), ramMb: Number(match[2]), diskGb: Number(match[3]) };
  return localFlavorProblems(size).length === 0 ? size : null;
}

export const LOCAL_REGION = 'local';
export const LOCAL_ZONES: readonly string[] = ['local-a', 'local-b', 'local-c'];
export const LOCAL_IMAGES: readonly string[] = ['debian-12', 'ubuntu-24.04', 'rocky-9'];
export const DEFAULT_ZONE = LOCAL_ZONES[0] ?? '';
export const DEFAULT_IMAGE = LOCAL_IMAGES[0] ?? '';

/** What a create call takes beyond sizes; the region is the endpoint's, not a parameter. */
export type LocalServerOptions = Omit<ServerOptions, 'region'>;

/**
 * Why the cloud refuses these options: each with the code its create call answers and the field
 * of the native body it comes from. Key names are recorded, not checked: this cloud keeps no key pairs.
 */
export function localOptionProblems(options: LocalServerOptions): (ErrorDetail & { code: string })[] {
  const problems: (ErrorDetail & { code: string })[] = [];
  if (options.zone !== undefined && !LOCAL_ZONES.includes(options.zone)) {
    problems.push({ code: 'InvalidZone', path: 'zone', message: `Zone "${options.zone}" does not exist; the local cloud has ${LOCAL_ZONES.join(', ')}` });
  }
  if (options.image !== undefined && !LOCAL_IMAGES.includes(options.image)) {
    problems.push({ code: 'ImageNotFound', path: 'image', message: `Image "${options.image}" does not exist; the local cloud has ${LOCAL_IMAGES.join(', ')}` });
  }
  return problems;
}
