/**
 * The ~okeanos "Lambda on Demand" create request (the seed service's call, docs/api.md), byte
 * for byte: every field of the seed's body, all required, nothing else accepted. The service's
 * own field list names `ram_master` twice; the second row is `ram_slave`, as its example shows.
 */
import { z } from 'zod';
import { IP_ALLOCATIONS, MASTER_ROLE, WORKER_ROLE, type ClusterSpec, type ConfigurationRunner, type NodeGroup } from './model.ts';

/** Limits of one node's size, shared with the native schema. */
export const LIMITS = {
  vcpus: { min: 1, max: 64 },
  ramMb: { min: 512, max: 262_144 },
  diskGb: { min: 5, max: 16_384 },
  workers: { min: 0, max: 1_000 },
  privateNetworks: { min: 0, max: 8 },
} as const;

const between = (limit: { min: number; max: number }) => z.int().min(limit.min).max(limit.max);

/** A host name label (RFC 1123): what a cloud accepts as a server name. */
export const hostnameSchema = z
  .string()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, 'must be a host name: letters, digits and inner hyphens, at most 63 characters');

export const compatCreateRequestSchema = z.strictObject({
  project_name: z.string().trim().min(1).max(255),
  instance_name: z.string().trim().min(1).max(255),
  master_name: hostnameSchema,
  slaves: between(LIMITS.workers),
  vcpus_master: between(LIMITS.vcpus),
  vcpus_slave: between(LIMITS.vcpus),
  ram_master: between(LIMITS.ramMb),
  ram_slave: between(LIMITS.ramMb),
  disk_master: between(LIMITS.diskGb),
  disk_slave: between(LIMITS.diskGb),
  ip_allocation: z.enum(IP_ALLOCATIONS),
  network_request: between(LIMITS.privateNetworks),
});

export type CompatCreateRequest = z.infer<typeof compatCreateRequestSchema>;

/** The body of the seed's curl example, field for field (documentation and examples). */
/** The seed service's `POST /backend/lambda-instances/{uuid}`: start or stop a lambda instance. */
export const compatActionRequestSchema = z.strictObject({
  action: z.enum(['start', 'stop'], 'must be start or stop'),
});
export type CompatActionRequest = z.infer<typeof compatActionRequestSchema>;

export const SEED_EXAMPLE: Readonly<CompatCreateRequest> = Object.freeze({
  project_name: 'lambda.grnet.gr',
  instance_name: 'My first Lambda Instance',
  network_request: 1,
  master_name: 'lambda-master',
  vcpus_master: 4,
  disk_slave: 40,
  slaves: 1,
  ram_slave: 4096,
  ram_master: 4096,
  vcpus_slave: 4,
  ip_allocation: 'master',
  disk_master: 40,
});

/** A host-name-safe form of a free-text name, used to name worker servers. */
export const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '') || 'cluster';

/** The seed's request in the provider-neutral terms the workflow works with. */
export const compatToSpec = (request: CompatCreateRequest, provider: string, runner: ConfigurationRunner = 'ssm'): ClusterSpec => {
  const groups: NodeGroup[] = [
    {
      name: 'master',
      role: MASTER_ROLE,
      count: 1,
      hostname: request.master_name,
      vcpus: request.vcpus_master,
      ramMb: request.ram_master,
      diskGb: request.disk_master,
    },
  ];
  if (request.slaves > 0) {
    groups.push({
      name: 'slaves',
      role: WORKER_ROLE,
      count: request.slaves,
      hostname: `${slug(request.instance_name)}-slave`,
      vcpus: request.vcpus_slave,
      ramMb: request.ram_slave,
      diskGb: request.disk_slave,
    });
  }
  return {
    name: request.instance_name,
    provider,
    nodeGroups: groups,
    network: { privateNetworks: request.network_request, publicIp: request.ip_allocation },
    configuration: { profile: 'lambda', runner },
    onFailure: 'rollback',
  };
};
