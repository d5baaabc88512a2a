/**
 * The cloud's own quota for a plan (the dry run's `cloudQuota`): Nova's absolute limits, Neutron's
 * quota details and, where the catalog has Cinder, its quota set with usage. Every call only reads.
 */
import type { CloudQuotaAmount } from '#domain/cloud-quota';
import type { CloudQuotaInput } from '#domain/provider';
import type { Flavor } from './compute.ts';
import { bootVolumeGb, flavorNamed } from './flavors.ts';
import type { Session } from './http.ts';
import { wantedRules } from './security-rules.ts';

/** Nova's `GET /limits` `absolute` fields this reads. */
interface NovaAbsolute {
  maxTotalInstances?: number;
  totalInstancesUsed?: number;
  maxTotalCores?: number;
  totalCoresUsed?: number;
  maxTotalRAMSize?: number;
  totalRAMUsed?: number;
}

interface NeutronQuotaDetail {
  limit: number;
  used: number;
  reserved?: number;
}

interface CinderQuotaDetail {
  limit: number;
  in_use: number;
  reserved?: number;
}

/** Neutron's quota names, by the names the report uses. */
const NEUTRON: Record<string, string> = {
  floatingIps: 'floatingip',
  networks: 'network',
  subnets: 'subnet',
  routers: 'router',
  ports: 'port',
  securityGroups: 'security_group',
  securityGroupRules: 'security_group_rule',
};

/** The rules Neutron gives a new security group by itself (allow-all egress, IPv4 and IPv6). */
const DEFAULT_GROUP_RULES = 2;

export interface QuotaContext {
  session: Session;
  flavors: readonly Flavor[];
  /** Whether the deployment names an external network (a router and floating IPs need one). */
  externalNetwork: boolean;
}

/** The group's rules once made: Neutron's default egress (unless the spec's egress rules replace it) and the wanted ones. */
const groupRules = (input: CloudQuotaInput): number => {
  const { add, removeDefaultEgress } = wantedRules('planned', input.securityRules);
  return add.length + (removeDefaultEgress ? 0 : DEFAULT_GROUP_RULES);
};

/** What the plan would make, per resource of the report. */
export const requestedByPlan = (context: Omit<QuotaContext, 'session'>, input: CloudQuotaInput): Record<string, number> => {
  const sized = input.servers.map((server) => ({ server, flavor: flavorNamed(context.flavors, server.flavor) }));
  const volumes = sized
    .map(({ server, flavor }) => (flavor ? bootVolumeGb(flavor, server.diskGb, 0) : undefined))
    .filter((gb): gb is number => gb !== undefined);
  const networks = input.privateNetworks;
  const router = networks > 0 && context.externalNetwork ? 1 : 0;
  return {
    instances: input.servers.length,
    cores: sized.reduce((sum, { flavor }) => sum + (flavor?.vcpus ?? 0), 0),
    ramMb: sized.reduce((sum, { flavor }) => sum + (flavor?.ramMb ?? 0), 0),
    floatingIps: input.servers.filter((server) => server.publicIp).length,
    networks,
    subnets: networks,
    routers: router,
    // A port per server on each network (one on the cloud's own network without any), and the router's on the first subnet.
    ports: input.servers.length * Math.max(networks, 1) + router,
    securityGroups: networks > 0 ? 1 : 0,
    securityGroupRules: networks > 0 ? groupRules(input) : 0,
    volumes: volumes.length,
    gigabytes: volumes.reduce((sum, gb) => sum + gb, 0),
  };
};

const amount = (limit: number | undefined, used: number | undefined, requested: number): CloudQuotaAmount | undefined =>
  typeof limit === 'number' ? { limit, used: used ?? 0, requested } : undefined;

/**
 * Limits and usage per resource the cloud counts: Nova's always, Neutron's where it has the
 * quota-details extension (404 otherwise: left out), Cinder's where the catalog lists it.
 */
export const describeQuota = async (context: QuotaContext, input: CloudQuotaInput): Promise<Record<string, CloudQuotaAmount>> => {
  const { session } = context;
  const requested = requestedByPlan(context, input);
  const { projectId } = await session.identity.token();
  const result: Record<string, CloudQuotaAmount | undefined> = {};

  const nova = await session.call<{ limits: { absolute: NovaAbsolute } }>('compute', 'GET', '/limits');
  const absolute = nova.body.limits.absolute;
  result.instances = amount(absolute.maxTotalInstances, absolute.totalInstancesUsed, requested.instances ?? 0);
  result.cores = amount(absolute.maxTotalCores, absolute.totalCoresUsed, requested.cores ?? 0);
  result.ramMb = amount(absolute.maxTotalRAMSize, absolute.totalRAMUsed, requested.ramMb ?? 0);

  const neutron = await session.call<{ quota: Record<string, NeutronQuotaDetail> }>('network', 'GET', `/quotas/${projectId}/details`, { expect: [404] });
  if (neutron.status === 200) {
    for (const [name, key] of Object.entries(NEUTRON)) {
      const detail = neutron.body.quota[key];
      result[name] = amount(detail?.limit, detail ? detail.used + (detail.reserved ?? 0) : undefined, requested[name] ?? 0);
    }
  }

  if (await session.has('volume')) {
    const cinder = await session.call<{ quota_set: Record<string, CinderQuotaDetail | string> }>('volume', 'GET', `/os-quota-sets/${projectId}`, { query: { usage: 'true' } });
    for (const name of ['volumes', 'gigabytes']) {
      const detail = cinder.body.quota_set[name];
      if (detail && typeof detail === 'object') result[name] = amount(detail.limit, detail.in_use + (detail.reserved ?? 0), requested[name] ?? 0);
    }
  }
  return Object.fromEntries(Object.entries(result).filter((entry): entry is [string, CloudQuotaAmount] => entry[1] !== undefined));
};
