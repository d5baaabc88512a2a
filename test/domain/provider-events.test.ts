import { describe, expect, it } from 'vitest';
import { nodeSecret } from '#domain/node-agents';
import { PROVIDER_EVENTS_SECRET, providerEventsSecret, providerEventsSecretMatches, readProviderEvent } from '#domain/provider-events';

const KEY = 'k'.repeat(64);
const CLUSTER = 'c0ffee00-0000-4000-8000-000000000007';

describe('a cluster’s callback secret', () => {
  it('is the cluster’s own, of the form the route accepts, and not its node secret', () => {
    const secret = providerEventsSecret(KEY, CLUSTER);

    expect(secret).toMatch(PROVIDER_EVENTS_SECRET);
    expect(secret).not.toBe(nodeSecret(KEY, CLUSTER));
    expect(providerEventsSecretMatches(KEY, CLUSTER, secret)).toBe(true);
    expect(providerEventsSecretMatches(KEY, 'c0ffee00-0000-4000-8000-000000000008', secret)).toBe(false);
    expect(providerEventsSecretMatches('other-key', CLUSTER, secret)).toBe(false);
    expect(providerEventsSecretMatches(KEY, CLUSTER, nodeSecret(KEY, CLUSTER))).toBe(false);
    expect(providerEventsSecretMatches(KEY, CLUSTER, '')).toBe(false);
  });
});

describe('reading the cloud’s event', () => {
  it('finds the VM and its change under resource and operation, at the top level or under data', () => {
    expect(readProviderEvent({ resource: { id: 1001, name: 'cs-x-master', status: 'ACTIVE' }, operation: { name: 'createVM', status: 'SUCCESS' } })).toEqual({
      serverId: '1001',
      name: 'cs-x-master',
      operation: 'createVM',
      status: 'ACTIVE',
    });
    expect(readProviderEvent({ id: 7, status: 'ERROR', action: 'create' })).toEqual({ serverId: '7', status: 'ERROR', operation: 'create' });
    expect(readProviderEvent({ data: { id: '9', status: 'DELETED' } })).toEqual({ serverId: '9', status: 'DELETED' });
  });

  it('keeps only short plain words: nothing else the caller sends reaches the timeline', () => {
    const hostile = readProviderEvent({ resource: { id: 1.5, name: 'x'.repeat(65), status: 'ACTIVE\n<script>' }, operation: { name: { nested: true } } });
    expect(hostile).toEqual({});
  });
});
