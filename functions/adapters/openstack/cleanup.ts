/**
 * One round of deleting a cluster (docs/openstack-provider.md, "Destroy"): everything found by
 * the cluster's tag, in the order OpenStack allows, each thing that still exists counted. Servers
 * and volumes go away some time after they are deleted, and networks and security groups only
 * once the servers' ports are gone, so the caller repeats rounds until nothing is left.
 */
import type { Compute } from './compute.ts';
import { CLUSTER_ID_KEY, clusterTag } from './naming.ts';
import type { Network, NeutronFloatingIp, NeutronNetwork, NeutronPort, NeutronRouter, NeutronSecurityGroup, NeutronSubnet } from './network.ts';
import { isDeleting } from './servers.ts';
import type { Volumes } from './volume.ts';

export interface CleanupDeps {
  compute: Compute;
  network: Network;
  volumes: Volumes;
}

/** Deletes what can be deleted now; answers how many of the cluster's resources still exist. */
export const deleteClusterRound = async (deps: CleanupDeps, clusterId: string): Promise<number> => {
  const tag = clusterTag(clusterId);
  const hasVolumes = await deps.volumes.available();
  let remaining = 0;

  // Servers: their boot volumes are marked with the cluster first, so a volume Nova leaves behind is still found.
  const servers = (await deps.compute.servers([tag])).filter((server) => server.status !== 'DELETED' && server.status !== 'SOFT_DELETED');
  for (const server of servers) {
    remaining += 1;
    if (isDeleting(server)) continue;
    if (hasVolumes) {
      for (const volume of server['os-extended-volumes:volumes_attached'] ?? []) await deps.volumes.mark(volume.id, { [CLUSTER_ID_KEY]: clusterId });
    }
    await deps.compute.delete(server.id);
  }

  // Floating IPs first among the network's: a router interface they are reached through cannot be removed.
  for (const ip of await deps.network.list<NeutronFloatingIp>('floatingips', { tags: tag })) {
    if ((await deps.network.delete('floatingips', ip.id)) === 'in-use') remaining += 1;
  }

  for (const router of await deps.network.list<NeutronRouter>('routers', { tags: tag })) {
    const interfaces = await deps.network.list<NeutronPort>('ports', { device_id: router.id, device_owner: 'network:router_interface' });
    let attached = 0;
    for (const port of interfaces) {
      if ((await deps.network.removeRouterInterface(router.id, port.id)) === 'in-use') attached += 1;
    }
    if (attached > 0 || (await deps.network.delete('routers', router.id)) === 'in-use') remaining += 1;
  }

  // A subnet or network still holding the servers' ports waits for Nova to release them.
  for (const subnet of await deps.network.list<NeutronSubnet>('subnets', { tags: tag })) {
    if ((await deps.network.delete('subnets', subnet.id)) === 'in-use') remaining += 1;
  }
  for (const network of await deps.network.list<NeutronNetwork>('networks', { tags: tag })) {
    if ((await deps.network.delete('networks', network.id)) === 'in-use') remaining += 1;
  }
  for (const group of await deps.network.list<NeutronSecurityGroup>('security-groups', { tags: tag })) {
    if ((await deps.network.delete('security-groups', group.id)) === 'in-use') remaining += 1;
  }

  if (hasVolumes) {
    const volumes = await deps.volumes.list({ [CLUSTER_ID_KEY]: clusterId });
    for (const volume of volumes) await deps.volumes.delete(volume);
    remaining += volumes.length;
  }
  return remaining;
};
