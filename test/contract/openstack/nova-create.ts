/**
 * The checks Nova makes on `POST /servers` before it accepts a server, with its messages: the
 * body's schema at the microversion (tags from 2.52, `networks` required from 2.37), flavor,
 * image, networks, security groups, key pair, zone, metadata, user data, block devices.
 */
import { novaFault, type Reply, type RequestContext } from './server.ts';
import { KEY_PAIRS, ZONES, type Flavor, type Server } from './state.ts';

type Version = [number, number];
const atLeast = (version: Version, major: number, minor: number): boolean => version[0] > major || (version[0] === major && version[1] >= minor);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const METADATA_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

const ALLOWED = [
  'name',
  'imageRef',
  'flavorRef',
  'networks',
  'metadata',
  'user_data',
  'key_name',
  'availability_zone',
  'security_groups',
  'block_device_mapping_v2',
  'min_count',
  'max_count',
  'config_drive',
  'OS-DCF:diskConfig',
  'accessIPv4',
  'accessIPv6',
  'adminPass',
  'description',
];

/** Nova words sizes in bytes. */
const GIB = 1024 ** 3;

const isRecord = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value as Python's repr writes it: Nova's schema messages quote the request that way. */
export const pyRepr = (value: unknown): string => {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `${pyRepr(key)}: ${pyRepr(item)}`).join(', ')}}`;
};

/** `Value:` is the value as Python's str() writes it: a string bare, anything else as its repr. */
const invalid = (field: string | number, value: unknown, why: string): Reply =>
  novaFault(400, `Invalid input for field/attribute ${field}. Value: ${typeof value === 'string' ? value : pyRepr(value)}. ${why}`);

/**
 * Whether Python's lenient base64 decoding (which Nova's `base64` format uses) takes the text:
 * characters outside the alphabet are skipped, and what is left must be whole or padded groups.
 */
const lenientBase64 = (text: string): boolean => {
  const kept = text.replace(/[^A-Za-z0-9+/=]/g, '');
  const data = kept.replace(/=+$/, '').replace(/=/g, '');
  const padding = kept.length - kept.replace(/=+$/, '').length;
  const rest = data.length % 4;
  return rest === 0 || (rest === 2 && padding >= 2) || (rest === 3 && padding >= 1);
};

/** The body's schema at the microversion, with jsonschema's messages as Nova words them; undefined when it holds. */
const schemaFault = (body: Record<string, any>, version: Version): Reply | undefined => {
  const allowed = [...ALLOWED, ...(atLeast(version, 2, 52) ? ['tags'] : []), ...(atLeast(version, 2, 57) ? [] : ['personality'])];
  const unexpected = Object.keys(body).find((key) => !allowed.includes(key));
  if (unexpected) return invalid('server', body, `Additional properties are not allowed ('${unexpected}' was unexpected)`);
  if (body.name === undefined) return invalid('server', body, "'name' is a required property");
  if (typeof body.name !== 'string') return invalid('name', body.name, `${pyRepr(body.name)} is not of type 'string'`);
  if (body.name.length < 1) return invalid('name', body.name, `${pyRepr(body.name)} is too short`);
  if (body.name.length > 255) return invalid('name', body.name, `${pyRepr(body.name)} is too long`);
  if (body.imageRef !== undefined && body.imageRef !== '' && !(typeof body.imageRef === 'string' && UUID.test(body.imageRef))) {
    return invalid('imageRef', body.imageRef, `${pyRepr(body.imageRef)} is not valid under any of the given schemas`);
  }
  if (body.networks === undefined && atLeast(version, 2, 37)) return invalid('server', body, "'networks' is a required property");
  const networksValid =
    body.networks === undefined ||
    ((body.networks === 'auto' || body.networks === 'none') && atLeast(version, 2, 37)) ||
    (Array.isArray(body.networks) && body.networks.every((entry: unknown) => isRecord(entry) && (entry.uuid === undefined || (typeof entry.uuid === 'string' && UUID.test(entry.uuid)))));
  if (!networksValid) return invalid('networks', body.networks, `${pyRepr(body.networks)} is not valid under any of the given schemas`);
  if (body.metadata !== undefined) {
    if (!isRecord(body.metadata)) return invalid('metadata', body.metadata, `${pyRepr(body.metadata)} is not of type 'object'`);
    for (const [key, value] of Object.entries(body.metadata)) {
      if (!METADATA_KEY.test(key)) return invalid('metadata', body.metadata, `${pyRepr(key)} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'`);
      if (typeof value !== 'string') return invalid(key, value, `${pyRepr(value)} is not of type 'string'`);
      if (value.length > 255) return invalid(key, value, `${pyRepr(value)} is too long`);
    }
  }
  if (body.user_data !== undefined) {
    if (typeof body.user_data !== 'string' || body.user_data.length > 65_535) return invalid('user_data', body.user_data, `${pyRepr(body.user_data)} is too long`);
    if (!lenientBase64(body.user_data)) return invalid('user_data', body.user_data, `${pyRepr(body.user_data)} is not a 'base64'`);
  }
  if (body.tags !== undefined) {
    if (!Array.isArray(body.tags)) return invalid('tags', body.tags, `${pyRepr(body.tags)} is not of type 'array'`);
    if (body.tags.length > 50) return invalid('tags', body.tags, `${pyRepr(body.tags)} is too long`);
    for (const [index, tag] of body.tags.entries()) {
      if (typeof tag !== 'string') return invalid(index, tag, `${pyRepr(tag)} is not of type 'string'`);
      if (tag.length < 1) return invalid(index, tag, `${pyRepr(tag)} is too short`);
      if (tag.length > 60) return invalid(index, tag, `${pyRepr(tag)} is too long`);
      if (/[,/]/.test(tag)) return invalid(index, tag, `${pyRepr(tag)} does not match '^[^,/]*$'`);
    }
  }
  return undefined;
};

export type CreateRequest = Pick<Server, 'name' | 'flavor' | 'imageId' | 'tags' | 'metadata' | 'networkIds' | 'securityGroupIds' | 'keyName' | 'userData' | 'zone' | 'bootVolumeGb'>;

/** The server the body asks for, or Nova's refusal. */
export const validateCreate = (context: RequestContext, version: Version): CreateRequest | Reply => {
  const { state } = context;
  const body = isRecord(context.body) ? context.body.server : undefined;
  if (!isRecord(body)) return novaFault(400, 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
  const refused = schemaFault(body, version);
  if (refused) return refused;

  const flavorRef = String(body.flavorRef ?? '').split('/').pop() ?? '';
  const flavor: Flavor | undefined = state.flavors.find((candidate) => candidate.id === flavorRef);
  if (!flavor) return novaFault(400, `Flavor ${body.flavorRef} could not be found.`);

  const mappings: unknown[] = Array.isArray(body.block_device_mapping_v2) ? body.block_device_mapping_v2 : [];
  const root = mappings.find((mapping) => isRecord(mapping) && Number(mapping.boot_index) === 0) as Record<string, any> | undefined;
  let imageId: string | null = null;
  let bootVolumeGb: number | undefined;
  if (root) {
    if (root.source_type !== 'image' || root.destination_type !== 'volume') return novaFault(400, 'Block Device Mapping is Invalid: only image to volume is taken here.');
    // Without Cinder the create is still accepted: the volume is made on the compute host, which fails the build.
    const image = state.images.find((candidate) => candidate.id === root.uuid);
    if (!image) return novaFault(400, `Block Device Mapping is Invalid: failed to get image ${root.uuid}.`);
    if (!Number.isInteger(root.volume_size) || root.volume_size < Math.max(1, image.min_disk)) {
      return novaFault(400, `Volume is smaller than the minimum size specified in image metadata. Volume size is ${Number(root.volume_size) * GIB} bytes, minimum size is ${image.min_disk * GIB} bytes.`);
    }
    bootVolumeGb = root.volume_size;
  } else {
    const image = state.images.find((candidate) => candidate.id === body.imageRef);
    if (!image) return novaFault(400, 'Can not find requested image');
    if (image.status !== 'active') return novaFault(400, `Image ${image.id} is not active.`);
    if (flavor.disk === 0) return novaFault(403, 'Only volume-backed servers are allowed for flavors with zero disk.');
    if (flavor.disk < image.min_disk) {
      return novaFault(400, `Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${flavor.disk * GIB} bytes, minimum size is ${image.min_disk * GIB} bytes.`);
    }
    imageId = image.id;
  }

  let networkIds: string[];
  if (body.networks === undefined) {
    networkIds = [state.projectNetworkId];
  } else if (body.networks === 'auto') {
    networkIds = [state.projectNetworkId];
  } else if (body.networks === 'none') {
    networkIds = [];
  } else if (Array.isArray(body.networks)) {
    networkIds = [];
    for (const entry of body.networks) {
      if (!state.networks.has(entry.uuid)) return novaFault(400, `Network ${entry.uuid} could not be found.`);
      networkIds.push(entry.uuid);
    }
  } else {
    networkIds = [];
  }

  const securityGroupIds: string[] = [];
  for (const group of Array.isArray(body.security_groups) ? body.security_groups : []) {
    const name = isRecord(group) ? group.name : undefined;
    const found = [...state.securityGroups.values()].find((candidate) => candidate.projectId === context.projectId && (candidate.id === name || candidate.name === name));
    if (!found) return novaFault(400, `Unable to find security_group with name or id '${name}'`);
    securityGroupIds.push(found.id);
  }
  // None asked for: Nova puts the server in the project's `default` group.
  const fallback = securityGroupIds.length === 0 && body.security_groups === undefined ? state.defaultGroupOf(context.projectId) : undefined;
  if (fallback) securityGroupIds.push(fallback.id);

  if (body.key_name !== undefined && !KEY_PAIRS.includes(body.key_name)) return novaFault(400, 'Invalid key_name provided.');
  if (body.availability_zone !== undefined && !ZONES.includes(body.availability_zone)) return novaFault(400, 'The requested availability zone is not available');

  const metadata: Record<string, string> = isRecord(body.metadata) ? body.metadata : {};
  const tags: string[] = body.tags ?? [];

  return {
    name: body.name,
    flavor,
    imageId,
    tags,
    metadata,
    networkIds,
    securityGroupIds,
    keyName: body.key_name ?? null,
    userData: body.user_data ?? null,
    zone: body.availability_zone ?? ZONES[0] ?? 'nova',
    ...(bootVolumeGb === undefined ? {} : { bootVolumeGb }),
  };
};
