/**
 * Tag keys a client may not set on its servers: the service's own (which cluster, which
 * deployment, the node's role and name) and the prefix clouds reserve for themselves (`aws:`).
 * The service finds, scopes its IAM grants by and deletes resources through its own tags, so a
 * client tag must never replace or imitate one.
 *
 * Compared without case: EC2 keys are case-sensitive, but IAM matches the key of a tag condition
 * (`aws:ResourceTag/managed-by`) without case, so `Managed-By` could stand in for `managed-by`.
 */
const RESERVED_KEYS = ['name', 'managed-by'];
const RESERVED_PREFIXES = ['cluster-service:', 'aws:'];

export const isReservedTagKey = (key: string): boolean => {
  const lower = key.toLowerCase();
  return RESERVED_KEYS.includes(lower) || RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix));
};

/** Why a key is refused, for the 400's detail. */
export const RESERVED_TAG_MESSAGE = 'is reserved: Name, managed-by and keys starting with cluster-service: or aws: (in any case) are the service’s or the cloud’s own';

/** The client's tags without the reserved ones: what an adapter may put beside its own. */
export const clientTags = (tags: Record<string, string> | undefined): [string, string][] =>
  Object.entries(tags ?? {}).filter(([key]) => !isReservedTagKey(key));
