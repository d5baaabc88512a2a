/**
 * Glance v2 image look-ups (`GET /v2/images?name=`, `GET /v2/images/{id}`), and Cinder v3 volumes:
 * create, list with the `metadata` filter (a dictionary literal, as Cinder reads it), metadata,
 * delete (refused while attached).
 */
import { htmlPage, novaFault, type Reply, type RequestContext, type Route } from './server.ts';
import { newId, type Image, type Volume } from './state.ts';

const imageView = (image: Image) => ({
  id: image.id,
  name: image.name,
  status: image.status,
  min_disk: image.min_disk,
  min_ram: 0,
  visibility: 'public',
  disk_format: 'qcow2',
  container_format: 'bare',
  size: 1_048_576,
  virtual_size: null,
  checksum: 'f2512b9f95dbd63d66692b83d8e8ec77',
  os_hash_algo: 'sha512',
  os_hash_value: 'f2c06b928404ce12d9450a7afc5171396fe5152213ae9e04160f16dc98bdc40bde1bef399c02559a37993c21d66f71ff0a76a297c7ef1e136252445ac0490cc3',
  os_hidden: false,
  protected: false,
  owner: 'e81fa933171943438d21f2f349f4c7d8',
  tags: [],
  self: `/v2/images/${image.id}`,
  file: `/v2/images/${image.id}/file`,
  schema: '/v2/schemas/image',
  stores: 'fs',
});

export const glanceRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/v2\/images$/,
    handle: (context) => {
      const name = context.query.get('name');
      const images = context.state.images.filter((image) => name === null || image.name === name).map(imageView);
      return { status: 200, body: { images, schema: '/v2/schemas/images', first: `/v2/images${name === null ? '' : `?name=${encodeURIComponent(name)}`}` } };
    },
  },
  {
    method: 'GET',
    path: /^\/v2\/images\/([^/]+)$/,
    handle: (context) => {
      const image = context.state.images.find((candidate) => candidate.id === context.params[0]);
      // Glance answers a missing image with an HTML page.
      return image ? { status: 200, body: imageView(image) } : htmlPage(404, 'Not Found', `No image found with ID ${context.params[0]}`);
    },
  },
];

const volumeView = (volume: Volume) => ({
  id: volume.id,
  name: volume.name,
  size: volume.size,
  status: volume.deletedAt === undefined ? volume.status : 'deleting',
  metadata: volume.metadata,
  bootable: 'true',
  attachments: volume.attachedTo ? [{ server_id: volume.attachedTo, volume_id: volume.id, attachment_id: volume.id }] : [],
  links: [],
});

/** Cinder reads `metadata` with Python's literal_eval: a dictionary of strings in either quote. */
const metadataFilter = (text: string | null): Record<string, string> | Reply | undefined => {
  if (text === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(text.replace(/'/g, '"'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, string>;
  } catch {
    // Refused below.
  }
  return novaFault(400, `Invalid filter keys: metadata`);
};

const findVolume = (context: RequestContext): Volume | Reply => {
  const volume = context.state.volumes.get(context.params[0] ?? '');
  return volume ?? novaFault(404, `Volume ${context.params[0]} could not be found.`);
};

const isVolume = (value: Volume | Reply): value is Volume => 'size' in value;

export const cinderRoutes: Route[] = [
  {
    method: 'POST',
    path: /^\/volumes$/,
    handle: (context) => {
      const body = (context.body as { volume?: { size?: unknown; name?: string; metadata?: Record<string, string> } } | undefined)?.volume;
      if (!body || !Number.isInteger(body.size) || (body.size as number) < 1) return novaFault(400, 'Invalid input received: volume size must be a positive integer.');
      const volume: Volume = { id: newId(), name: body.name ?? '', size: body.size as number, status: 'available', metadata: body.metadata ?? {}, attachedTo: null, deleteOnTermination: false };
      context.state.volumes.set(volume.id, volume);
      return { status: 202, body: { volume: volumeView(volume) } };
    },
  },
  {
    method: 'GET',
    path: /^\/volumes\/detail$/,
    handle: (context) => {
      const filter = metadataFilter(context.query.get('metadata'));
      if (filter && 'status' in filter && typeof filter.status === 'number') return filter as Reply;
      const wanted = (filter ?? {}) as Record<string, string>;
      const volumes = [...context.state.volumes.values()].filter((volume) => Object.entries(wanted).every(([key, value]) => volume.metadata[key] === value));
      return { status: 200, body: { volumes: volumes.map(volumeView) } };
    },
  },
  {
    method: 'POST',
    path: /^\/volumes\/([^/]+)\/metadata$/,
    handle: (context) => {
      const volume = findVolume(context);
      if (!isVolume(volume)) return volume;
      const metadata = (context.body as { metadata?: Record<string, string> } | undefined)?.metadata ?? {};
      volume.metadata = { ...volume.metadata, ...metadata };
      return { status: 200, body: { metadata: volume.metadata } };
    },
  },
  {
    method: 'DELETE',
    path: /^\/volumes\/([^/]+)$/,
    handle: (context) => {
      const volume = findVolume(context);
      if (!isVolume(volume)) return volume;
      if (volume.attachedTo || volume.status === 'in-use') {
        return novaFault(400, 'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.');
      }
      volume.deletedAt ??= context.state.clock.now();
      return { status: 202 };
    },
  },
];
