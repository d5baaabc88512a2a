/**
 * What provider `ec2` can honour of a spec's options (docs/ec2-provider.md, "The spec's
 * options"), checked before a cluster is recorded; the calls that make things refuse the same.
 */
import type { ErrorDetail } from '#domain/errors';
import type { ProviderSpecOptions } from '#domain/provider';
import { clientTags } from '#domain/tags';
import type { Ec2Settings } from './settings.ts';

/** EC2 takes 50 tags per resource; an instance carries four of the provider's (cluster id, managed-by, role, Name). */
export const MAX_CLIENT_TAGS = 50 - 4;
/** EC2's limit on user data, before base64. */
const MAX_USER_DATA_BYTES = 16_384;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export const regionMessage = (wanted: string, region: string): string => `region ${wanted} is not served here: this deployment's ec2 provider works in ${region}`;

export const EGRESS_MESSAGE = 'ec2 applies ingress rules only: the cluster’s security groups already allow all egress, and narrowing it would cut the nodes off from SSM';

/**
 * What EC2 or this provider would refuse: another region (when the settings name one), a zone
 * outside it, an image that is not an AMI id, user data over 16 KiB, more tags than fit beside
 * the provider's own, egress rules (a security group allows all egress already). Whether the
 * deployment has a subnet in the zone is known only when servers are made (`InvalidZone`).
 */
export const checkSpecOptions = (settings: Ec2Settings, input: ProviderSpecOptions): ErrorDetail[] => {
  const { options } = input;
  const region = settings.region;
  const details: ErrorDetail[] = [];
  if (options.region !== undefined && region !== undefined && options.region !== region) {
    details.push({ path: 'region', message: regionMessage(options.region, region) });
  }
  if (options.zone !== undefined && region !== undefined && !options.zone.startsWith(region)) {
    details.push({ path: 'zone', message: `must be an Availability Zone of ${region}, such as ${region}a` });
  }
  if (options.image !== undefined && !AMI_ID.test(options.image)) {
    details.push({ path: 'image', message: 'must be an AMI id (ami-…) on ec2' });
  }
  if (options.userData !== undefined && Buffer.from(options.userData, 'base64').length > MAX_USER_DATA_BYTES) {
    details.push({ path: 'userData', message: `EC2 takes at most ${MAX_USER_DATA_BYTES} bytes of user data (before base64)` });
  }
  if (clientTags(options.tags).length > MAX_CLIENT_TAGS) {
    details.push({ path: 'tags', message: `at most ${MAX_CLIENT_TAGS} on ec2: an instance takes 50 tags, and the service puts 4 of its own` });
  }
  input.securityRules.forEach((rule, i) => {
    if (rule.direction !== 'ingress') details.push({ path: `network.securityRules.${i}.direction`, message: EGRESS_MESSAGE });
  });
  return details;
};
