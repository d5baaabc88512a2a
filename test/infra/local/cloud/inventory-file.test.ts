import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalCloud, type LocalCloudOptions } from '../../../../infra/local/cloud/cloud.ts';
import { INVENTORY_FILE } from '../../../../infra/local/cloud/inventory-file.ts';

const T0 = Date.UTC(2025, 0, 1);

const requests = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i + 1}`, role: 'worker', flavor: 'c2r4096d20' }));

describe('LocalCloud persistence', () => {
  let dataDir: string;
  const clock = { now: T0 };
  const options = (): LocalCloudOptions => ({
    dataDir,
    apiLatencyMs: { min: 0, max: 0 },
    bootMs: { min: 1000, max: 1000 },
    deleteMs: { min: 200, max: 200 },
    now: () => clock.now,
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-cloud-'));
    clock.now = T0;
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows a second cloud on the same data directory the servers, addresses and states of the first', async () => {
    // Prepare
    const first = await LocalCloud.open(options());
    const networkIds = await first.createNetworks({ clusterId: 'c1', count: 1 });
    const servers = await first.createServers({ clusterId: 'c1', clientToken: 't1', networkIds, servers: requests('n', 2) });
    await first.allocatePublicIps({ clusterId: 'c1', serverIds: servers.map((server) => server.id) });
    await first.close();
    clock.now += 1000;

    // Act
    const second = await LocalCloud.open(options());
    const described = await second.describeServers({ clusterId: 'c1' });

    // Assess
    expect(second.listServers()).toEqual(first.listServers());
    expect(described.map((server) => server.id)).toEqual(servers.map((server) => server.id));
    expect(described.map((server) => server.state)).toEqual(['ACTIVE', 'ACTIVE']);
    expect(described.map((server) => server.privateIp)).toEqual(servers.map((server) => server.privateIp));
    expect(described.every((server) => server.publicIp !== null)).toBe(true);
    expect(await second.createNetworks({ clusterId: 'c1', count: 1 })).toEqual(networkIds);
  });

  it('remembers client tokens across a restart, so a retried create makes nothing', async () => {
    // Prepare
    const input = { clusterId: 'c1', clientToken: 'batch-1', networkIds: [], servers: requests('n', 3) };
    const first = await LocalCloud.open(options());
    const created = await first.createServers(input);
    await first.close();

    // Act
    const second = await LocalCloud.open(options());
    const retried = await second.createServers(input);

    // Assess
    expect(retried.map((server) => server.id)).toEqual(created.map((server) => server.id));
    expect(second.listServers()).toHaveLength(3);
  });

  it('carries a delete in progress across a restart and finishes it by the timestamps', async () => {
    // Prepare
    const first = await LocalCloud.open(options());
    await first.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 2) });
    await first.deleteCluster({ clusterId: 'c1' });
    await first.close();

    // Act
    const second = await LocalCloud.open(options());
    const deleting = second.listServers().map((server) => server.state);
    clock.now += 200;
    const { remaining } = await second.deleteCluster({ clusterId: 'c1' });

    // Assess
    expect(deleting).toEqual(['DELETING', 'DELETING']);
    expect(remaining).toBe(0);
    expect(second.listServers()).toEqual([]);
  });

  it('keeps every one of many concurrent mutations in the file, with no temp file left', async () => {
    // Prepare: latency spread so that writes start while others are still on their way to disk
    const first = await LocalCloud.open({ ...options(), apiLatencyMs: { min: 0, max: 30 } });

    // Act
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        first.createServers({ clusterId: `c${i}`, clientToken: `t${i}`, networkIds: [], servers: requests(`c${i}`, 2) }),
      ),
    );
    await first.close();
    const second = await LocalCloud.open(options());

    // Assess
    expect(second.listServers()).toHaveLength(40);
    expect(await readdir(dataDir)).toEqual([INVENTORY_FILE]);
    expect(JSON.parse(await readFile(path.join(dataDir, INVENTORY_FILE), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('keeps each server’s zone, image, key, user data and tags and each network’s rules across a restart, the user data once', async () => {
    // Prepare
    const userData = Buffer.from('x'.repeat(4096)).toString('base64');
    const rule = { direction: 'ingress' as const, protocol: 'tcp', ethertype: 'IPv4' as const, remoteIpPrefix: '192.0.2.0/24', portRangeMin: 443, portRangeMax: 443 };
    const first = await LocalCloud.open(options());
    const networkIds = await first.createNetworks({ clusterId: 'c1', count: 1, securityRules: [rule] });
    await first.createServers({
      clusterId: 'c1',
      clientToken: 't1',
      networkIds,
      servers: requests('n', 3),
      options: { zone: 'local-b', image: 'ubuntu-24.04', keyName: 'ops', userData, tags: { team: 'data' } },
    });
    await first.close();

    // Act
    const second = await LocalCloud.open(options());

    // Assess
    expect(second.listServers()).toEqual(first.listServers());
    expect(second.listServers()[0]).toMatchObject({ zone: 'local-b', image: 'ubuntu-24.04', keyName: 'ops', userData, tags: { team: 'data' }, securityRules: [rule] });
    expect(second.listNetworks()).toEqual(first.listNetworks());
    const file = await readFile(path.join(dataDir, INVENTORY_FILE), 'utf8');
    expect(file.split(userData)).toHaveLength(2);
  });

  it('forgets user data once no server has it any more', async () => {
    // Prepare
    const userData = Buffer.from('#!/bin/sh\n').toString('base64');
    const cloud = await LocalCloud.open(options());
    await cloud.createServers({ clusterId: 'c1', clientToken: 't1', networkIds: [], servers: requests('n', 1), options: { userData } });
    await cloud.deleteCluster({ clusterId: 'c1' });
    clock.now += 200;

    // Act
    await cloud.deleteCluster({ clusterId: 'c1' });
    await cloud.close();

    // Assess
    const saved = JSON.parse(await readFile(path.join(dataDir, INVENTORY_FILE), 'utf8')) as { servers: unknown[]; userData: unknown };
    expect(saved.servers).toEqual([]);
    expect(saved.userData).toEqual({});
  });

  it('loads an inventory written before servers had options and networks rules, showing the cloud’s defaults', async () => {
    // Prepare: a file as the cloud wrote it before, with none of the new fields
    const older = {
      version: 1,
      servers: [
        {
          id: 's-1',
          name: 'old-1',
          clusterId: 'c-old',
          role: 'worker',
          flavor: 'c2r4096d20',
          vcpus: 2,
          ports: [{ networkId: 'net-old', ip: '10.1.0.2' }],
          createdAtMs: T0 - 10_000,
          bootMs: 1000,
          fault: null,
          deletedAtMs: null,
          deleteMs: null,
        },
      ],
      networks: [{ id: 'net-old', clusterId: 'c-old', index: 0, subnet: 0, cidr: '10.1.0.0/20', createdAtMs: T0 - 10_000 }],
      addresses: [],
      clientTokens: [{ token: 't-old', clusterId: 'c-old', servers: [{ id: 's-1', name: 'old-1' }], createdAtMs: T0 - 10_000 }],
      configurations: [],
    };
    await writeFile(path.join(dataDir, INVENTORY_FILE), JSON.stringify(older));

    // Act
    const cloud = await LocalCloud.open(options());
    const described = await cloud.describeServers({ clusterId: 'c-old' });
    const again = await cloud.createNetworks({ clusterId: 'c-old', count: 1 });

    // Assess
    expect(described.map((server) => [server.id, server.state, server.privateIp])).toEqual([['s-1', 'ACTIVE', '10.1.0.2']]);
    expect(cloud.listServers()).toEqual([
      { id: 's-1', name: 'old-1', clusterId: 'c-old', state: 'ACTIVE', zone: 'local-a', image: 'debian-12', keyName: null, userData: null, tags: {}, securityRules: [] },
    ]);
    expect(again).toEqual(['net-old']);
    expect(cloud.listNetworks()).toEqual([{ id: 'net-old', clusterId: 'c-old', cidr: '10.1.0.0/20', securityRules: [] }]);
  });

  it('refuses to open a data directory whose inventory is not JSON, naming the file', async () => {
    // Prepare
    await writeFile(path.join(dataDir, INVENTORY_FILE), '{ not json');

    // Act
    const opening = LocalCloud.open(options());

    // Assess
    await expect(opening).rejects.toThrow(INVENTORY_FILE);
  });
});
