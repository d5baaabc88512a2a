/**
 * The quota read calls: Nova's `GET /limits` (absolute limits and usage, with the network quotas
 * below microversion 2.36 as Nova still writes them there), Neutron's `GET /v2.0/quotas/{project_id}/details` (limit, used,
 * reserved per resource) and Cinder's `GET /os-quota-sets/{project_id}?usage=true`, shaped as a
 * Zed cloud answers them. Usage is what the state holds; Nova's limits are the ones its create enforces.
 */
import { neutronFault, novaFault, type Reply, type RequestContext, type Route } from './server.ts';
import { PROJECT_ID, type CloudState } from './state.ts';

/** Neutron's and Cinder's own defaults, which the contract cloud keeps. */
export const NEUTRON_QUOTAS = { network: 100, subnet: 100, subnetpool: -1, port: 500, router: 10, rbac_policy: 10, security_group: 10, security_group_rule: 100 } as const;
export const CINDER_QUOTAS = { volumes: 10, gigabytes: 1000, snapshots: 10, backups: 10, backup_gigabytes: 1000, groups: 10, per_volume_gigabytes: -1 } as const;

/** The microversion asked for (`OpenStack-API-Version: compute X.Y`), the base 2.1 when none. */
const askedVersion = (context: RequestContext): [number, number] => {
  const header = context.headers['openstack-api-version'];
  const match = /compute\s+(\d+)\.(\d+)/.exec(typeof header === 'string' ? header : '');
  return match ? [Number(match[1]), Number(match[2])] : [2, 1];
};

const novaLimits = (context: RequestContext): Reply => {
  const { state } = context;
  const [major, minor] = askedVersion(context);
  const below = (m: number) => major === 2 && minor < m;
  const usage = state.usage();
  const { instances, cores, ramMb } = state.options.quotas;
  return {
    status: 200,
    body: {
      limits: {
        rate: [],
        absolute: {
          maxImageMeta: 128,
          // Gone at 2.57 (personality) and 2.36 (the network quotas, Neutron's since).
          ...(below(57) ? { maxPersonality: 5, maxPersonalitySize: 10240 } : {}),
          ...(below(36) ? { maxTotalFloatingIps: -1, maxSecurityGroups: -1, maxSecurityGroupRules: -1, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 } : {}),
          maxServerMeta: 128,
          maxTotalKeypairs: 100,
          maxServerGroups: 10,
          maxServerGroupMembers: 10,
          maxTotalInstances: instances,
          maxTotalCores: cores,
          maxTotalRAMSize: ramMb,
          totalInstancesUsed: usage.instances,
          totalCoresUsed: usage.cores,
          totalRAMUsed: usage.ramMb,
          totalServerGroupsUsed: 0,
        },
      },
    },
  };
};

const neutronDetails = (context: RequestContext): Reply => {
  if (context.params[0] !== PROJECT_ID) return neutronFault(403, 'HTTPForbidden', "Policy doesn't allow get_quota to be performed.");
  const { state } = context;
  const ownNetworks = [...state.networks.values()].filter((network) => !network.external).length;
  const used: Record<string, number> = {
    network: ownNetworks,
    subnet: [...state.subnets.values()].filter((subnet) => subnet.network_id !== state.externalNetworkId).length,
    router: state.routers.size,
    port: [...state.ports.values()].filter((port) => port.network_id !== state.externalNetworkId).length,
    security_group: state.securityGroups.size,
    security_group_rule: state.rules.size,
    floatingip: state.floatingIps.size,
  };
  const limits: Record<string, number> = { ...NEUTRON_QUOTAS, floatingip: state.options.quotas.floatingIps };
  const quota = Object.fromEntries(Object.entries(limits).map(([name, limit]) => [name, { limit, used: used[name] ?? 0, reserved: 0 }]));
  return { status: 200, body: { quota } };
};

const cinderQuotaSet = (context: RequestContext): Reply => {
  if (context.params[0] !== PROJECT_ID) return novaFault(403, 'Policy does not allow volume_extension:quotas:show to be performed.');
  const { state } = context;
  const live = [...state.volumes.values()].filter((volume) => volume.deletedAt === undefined);
  const inUse: Record<string, number> = { volumes: live.length, gigabytes: live.reduce((sum, volume) => sum + volume.size, 0) };
  const withUsage = context.query.get('usage') === 'true';
  const quotaSet = Object.fromEntries(
    Object.entries(CINDER_QUOTAS).map(([name, limit]) => [name, withUsage ? { limit, in_use: inUse[name] ?? 0, reserved: 0, allocated: 0 } : limit]),
  );
  return { status: 200, body: { quota_set: { id: PROJECT_ID, ...quotaSet } } };
};

export const novaQuotaRoutes: Route[] = [{ method: 'GET', path: /^\/limits$/, handle: novaLimits }];
export const neutronQuotaRoutes: Route[] = [{ method: 'GET', path: /^\/v2\.0\/quotas\/([^/]+)\/details$/, handle: neutronDetails }];
export const cinderQuotaRoutes: Route[] = [{ method: 'GET', path: /^\/os-quota-sets\/([^/]+)$/, handle: cinderQuotaSet }];
