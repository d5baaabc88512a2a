/**
 * Nova servers in the port's terms, and the body that makes one (docs/openstack-provider.md,
 * "Servers"). Nova has no client token: what makes a retried create safe is the tags a server
 * carries from its first moment (its cluster, its name, the create call that made it).
 */
import type { ProviderServer, ServerOptions, ServerRequest } from '#domain/provider';
import { clientTags } from '#domain/tags';
import type { Flavor, NovaServer } from './compute.ts';
import { bootVolumeGb } from './flavors.ts';
import type { Image } from './image.ts';
import { CLUSTER_ID_KEY, clusterTag, MANAGED_BY_KEY, managedByTag, nameTag, networkName, ROLE_KEY, roleTag, tokenTag } from './naming.ts';

/** Nova's statuses in the port's lifecycle; any other (PAUSED, SUSPENDED, …) is not what was asked for: ERROR. */
const STATES: Record<string, ProviderServer['state']> = {
  BUILD: 'BUILD',
  REBUILD: 'BUILD',
  REBOOT: 'BUILD',
  HARD_REBOOT: 'BUILD',
  ACTIVE: 'ACTIVE',
  ERROR: 'ERROR',
  SHUTOFF: 'STOPPED',
  DELETED: 'DELETED',
  SOFT_DELETED: 'DELETED',
};

/** Nova's metadata keys: letters, digits and `-_:. `, at most 255; values at most 255 characters. */
export const METADATA_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;
export const MAX_METADATA_VALUE = 255;
/** Nova's default `metadata_items` quota, less the provider's own three keys. */
export const MAX_CLIENT_METADATA = 128 - 3;
/** Nova's limit on `user_data`, which it takes base64 encoded. */
export const MAX_USER_DATA_BASE64 = 65_535;
/** What the cloud-init runner's agent takes of that (about 10 000 characters), with room to spare. */
export const AGENT_USER_DATA_RESERVE = 16_384;
/** The most a spec's own user data may be: the agent goes with it, in one multipart document. */
export const MAX_CLIENT_USER_DATA_BASE64 = MAX_USER_DATA_BASE64 - AGENT_USER_DATA_RESERVE;

export const isDeleting = (server: NovaServer): boolean => server.status === 'DELETED' || server.status === 'SOFT_DELETED' || server['OS-EXT-STS:task_state'] === 'deleting';

/** The first IPv4 address of a kind: on the cluster's first network where the server has one, else anywhere. */
const addressOf = (server: NovaServer, kind: 'fixed' | 'floating', primary: string): string | null => {
  const networks = server.addresses ?? {};
  const ordered = [networks[primary] ?? [], ...Object.entries(networks).filter(([name]) => name !== primary).map(([, list]) => list)];
  for (const list of ordered) {
    const found = list.find((address) => address.version === 4 && (address['OS-EXT-IPS:type'] ?? 'fixed') === kind);
    if (found) return found.addr;
  }
  return null;
};

/** Only the port's fields: describe results travel through Step Functions state, which has a size limit. */
export const toProviderServer = (server: NovaServer, clusterId: string): ProviderServer => {
  const task = server['OS-EXT-STS:task_state'];
  // An os-stop under way leaves the server ACTIVE until it is SHUTOFF; an os-start, SHUTOFF until it runs.
  const state = task === 'deleting' ? 'DELETING' : task === 'powering-off' ? 'STOPPING' : task === 'powering-on' ? 'BUILD' : (STATES[server.status] ?? 'ERROR');
  // Nova's NoValidHost message ends in a space (its empty reason).
  const fault = state === 'ERROR' ? (server.fault?.message?.trim() || (STATES[server.status] ? 'Nova gives no fault' : `Nova reports the server ${server.status}`)) : undefined;
  const primary = networkName(clusterId, 0);
  return {
    id: server.id,
    name: server.name,
    state,
    privateIp: addressOf(server, 'fixed', primary),
    publicIp: addressOf(server, 'floating', primary),
    ...(fault === undefined ? {} : { fault }),
  };
};

export interface CreateContext {
  clusterId: string;
  clientToken: string;
  serviceTag: string;
  networkIds: string[];
  securityGroupId: string | undefined;
  image: Image;
  keyName: string | undefined;
  options: ServerOptions;
}

/**
 * `POST /servers` for one server: booted from the image, or from a volume made from it when the
 * disk asked for is bigger than the flavor's. Without private networks Nova picks one (`auto`).
 */
export const serverBody = (context: CreateContext, server: ServerRequest, flavor: Flavor): Record<string, unknown> => {
  const { options } = context;
  const volumeGb = bootVolumeGb(flavor, server.diskGb, context.image.minDiskGb);
  // Validation refused the service's own keys; a spec recorded before that check must not get them through either.
  const client = Object.fromEntries(clientTags(options.tags));
  return {
    name: server.name,
    flavorRef: flavor.id,
    ...(volumeGb === undefined
      ? { imageRef: context.image.id }
      : {
          block_device_mapping_v2: [
            { boot_index: 0, uuid: context.image.id, source_type: 'image', destination_type: 'volume', volume_size: volumeGb, delete_on_termination: true },
          ],
        }),
    networks: context.networkIds.length > 0 ? context.networkIds.map((uuid) => ({ uuid })) : 'auto',
    ...(context.securityGroupId ? { security_groups: [{ name: context.securityGroupId }] } : {}),
    ...(options.zone ? { availability_zone: options.zone } : {}),
    ...(context.keyName ? { key_name: context.keyName } : {}),
    // Already base64, as Nova takes it: the server's own (the cloud-init runner's agent), or the spec's.
    ...((server.userData ?? options.userData) ? { user_data: server.userData ?? options.userData } : {}),
    metadata: { ...client, [CLUSTER_ID_KEY]: context.clusterId, [ROLE_KEY]: server.role, [MANAGED_BY_KEY]: context.serviceTag },
    tags: [clusterTag(context.clusterId), managedByTag(context.serviceTag), nameTag(server.name), tokenTag(context.clientToken), roleTag(server.role)],
  };
};
