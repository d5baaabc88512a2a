import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '#use-cases/tokens';
import { expireClusters } from '#use-cases/change-cluster';
import { ROUTES } from '../../infra/routes.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';
import type { LocalCloudOptions } from '../../infra/local/cloud/index.ts';
import { seedRequest } from '../support/clusters.ts';
import { api, nativeBody, waitForCluster, type ClusterBody } from '../support/http.ts';

const startStack = (cloud: LocalCloudOptions = {}) => startTestStack({ cloud });

/** A token of a fresh project, so each test sees only its own clusters and quota. */
const projectToken = async (stack: LocalStack, project: string) => (await issueToken(stack.stores.tokens, { project })).token;

/** The fields of a lambda instance in the seed service's family, in its order. */
const COMPAT_INSTANCE_FIELDS = [
  'uuid', 'name', 'status', 'instance_name', 'project_name', 'master_name', 'slaves', 'vcpus_master', 'vcpus_slave', 'ram_master', 'ram_slave',
  'disk_master', 'disk_slave', 'ip_allocation', 'network_request', 'master_ip', 'failure_message', 'created_at', 'updated_at',
];

const inventoryOf = (stack: LocalStack, clusterId: string) => stack.cloud.listServers().filter((server) => server.clusterId === clusterId);

describe('the cluster lifecycle over real HTTP', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('POST /v1/clusters', () => {
    it('answers 202 {id, status, links} with a Location, and the cluster reaches ACTIVE', async () => {
      const token = await projectToken(stack, 'native');

      const created = await api<{ id: string; status: string; links: { self: string } }>(stack, token, 'POST', '/v1/clusters', {
        body: nativeBody(2, { network: { publicIp: 'all' } }),
      });

      expect(created.status).toBe(202);
      expect(created.body).toMatchObject({ status: 'PENDING', links: { self: `/v1/clusters/${created.body.id}` } });
      expect(created.headers.get('location')).toBe(`/v1/clusters/${created.body.id}`);
      const cluster = await waitForCluster(stack, token, created.body.id, ['ACTIVE', 'FAILED']);
      expect(cluster.status).toBe('ACTIVE');
      expect(cluster.servers.map((s) => s.name)).toEqual(['analytics-master', 'analytics-worker-1', 'analytics-worker-2']);
      expect(cluster.servers.every((s) => s.publicIp !== null)).toBe(true);
      expect(cluster.servers.map((s) => s.configuration)).toEqual([{ state: 'SUCCEEDED' }, { state: 'SUCCEEDED' }, { state: 'SUCCEEDED' }]);
    });

    it.each([
      ['no master group', { name: 'x', nodeGroups: [{ name: 'w', role: 'worker', count: 2, vcpus: 1, ramMb: 1024, diskGb: 10 }] }, 'nodeGroups'],
      ['a flavor and a size at once', nativeBody(0, { nodeGroups: [{ name: 'm', role: 'master', count: 1, flavor: 'c1r1024d10', vcpus: 1 }] }), 'nodeGroups.0.flavor'],
      ['a size with a field missing', nativeBody(0, { nodeGroups: [{ name: 'm', role: 'master', count: 1, vcpus: 1, ramMb: 1024 }] }), 'nodeGroups.0.diskGb'],
      ['an unknown field', nativeBody(1, { colour: 'red' }), 'colour'],
      ['an unknown field in a group', nativeBody(0, { nodeGroups: [{ name: 'm', role: 'master', count: 1, vcpus: 1, ramMb: 1024, diskGb: 10, gpu: 1 }] }), 'nodeGroups.0.gpu'],
      ['a bad public IP policy', nativeBody(1, { network: { publicIp: 'some' } }), 'network.publicIp'],
      ['a callback that is not a URL', nativeBody(1, { callbackUrl: 'not a url' }), 'callbackUrl'],
      ['a provider this deployment lacks', nativeBody(1, { provider: 'ec2' }), 'provider'],
      ['a flavor the provider lacks', nativeBody(0, { nodeGroups: [{ name: 'm', role: 'master', count: 1, flavor: 'm1.huge' }] }), 'nodeGroups.0.flavor'],
      ['a tag key the service keeps for itself', nativeBody(1, { tags: { 'managed-by': 'someone-else' } }), 'tags.managed-by'],
      ['a zone the cloud lacks', nativeBody(1, { zone: 'mars-1a' }), 'zone'],
      ['security rules without a private network', nativeBody(1, { network: { privateNetworks: 0, securityRules: [{ direction: 'ingress', protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' }] } }), 'network.securityRules'],
    ])('answers 400 naming the field for %s, and creates nothing', async (_, body, path) => {
      const token = await projectToken(stack, `invalid-${path}`);

      const response = await api<{ error: { code: string; details: { path: string }[] } }>(stack, token, 'POST', '/v1/clusters', { body });

      expect(response.status).toBe(400);
      expect(response.body.error.details.map((d) => d.path)).toContain(path);
      const list = await api<{ items: unknown[] }>(stack, token, 'GET', '/v1/clusters');
      expect(list.body.items).toEqual([]);
    });

    it('accepts a group given by flavor and sizes it from the provider', async () => {
      const token = await projectToken(stack, 'by-flavor');

      const response = await api(stack, token, 'POST', '/v1/clusters?dryRun=true', {
        body: nativeBody(0, { nodeGroups: [{ name: 'm', role: 'master', count: 1, flavor: 'c8r16384d100' }] }),
      });

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ nodes: [{ flavor: 'c8r16384d100', vcpus: 8, ramMb: 16384, diskGb: 100 }] });
    });

    it('answers a dry run with the plan, the quota headroom and an estimate, and makes nothing', async () => {
      const token = await projectToken(stack, 'dry-run');
      const before = stack.cloud.listServers().length;

      const response = await api<Record<string, unknown>>(stack, token, 'POST', '/v1/clusters?dryRun=true', { body: nativeBody(3) });

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        valid: true,
        provider: 'local',
        batches: 1,
        wouldExceedQuota: [],
        quota: { servers: { requested: 4, used: 0 }, vcpus: { requested: 5 }, clusters: { requested: 1 } },
      });
      expect((response.body.nodes as unknown[]).length).toBe(4);
      expect(response.body.estimatedSecondsToActive).toBeGreaterThan(0);
      expect((await api<{ items: unknown[] }>(stack, token, 'GET', '/v1/clusters')).body.items).toEqual([]);
      expect(stack.cloud.listServers().length).toBe(before);
    });
  });

  describe('the spec’s server options', () => {
    it('puts the native body’s zone, image, key, user data, tags and security rules on every server of the cluster, as the cloud lists them', async () => {
      const token = await projectToken(stack, 'options');
      const userData = Buffer.from('#!/bin/sh\necho "hello from $(hostname)" > /tmp/hello\n').toString('base64');
      const securityRules = [
        { direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 },
        { direction: 'ingress', protocol: 'icmp', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' },
      ];
      const body = nativeBody(2, {
        region: 'local',
        zone: 'local-c',
        image: 'rocky-9',
        keyName: 'ops',
        userData,
        tags: { team: 'data', 'cost-centre': 'cc-42' },
        network: { privateNetworks: 2, securityRules },
      });

      const created = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body });
      const cluster = await waitForCluster(stack, token, created.body.id, ['ACTIVE', 'FAILED']);
      const inventory = await api<{ items: Record<string, unknown>[] }>(stack, token, 'GET', '/_local/cloud/servers');

      expect(created.status).toBe(202);
      expect(cluster.status).toBe('ACTIVE');
      const servers = inventory.body.items.filter((item) => item.clusterId === created.body.id);
      expect(servers.map((server) => server.name).sort()).toEqual(['analytics-master', 'analytics-worker-1', 'analytics-worker-2']);
      for (const server of servers) {
        expect(server).toMatchObject({
          state: 'ACTIVE',
          zone: 'local-c',
          image: 'rocky-9',
          keyName: 'ops',
          userData,
          tags: { team: 'data', 'cost-centre': 'cc-42' },
          securityRules: [
            { ...securityRules[0], ethertype: 'IPv4' },
            { ...securityRules[1] },
          ],
        });
      }
    });
  });

  describe('quotas', () => {
    it('refuses with 403 QuotaExceeded naming the resource, before anything is made', async () => {
      const token = await projectToken(stack, 'small-quota');
      await stack.stores.quotas.setLimits('small-quota', { servers: 3 });

      const response = await api<{ error: { code: string; details: { path: string }[] } }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(3) });

      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('QuotaExceeded');
      expect(response.body.error.details.map((d) => d.path)).toEqual(['servers']);
      expect((await api<{ items: unknown[] }>(stack, token, 'GET', '/v1/clusters')).body.items).toEqual([]);
    });

    it('lets exactly as many concurrent creates through as the quota holds', async () => {
      const token = await projectToken(stack, 'race');
      await stack.stores.quotas.setLimits('race', { clusters: 2 });

      const responses = await Promise.all(Array.from({ length: 6 }, () => api(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) })));

      expect(responses.map((r) => r.status).sort()).toEqual([202, 202, 403, 403, 403, 403]);
      expect((await stack.stores.quotas.get('race')).usage.clusters).toBe(2);
    });

    it('gives the quota back when the cluster is destroyed', async () => {
      const token = await projectToken(stack, 'released');
      const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1) });
      await waitForCluster(stack, token, body.id, ['ACTIVE']);
      expect((await stack.stores.quotas.get('released')).usage).toEqual({ vcpus: 3, servers: 2, clusters: 1 });

      await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
      await waitForCluster(stack, token, body.id, ['DESTROYED']);

      expect((await stack.stores.quotas.get('released')).usage).toEqual({ vcpus: 0, servers: 0, clusters: 0 });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer for the same key and body', async () => {
      const token = await projectToken(stack, 'idem');
      const headers = { 'Idempotency-Key': 'order-42' };

      const first = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1), headers });
      const second = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1), headers });

      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
    });

    it('answers 409 for the same key with another body', async () => {
      const token = await projectToken(stack, 'idem-conflict');
      const headers = { 'Idempotency-Key': 'order-43' };
      await api(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1), headers });

      const other = await api<{ error: { code: string } }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(2), headers });

      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('Conflict');
    });

    it('makes exactly one cluster from simultaneous requests with one key', async () => {
      const token = await projectToken(stack, 'idem-race');
      const headers = { 'Idempotency-Key': 'simultaneous' };

      const responses = await Promise.all(Array.from({ length: 5 }, () => api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0), headers })));

      expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect((await api<{ items: unknown[] }>(stack, token, 'GET', '/v1/clusters')).body.items).toHaveLength(1);
    });

    it('keeps one project’s keys apart from another’s', async () => {
      const alpha = await projectToken(stack, 'idem-a');
      const beta = await projectToken(stack, 'idem-b');
      const headers = { 'Idempotency-Key': 'shared-name' };

      const a = await api<{ id: string }>(stack, alpha, 'POST', '/v1/clusters', { body: nativeBody(0), headers });
      const b = await api<{ id: string }>(stack, beta, 'POST', '/v1/clusters', { body: nativeBody(0), headers });

      expect(b.status).toBe(202);
      expect(b.body.id).not.toBe(a.body.id);
    });

    it('refuses a key over 64 characters, naming the header', async () => {
      const token = await projectToken(stack, 'idem-long');

      const response = await api<{ error: { details: { path: string }[] } }>(stack, token, 'POST', '/v1/clusters', {
        body: nativeBody(0),
        headers: { 'Idempotency-Key': 'k'.repeat(65) },
      });

      expect(response.status).toBe(400);
      expect(response.body.error.details.map((d) => d.path)).toEqual(['Idempotency-Key']);
    });
  });

  describe('query parameters', () => {
    it.each([
      ['POST', '/v1/clusters?dryrun=true', 'dryrun'],
      ['POST', '/backend/create_lambda_instance?dryRun=true', 'dryRun'],
      ['POST', '/backend/create_lambda_instance?verbose=1', 'verbose'],
    ])('answers %s %s with 400 naming the parameter, and creates nothing', async (method, path, parameter) => {
      const token = await projectToken(stack, `query-${parameter}-${path.length}`);
      const body = path.startsWith('/backend') ? seedRequest() : nativeBody(1);

      const response = await api<{ error: { details: { path: string }[] } }>(stack, token, method, path, { body });
      const listed = await api<{ items: unknown[] }>(stack, token, 'GET', '/v1/clusters');

      expect(response.status).toBe(400);
      expect(response.body.error.details.map((d) => d.path)).toEqual([parameter]);
      expect(listed.body.items).toEqual([]);
    });

    it.each([
      ['GET', '/v1/clusters/00000000-0000-4000-8000-000000000000?x=1'],
      ['GET', '/v1/clusters/00000000-0000-4000-8000-000000000000/events?x=1'],
      ['DELETE', '/v1/clusters/00000000-0000-4000-8000-000000000000?x=1'],
      ['POST', '/v1/clusters/00000000-0000-4000-8000-000000000000/retry?x=1'],
      ['GET', '/backend/lambda-instances/00000000-0000-4000-8000-000000000000?x=1'],
      ['GET', '/backend/lambda-instances/00000000-0000-4000-8000-000000000000/status?x=1'],
      ['DELETE', '/backend/lambda-instances/00000000-0000-4000-8000-000000000000?x=1'],
      ['GET', '/v1/openapi.json?x=1'],
      ['GET', '/v1/webhook-secret?x=1'],
    ])('answers %s %s with 400 naming the unknown parameter', async (method, path) => {
      const token = await projectToken(stack, 'query-unknown');

      const response = await api<{ error: { details: { path: string }[] } }>(stack, token, method, path);

      expect(response.status).toBe(400);
      expect(response.body.error.details.map((d) => d.path)).toEqual(['x']);
    });

    it('answers 400 naming a dryRun that is neither true nor false', async () => {
      const token = await projectToken(stack, 'query-dry-run');

      const response = await api<{ error: { details: { path: string }[] } }>(stack, token, 'POST', '/v1/clusters?dryRun=yes', { body: nativeBody(1) });

      expect(response.status).toBe(400);
      expect(response.body.error.details.map((d) => d.path)).toEqual(['dryRun']);
    });
  });

  describe('reading', () => {
    it('lists only the project’s clusters, newest first, page by page, and by status', async () => {
      const token = await projectToken(stack, 'lister');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) })).body.id);
      for (const id of ids) await waitForCluster(stack, token, id, ['ACTIVE']);
      await api(stack, token, 'DELETE', `/v1/clusters/${ids[0]}`);
      await waitForCluster(stack, token, ids[0] ?? '', ['DESTROYED']);
      const other = await projectToken(stack, 'lister-other');

      const first = await api<{ items: { id: string }[]; nextToken?: string }>(stack, token, 'GET', '/v1/clusters?limit=2');
      const second = await api<{ items: { id: string }[]; nextToken?: string }>(
        stack,
        token,
        'GET',
        `/v1/clusters?limit=2&nextToken=${encodeURIComponent(first.body.nextToken ?? '')}`,
      );
      const active = await api<{ items: { id: string }[] }>(stack, token, 'GET', '/v1/clusters?status=ACTIVE');
      const theirs = await api<{ items: unknown[] }>(stack, other, 'GET', '/v1/clusters');

      expect([...first.body.items, ...second.body.items].map((c) => c.id)).toEqual([...ids].reverse());
      expect(active.body.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
      expect(theirs.body.items).toEqual([]);
    });

    it.each([
      ['base64url of {}', 'e30'],
      ['base64url of a made-up key', Buffer.from(JSON.stringify({ pk: 'CLUSTER#x', sk: 'META' })).toString('base64url')],
      ['not base64url at all', '%%%'],
      ['an empty value', ''],
    ])('answers 400 naming nextToken for a crafted token (%s) on both list routes, never a 500', async (_case, nextToken) => {
      const token = await projectToken(stack, 'crafted-token');
      await api(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) });
      const query = `limit=1&nextToken=${encodeURIComponent(nextToken)}`;

      const native = await api<{ error: { details: { path: string }[] } }>(stack, token, 'GET', `/v1/clusters?${query}`);
      const compat = await api<{ error: { details: { path: string }[] } }>(stack, token, 'GET', `/backend/lambda-instances?${query}`);

      expect([native.status, compat.status]).toEqual([400, 400]);
      expect(native.body.error.details.map((d) => d.path)).toEqual(['nextToken']);
      expect(compat.body.error.details.map((d) => d.path)).toEqual(['nextToken']);
    });

    it('answers 400 naming nextToken for a token of another project, or of another status filter', async () => {
      const token = await projectToken(stack, 'token-owner');
      const thief = await projectToken(stack, 'token-thief');
      for (let i = 0; i < 2; i++) await api(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) });
      const first = await api<{ nextToken?: string }>(stack, token, 'GET', '/v1/clusters?limit=1');
      const issued = encodeURIComponent(first.body.nextToken ?? '');

      const foreign = await api<{ error: { details: { path: string }[] } }>(stack, thief, 'GET', `/v1/clusters?limit=1&nextToken=${issued}`);
      const refiltered = await api<{ error: { details: { path: string }[] } }>(stack, token, 'GET', `/v1/clusters?limit=1&status=FAILED&nextToken=${issued}`);
      const own = await api<{ items: unknown[] }>(stack, token, 'GET', `/v1/clusters?limit=1&nextToken=${issued}`);

      expect(first.body.nextToken).toBeTypeOf('string');
      expect([foreign.status, refiltered.status, own.status]).toEqual([400, 400, 200]);
      expect(foreign.body.error.details.map((d) => d.path)).toEqual(['nextToken']);
      expect(refiltered.body.error.details.map((d) => d.path)).toEqual(['nextToken']);
      expect(own.body.items).toHaveLength(1);
    });

    it('answers 400 naming a bad query parameter', async () => {
      const token = await projectToken(stack, 'bad-query');

      const response = await api<{ error: { details: { path: string }[] } }>(stack, token, 'GET', '/v1/clusters?status=RUNNING&limit=500');

      expect(response.status).toBe(400);
      expect(response.body.error.details.map((d) => d.path).sort()).toEqual(['limit', 'status']);
    });

    it('answers the timeline in order', async () => {
      const token = await projectToken(stack, 'timeline');
      const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(1) });
      await waitForCluster(stack, token, body.id, ['ACTIVE']);

      const events = await api<{ items: { at: string; status: string; phase: string; message: string }[] }>(stack, token, 'GET', `/v1/clusters/${body.id}/events`);

      expect(events.status).toBe(200);
      expect(events.body.items[0]).toMatchObject({ status: 'PENDING', phase: 'accepted' });
      expect(events.body.items.at(-1)).toMatchObject({ status: 'ACTIVE', phase: 'ready' });
      const times = events.body.items.map((e) => e.at);
      expect([...times].sort()).toEqual(times);
    });
  });

  describe('the seed service’s family', () => {
    it('lists, reads, reports the status of and destroys a lambda instance in its own terms', async () => {
      const token = await projectToken(stack, 'compat');
      const created = await api<{ uuid: string }>(stack, token, 'POST', '/backend/create_lambda_instance/', { body: { ...seedRequest(), slaves: 2 } });
      const uuid = created.body.uuid;
      await waitForCluster(stack, token, uuid, ['ACTIVE']);

      const list = await api<{ results: { uuid: string; status: string }[]; next: string | null }>(stack, token, 'GET', '/backend/lambda-instances');
      const one = await api<Record<string, unknown>>(stack, token, 'GET', `/backend/lambda-instances/${uuid}`);
      const status = await api(stack, token, 'GET', `/backend/lambda-instances/${uuid}/status`);
      const deleted = await api(stack, token, 'DELETE', `/backend/lambda-instances/${uuid}`);
      await waitForCluster(stack, token, uuid, ['DESTROYED']);
      const after = await api(stack, token, 'GET', `/backend/lambda-instances/${uuid}/status`);

      expect(list.body).toEqual({ results: [expect.objectContaining({ uuid, status: 'STARTED' })], next: null });
      // The family's answers are a fixed contract: the native per-node results stay out of them.
      expect(Object.keys(one.body)).toEqual(COMPAT_INSTANCE_FIELDS);
      expect(Object.keys(list.body.results[0] ?? {})).toEqual(COMPAT_INSTANCE_FIELDS);
      expect(JSON.stringify(one.body)).not.toContain('configuration');
      expect(one.body).toMatchObject({ uuid, status: 'STARTED', instance_name: 'My first Lambda Instance', master_name: 'lambda-master', slaves: 2 });
      expect(one.body.master_ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(status.body).toEqual({ uuid, status: 'STARTED' });
      expect(deleted.status).toBe(202);
      expect(deleted.body).toEqual({ uuid, status: 'DESTROYING' });
      expect(after.body).toEqual({ uuid, status: 'DESTROYED' });
      expect(inventoryOf(stack, uuid)).toEqual([]);
    });

    it('pages the list with a next link', async () => {
      const token = await projectToken(stack, 'compat-pages');
      for (let i = 0; i < 3; i++) await api(stack, token, 'POST', '/backend/create_lambda_instance', { body: { ...seedRequest(), slaves: 0 } });

      const first = await api<{ results: unknown[]; next: string | null }>(stack, token, 'GET', '/backend/lambda-instances?limit=2');
      const second = await api<{ results: unknown[]; next: string | null }>(stack, token, 'GET', first.body.next ?? '');

      expect(first.body.results).toHaveLength(2);
      expect(second.body.results).toHaveLength(1);
      expect(second.body.next).toBeNull();
    });
  });

  describe('DELETE /v1/clusters/{id}', () => {
    it('destroys an ACTIVE cluster: DESTROYING, then DESTROYED with an empty inventory', async () => {
      const token = await projectToken(stack, 'destroy-active');
      const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(2) });
      await waitForCluster(stack, token, body.id, ['ACTIVE']);

      const response = await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
      const cluster = await waitForCluster(stack, token, body.id, ['DESTROYED', 'FAILED']);

      expect(response.status).toBe(202);
      expect(response.body).toMatchObject({ id: body.id, status: 'DESTROYING' });
      expect(cluster.status).toBe('DESTROYED');
      expect(cluster.servers.every((s) => s.state === 'DELETED')).toBe(true);
      expect(inventoryOf(stack, body.id)).toEqual([]);
    });

    it('is idempotent: a second DELETE answers 202 and starts nothing new', async () => {
      const token = await projectToken(stack, 'destroy-twice');
      const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) });
      await waitForCluster(stack, token, body.id, ['ACTIVE']);

      const first = await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
      const second = await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
      await waitForCluster(stack, token, body.id, ['DESTROYED']);
      const third = await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);

      expect([first.status, second.status, third.status]).toEqual([202, 202, 202]);
      expect(third.body).toMatchObject({ status: 'DESTROYED' });
      const events = await api<{ items: { phase: string }[] }>(stack, token, 'GET', `/v1/clusters/${body.id}/events`);
      expect(events.body.items.filter((e) => e.phase === 'destroy-requested')).toHaveLength(1);
    });

    it('answers 404 to another project, and leaves the cluster alone', async () => {
      const owner = await projectToken(stack, 'owner');
      const stranger = await projectToken(stack, 'stranger');
      const { body } = await api<{ id: string }>(stack, owner, 'POST', '/v1/clusters', { body: nativeBody(0) });

      const deleted = await api(stack, stranger, 'DELETE', `/v1/clusters/${body.id}`);
      const retried = await api(stack, stranger, 'POST', `/v1/clusters/${body.id}/retry`);
      const read = await api(stack, stranger, 'GET', `/v1/clusters/${body.id}/events`);
      const compat = await api(stack, stranger, 'DELETE', `/backend/lambda-instances/${body.id}`);

      expect([deleted.status, retried.status, read.status, compat.status]).toEqual([404, 404, 404, 404]);
      expect((await waitForCluster(stack, owner, body.id, ['ACTIVE'])).status).toBe('ACTIVE');
    });

    it('answers 409 to a retry of a cluster that has not failed', async () => {
      const token = await projectToken(stack, 'retry-active');
      const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) });
      await waitForCluster(stack, token, body.id, ['ACTIVE']);

      const response = await api<{ error: { code: string } }>(stack, token, 'POST', `/v1/clusters/${body.id}/retry`);

      expect(response.status).toBe(409);
    });
  });

  it('destroys clusters whose ttlHours have passed', async () => {
    const token = await projectToken(stack, 'ttl');
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0, { ttlHours: 1 }) });
    const { body: keeper } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(0) });
    await waitForCluster(stack, token, body.id, ['ACTIVE']);

    const expired = await expireClusters({
      clusters: stack.stores.clusters,
      quotas: stack.stores.quotas,
      workflows: stack.workflows,
      quotaDefaults: { vcpus: 4096, servers: 2000, clusters: 2000 },
      now: () => new Date(Date.now() + 61 * 60_000),
    });

    expect(expired).toContain(body.id);
    expect(expired).not.toContain(keeper.id);
    expect((await waitForCluster(stack, token, body.id, ['DESTROYED'])).status).toBe('DESTROYED');
  });

  it('serves an OpenAPI 3 document covering every route', async () => {
    const response = await api<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(stack, stack.token, 'GET', '/v1/openapi.json');

    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    for (const route of ROUTES) expect(response.body.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    const compatSchema = (response.body as unknown as { components: { schemas: { CompatCreateRequest: { required: string[] } } } }).components.schemas.CompatCreateRequest;
    expect(compatSchema.required.sort()).toEqual(Object.keys(seedRequest()).sort());
  });
});

describe('destroying a cluster that is still provisioning', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack({ bootMs: { min: 1500, max: 1500 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('stops the provision workflow and leaves no server behind', async () => {
    const token = await projectToken(stack, 'mid-flight');
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(4) });
    for (let i = 0; i < 200 && inventoryOf(stack, body.id).length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(inventoryOf(stack, body.id)).toHaveLength(5);

    const response = await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
    const cluster = await waitForCluster(stack, token, body.id, ['DESTROYED', 'FAILED']);
    await new Promise((r) => setTimeout(r, 300));

    expect(response.status).toBe(202);
    expect(cluster.status).toBe('DESTROYED');
    expect(inventoryOf(stack, body.id)).toEqual([]);
    expect(stack.workflows.execution('provision', body.id)?.status).toBe('ABORTED');
  });
});

describe('retrying a FAILED cluster', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // A cloud with room for 6 servers: a second cluster fails until the first is gone.
    stack = await startStack({ maxServers: 6 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('resumes as a new attempt and reaches ACTIVE once the cause is gone', async () => {
    const token = await projectToken(stack, 'retry');
    const first = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(2) });
    await waitForCluster(stack, token, first.body.id, ['ACTIVE']);
    const second = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(3) });
    const failed = await waitForCluster(stack, token, second.body.id, ['FAILED', 'ACTIVE']);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'QuotaExceeded', step: 'create-servers' });

    await api(stack, token, 'DELETE', `/v1/clusters/${first.body.id}`);
    await waitForCluster(stack, token, first.body.id, ['DESTROYED']);
    const retried = await api<{ status: string; attempt: number }>(stack, token, 'POST', `/v1/clusters/${second.body.id}/retry`);
    const cluster = await waitForCluster(stack, token, second.body.id, ['ACTIVE', 'FAILED']);

    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ status: 'PENDING', attempt: 2 });
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.error).toBeUndefined();
    expect(inventoryOf(stack, second.body.id)).toHaveLength(4);
  });
});

describe('onFailure: keep', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack({ failPattern: /keep-worker-2$/ });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('leaves the failed cluster’s servers for debugging, until it is destroyed', async () => {
    const token = await projectToken(stack, 'keeper');
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(2, { name: 'keep', onFailure: 'keep' }) });

    const failed: ClusterBody = await waitForCluster(stack, token, body.id, ['FAILED', 'ACTIVE']);
    const kept = inventoryOf(stack, body.id);
    await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
    await waitForCluster(stack, token, body.id, ['DESTROYED']);

    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('ServerBootFailed');
    expect(failed.servers.map((s) => s.state).sort()).toEqual(['ACTIVE', 'ACTIVE', 'ERROR']);
    expect(kept).toHaveLength(3);
    expect(inventoryOf(stack, body.id)).toEqual([]);
  });
});

describe('per-node configuration results', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack({ configFailPattern: /nodes-worker-2$/ });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('shows the node whose configuration failed as FAILED on the kept cluster, with why', async () => {
    const token = await projectToken(stack, 'node-results');
    const { body } = await api<{ id: string }>(stack, token, 'POST', '/v1/clusters', { body: nativeBody(2, { name: 'nodes', onFailure: 'keep', configuration: { profile: 'lambda' } }) });

    const failed = await waitForCluster(stack, token, body.id, ['FAILED', 'ACTIVE']);
    await api(stack, token, 'DELETE', `/v1/clusters/${body.id}`);
    const destroyed = await waitForCluster(stack, token, body.id, ['DESTROYED']);

    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('ConfigurationFailed');
    const results = Object.fromEntries(failed.servers.map((s) => [s.name, s.configuration]));
    expect(results['nodes-worker-2']).toEqual({ state: 'FAILED', message: expect.stringMatching(/^hdfs failed/) });
    expect(results['nodes-master']?.state).toBe('RUNNING');
    expect(results['nodes-worker-1']?.state).toBe('RUNNING');
    // Destroying leaves the last run's results as they were.
    expect(destroyed.servers.map((s) => s.configuration)).toEqual(failed.servers.map((s) => s.configuration));
  });
});
