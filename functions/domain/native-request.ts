/**
 * The native create request, `POST /v1/clusters` (docs/api.md): heterogeneous node groups,
 * security rules, and the image / key / user data / tags that cloud APIs take at server creation.
 * One strict zod schema: validation, the TypeScript type and the OpenAPI document.
 */
import { z } from 'zod';
import { PROVIDER_NAMES } from './providers.ts';
import { hostnameSchema, LIMITS, slug } from './compat-request.ts';
import { CONFIGURATION_RUNNERS, IP_ALLOCATIONS, MASTER_ROLE, type ClusterSpec } from './model.ts';
import { cidrFamily, hasHostBits } from './cidr.ts';
import { isReservedTagKey, RESERVED_TAG_MESSAGE } from './tags.ts';
import { PROFILE_NAMES } from './profiles.ts';

const between = (limit: { min: number; max: number }) => z.int().min(limit.min).max(limit.max);

const MAX_NODES = 1000;

/** Protocols whose rules name ports; an icmp or any rule allows the whole protocol. */
const PORT_PROTOCOLS: readonly string[] = ['tcp', 'udp'];

const securityRuleSchema = z
  .strictObject({
    direction: z.enum(['ingress', 'egress']),
    protocol: z.enum(['tcp', 'udp', 'icmp', 'any']),
    ethertype: z.enum(['IPv4', 'IPv6']).default('IPv4'),
    remoteIpPrefix: z
      .string()
      .max(64)
      .refine((prefix) => cidrFamily(prefix) !== null, 'must be a CIDR block such as 10.0.0.0/16')
      .refine((prefix) => !hasHostBits(prefix), 'must be a network address, with no bits set after the prefix length (10.0.0.0/8, not 10.0.0.1/8)'),
    portRangeMin: z.int().min(1).max(65_535).optional(),
    portRangeMax: z.int().min(1).max(65_535).optional(),
  })
  .superRefine((rule, ctx) => {
    // Absent ends are open: no min is from port 0, no max is up to 65535.
    if ((rule.portRangeMin ?? 0) > (rule.portRangeMax ?? 65_535)) {
      ctx.addIssue({ code: 'custom', path: ['portRangeMin'], message: 'portRangeMin must not be above portRangeMax' });
    }
    if (!PORT_PROTOCOLS.includes(rule.protocol)) {
      for (const field of ['portRangeMin', 'portRangeMax'] as const) {
        if (rule[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `ports apply to tcp and udp only; an ${rule.protocol} rule allows all of it` });
      }
    }
    // An IPv6 prefix under ethertype IPv4 would match nothing.
    const family = cidrFamily(rule.remoteIpPrefix);
    if (family !== null && family !== rule.ethertype) {
      ctx.addIssue({ code: 'custom', path: ['ethertype'], message: `the remoteIpPrefix is ${family}; set ethertype ${family}` });
    }
  });

const nodeGroupSchema = z
  .strictObject({
    name: hostnameSchema.max(40),
    role: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be lower-case letters, digits and hyphens, starting with a letter'),
    count: z.int().min(1).max(MAX_NODES),
    /** A provider flavor by name, instead of a size. */
    flavor: z.string().min(1).max(255).optional(),
    vcpus: between(LIMITS.vcpus).optional(),
    ramMb: between(LIMITS.ramMb).optional(),
    diskGb: between(LIMITS.diskGb).optional(),
  })
  .superRefine((group, ctx) => {
    const sized = [group.vcpus, group.ramMb, group.diskGb].filter((value) => value !== undefined).length;
    if (group.flavor !== undefined && sized > 0) {
      ctx.addIssue({ code: 'custom', path: ['flavor'], message: 'give either flavor or vcpus, ramMb and diskGb, not both' });
    } else if (group.flavor === undefined && sized < 3) {
      for (const field of ['vcpus', 'ramMb', 'diskGb'] as const) {
        if (group[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is required when no flavor is given' });
      }
    }
  });

const tagKey = z.string().regex(/^[A-Za-z0-9 +\-=._:/@]{1,128}$/, 'tag keys are 1–128 letters, digits, spaces or + - = . _ : / @');
const tagValue = z.string().regex(/^[A-Za-z0-9 +\-=._:/@]{0,256}$/, 'tag values are up to 256 letters, digits, spaces or + - = . _ : / @');

export const nativeCreateRequestSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(255),
    provider: z.enum(PROVIDER_NAMES).optional(),
    region: z.string().min(1).max(64).optional(),
    zone: z.string().min(1).max(64).optional(),
    image: z.string().min(1).max(255).optional(),
    keyName: z.string().min(1).max(255).optional(),
    userData: z.base64('must be base64').max(65_536).optional(),
    tags: z
      .record(tagKey, tagValue)
      .superRefine((tags, ctx) => {
        if (Object.keys(tags).length > 50) ctx.addIssue({ code: 'custom', message: 'at most 50 tags' });
        for (const key of Object.keys(tags)) {
          if (isReservedTagKey(key)) ctx.addIssue({ code: 'custom', path: [key], message: RESERVED_TAG_MESSAGE });
        }
      })
      .optional(),
    network: z
      .strictObject({
        privateNetworks: between(LIMITS.privateNetworks).default(1),
        publicIp: z.enum(IP_ALLOCATIONS).default('master'),
        securityRules: z.array(securityRuleSchema).max(50).default([]),
      })
      .superRefine((network, ctx) => {
        // Rules are applied to the cluster's private networks (security groups on ec2): none, nowhere to apply them.
        if (network.securityRules.length > 0 && network.privateNetworks === 0) {
          ctx.addIssue({ code: 'custom', path: ['securityRules'], message: 'security rules apply to the cluster’s private networks; ask for at least one' });
        }
      })
      .default({ privateNetworks: 1, publicIp: 'master', securityRules: [] }),
    nodeGroups: z.array(nodeGroupSchema).min(1).max(20),
    configuration: z
      .strictObject({
        profile: z.enum(PROFILE_NAMES).default('none'),
        parameters: z
          .record(
            // Extra vars outrank the inventory: `ansible_host` would take over the connection.
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/).refine((name) => !name.toLowerCase().startsWith('ansible_'), 'must not start with ansible_'),
            z.union([z.string().max(4096), z.number(), z.boolean()]),
          )
          .default({}),
        runner: z.enum(CONFIGURATION_RUNNERS).optional(),
      })
      .default({ profile: 'none', parameters: {} }),
    callbackUrl: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2048).optional(),
    onFailure: z.enum(['rollback', 'keep']).default('rollback'),
    ttlHours: z.int().min(1).max(24 * 365).optional(),
  })
  .superRefine((body, ctx) => {
    const masters = body.nodeGroups.filter((group) => group.role === MASTER_ROLE);
    if (masters.length !== 1 || masters[0]?.count !== 1) {
      ctx.addIssue({ code: 'custom', path: ['nodeGroups'], message: 'exactly one node group must have role master, with count 1' });
    }
    const names = body.nodeGroups.map((group) => group.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['nodeGroups', i, 'name'], message: `group name ${name} is used twice` });
    });
    const nodes = body.nodeGroups.reduce((sum, group) => sum + group.count, 0);
    if (nodes > MAX_NODES) ctx.addIssue({ code: 'custom', path: ['nodeGroups'], message: `at most ${MAX_NODES} nodes in all; this asks for ${nodes}` });
  });

export type NativeCreateRequest = z.infer<typeof nativeCreateRequestSchema>;

/**
 * The native body in the workflow's terms. Groups given by flavor take their size from the
 * provider (`flavorSize`), so quotas and plans count real vCPUs.
 */
export const nativeToSpec = (
  body: NativeCreateRequest,
  provider: string,
  flavorSize: (flavor: string, path: string) => { vcpus: number; ramMb: number; diskGb: number },
): ClusterSpec => ({
  name: body.name,
  provider,
  ...(body.region ? { region: body.region } : {}),
  ...(body.zone ? { zone: body.zone } : {}),
  ...(body.image ? { image: body.image } : {}),
  ...(body.keyName ? { keyName: body.keyName } : {}),
  ...(body.userData ? { userData: body.userData } : {}),
  ...(body.tags ? { tags: body.tags } : {}),
  nodeGroups: body.nodeGroups.map((group, i) => {
    const size = group.flavor
      ? flavorSize(group.flavor, `nodeGroups.${i}.flavor`)
      : { vcpus: group.vcpus ?? 0, ramMb: group.ramMb ?? 0, diskGb: group.diskGb ?? 0 };
    return {
      name: group.name,
      role: group.role,
      count: group.count,
      // Server names carry the cluster's name, so they say which cluster they belong to in any console.
      hostname: `${slug(body.name).slice(0, 20).replace(/-+$/, '')}-${group.name}`,
      ...(group.flavor ? { flavor: group.flavor } : {}),
      ...size,
    };
  }),
  network: body.network,
  configuration: body.configuration,
  ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
  onFailure: body.onFailure,
  ...(body.ttlHours ? { ttlHours: body.ttlHours } : {}),
});
