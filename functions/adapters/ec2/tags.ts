/**
 * The tags on everything provider `ec2` makes (docs/ec2-provider.md, "Tags"). Look-ups and
 * deletion go by the first two, never by ids remembered elsewhere, and the IAM policy is scoped
 * by the second.
 */
import type { Filter, Tag } from '@aws-sdk/client-ec2';
import type { Ec2Context } from './calls.ts';

export const CLUSTER_ID_TAG = 'cluster-service:cluster-id';
export const ROLE_TAG = 'cluster-service:role';
export const MANAGED_BY_TAG = 'managed-by';

export const tagValue = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((tag) => tag.Key === key)?.Value;

/** Which cluster and which deployment, then `extra`. */
export const clusterTags = (ctx: Ec2Context, clusterId: string, extra: Tag[] = []): Tag[] => [
  { Key: CLUSTER_ID_TAG, Value: clusterId },
  { Key: MANAGED_BY_TAG, Value: ctx.settings.serviceTag },
  ...extra,
];

export const clusterFilters = (ctx: Ec2Context, clusterId: string): Filter[] => [
  { Name: `tag:${CLUSTER_ID_TAG}`, Values: [clusterId] },
  { Name: `tag:${MANAGED_BY_TAG}`, Values: [ctx.settings.serviceTag] },
];
