import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatToSpec } from '#domain/compat-request';
import { QuotaExceeded } from '#domain/errors';
import type { Workflows } from '#domain/workflow';
import { createCluster } from '#use-cases/create-cluster';
import { MAX_LIMIT, setQuota, showQuota, type QuotaOutput, type QuotaView } from '../../infra/cli/quotas.ts';
import { UsageError } from '../../infra/cli/tokens.ts';
import { seedRequest } from '../support/clusters.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';
import { GENEROUS_QUOTA } from '../support/workflow.ts';

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.stop();
});

/** The tests share one table: each works in projects of its own. */
const newProject = () => `q-${randomBytes(4).toString('hex')}`;

const capture = () => {
  const lines: string[] = [];
  const warnings: string[] = [];
  const out: QuotaOutput = { line: (text) => lines.push(...text.split('\n')), warn: (text) => warnings.push(text) };
  return { lines, warnings, out, text: () => lines.join('\n') };
};

const LOCAL_DEFAULTS = { vcpus: 4096, servers: 2000, clusters: 2000 };

/** Records clusters without running anything: the quota is all these tests look at. */
const NO_WORKFLOWS: Workflows = {
  executionIdFor: (kind, name) => `arn:aws:states:local:000000000000:execution:${kind}:${name}`,
  start: async () => undefined,
  stop: async () => ({ settleSeconds: 0 }),
};

/** A create through the use case the API and the events share: the seed's body, 2 servers of 4 vCPUs. */
const createSeedCluster = (project: string) =>
  createCluster({ clusters: table.clusters, quotas: table.quotas, workflows: NO_WORKFLOWS, quotaDefaults: GENEROUS_QUOTA }, { project, spec: compatToSpec(seedRequest(), 'local'), request: { ...seedRequest() } });

const show = async (project: string, defaults: typeof LOCAL_DEFAULTS | null = null) => {
  const output = capture();
  const view = await showQuota(table.quotas, { project }, output.out, defaults);
  return { view, output };
};

describe('quotas show', () => {
  it('shows a project with no quota item as nothing used and every limit default, without a number for a deployed table', async () => {
    // Prepare
    const project = newProject();

    // Act
    const { view, output } = await show(project);

    // Assess
    expect(view).toEqual({
      project,
      vcpus: { used: 0, limit: null, source: 'default' },
      servers: { used: 0, limit: null, source: 'default' },
      clusters: { used: 0, limit: null, source: 'default' },
    });
    expect(output.lines.map((line) => line.split(/\s+/))).toEqual([
      ['project', project],
      ['RESOURCE', 'USED', 'LIMIT'],
      ['vcpus', '0', 'default'],
      ['servers', '0', 'default'],
      ['clusters', '0', 'default'],
      expect.arrayContaining(['default:', "deployment's", 'QUOTA_MAX_*']),
    ]);
  });

  it('shows the usage of the project’s clusters, its own limits, and for the local stack the defaults’ values', async () => {
    // Prepare
    const project = newProject();
    await createSeedCluster(project);
    await table.quotas.setLimits(project, { servers: 10 });

    // Act
    const { view, output } = await show(project, LOCAL_DEFAULTS);

    // Assess
    expect(view).toEqual({
      project,
      vcpus: { used: 8, limit: 4096, source: 'default' },
      servers: { used: 2, limit: 10, source: 'project' },
      clusters: { used: 1, limit: 2000, source: 'default' },
    });
    expect(output.lines.slice(2)).toEqual([
      'vcpus     8     default (4096)',
      'servers   2     10',
      'clusters  1     default (2000)',
      expect.stringMatching(/^default: .*QUOTA_MAX_\* applies, shown as this environment sets it/),
    ]);
  });

  it('leaves out the note on defaults when every limit is the project’s own', async () => {
    const project = newProject();
    await table.quotas.setLimits(project, { vcpus: 1, servers: 2, clusters: 3 });

    const { output } = await show(project);

    expect(output.lines.at(-1)).toMatch(/^clusters\s+0\s+3$/);
  });

  it('with --json prints one object: project, and used, limit and source for each resource', async () => {
    // Prepare
    const project = newProject();
    await table.quotas.setLimits(project, { clusters: 4 });
    const output = capture();

    // Act
    await showQuota(table.quotas, { project, json: true }, output.out, null);

    // Assess
    expect(JSON.parse(output.text())).toEqual({
      project,
      vcpus: { used: 0, limit: null, source: 'default' },
      servers: { used: 0, limit: null, source: 'default' },
      clusters: { used: 0, limit: 4, source: 'project' },
    } satisfies QuotaView);
  });

  it.each([
    ['missing', undefined],
    ['with a space', 'a b'],
  ])('refuses a project name %s with a usage error naming --project', async (_, project) => {
    const attempt = showQuota(table.quotas, { project }, capture().out, null);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/--project/);
  });
});

describe('quotas set', () => {
  it('sets limits that show then reads back, and says what the limits are now', async () => {
    // Prepare
    const project = newProject();
    const output = capture();

    // Act
    await setQuota(table.quotas, { project, vcpus: '64', clusters: '0' }, output.out);

    // Assess
    expect(output.lines).toEqual([`limits of project ${project} now: vcpus 64, servers default, clusters 0`]);
    expect(output.warnings).toEqual([]);
    const { view } = await show(project);
    expect([view.vcpus, view.servers, view.clusters]).toEqual([
      { used: 0, limit: 64, source: 'project' },
      { used: 0, limit: null, source: 'default' },
      { used: 0, limit: 0, source: 'project' },
    ]);
  });

  it('keeps the limits it is not given', async () => {
    const project = newProject();
    await setQuota(table.quotas, { project, vcpus: '64', clusters: '5' }, capture().out);

    await setQuota(table.quotas, { project, servers: '20' }, capture().out);
    await setQuota(table.quotas, { project, vcpus: '32' }, capture().out);

    expect((await table.quotas.get(project)).limits).toEqual({ vcpus: 32, servers: 20, clusters: 5 });
  });

  it('--reset removes just the named limits, so the defaults apply to them again', async () => {
    // Prepare
    const project = newProject();
    await setQuota(table.quotas, { project, vcpus: '64', servers: '20', clusters: '5' }, capture().out);
    const output = capture();

    // Act
    await setQuota(table.quotas, { project, reset: 'vcpus, clusters' }, output.out);

    // Assess
    expect(output.lines).toEqual([`limits of project ${project} now: vcpus default, servers 20, clusters default`]);
    expect((await table.quotas.get(project)).limits).toEqual({ servers: 20 });
    const { view } = await show(project, LOCAL_DEFAULTS);
    expect(view.vcpus).toEqual({ used: 0, limit: 4096, source: 'default' });
  });

  it('sets some limits and resets others in one command', async () => {
    const project = newProject();
    await setQuota(table.quotas, { project, vcpus: '64', servers: '20' }, capture().out);

    await setQuota(table.quotas, { project, clusters: '3', reset: 'servers' }, capture().out);

    expect((await table.quotas.get(project)).limits).toEqual({ vcpus: 64, clusters: 3 });
  });

  it(`accepts 0 and ${MAX_LIMIT}, the bounds`, async () => {
    const project = newProject();

    await setQuota(table.quotas, { project, vcpus: '0', servers: String(MAX_LIMIT) }, capture().out);

    expect((await table.quotas.get(project)).limits).toEqual({ vcpus: 0, servers: MAX_LIMIT });
  });

  it.each([
    ['vcpus', '-1'],
    ['servers', '1.5'],
    ['clusters', '1e3'],
    ['vcpus', ''],
    ['servers', ' 5'],
    ['clusters', '+5'],
    ['vcpus', 'ten'],
    ['servers', String(MAX_LIMIT + 1)],
  ] as const)('refuses --%s %j with a usage error naming the flag, and writes nothing', async (resource, value) => {
    // Prepare
    const project = newProject();
    await table.quotas.setLimits(project, { vcpus: 7 });
    const output = capture();

    // Act
    const attempt = setQuota(table.quotas, { project, clusters: '2', [resource]: value }, output.out);

    // Assess
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(new RegExp(`^--${resource} must be a whole number from 0 to ${MAX_LIMIT}`));
    expect(output.lines).toEqual([]);
    expect((await table.quotas.get(project)).limits).toEqual({ vcpus: 7 });
  });

  it('refuses a command that names no resource', async () => {
    const attempt = setQuota(table.quotas, { project: newProject() }, capture().out);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow('quotas set needs at least one of --vcpus, --servers, --clusters or --reset');
  });

  it.each(['cpus', 'servers,memory', '', 'servers,'])('refuses --reset %j naming --reset and the resources it takes', async (reset) => {
    const project = newProject();
    await table.quotas.setLimits(project, { servers: 7 });

    const attempt = setQuota(table.quotas, { project, reset }, capture().out);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/^--reset takes vcpus, servers or clusters/);
    expect((await table.quotas.get(project)).limits).toEqual({ servers: 7 });
  });

  it('refuses to set and reset the same resource', async () => {
    const attempt = setQuota(table.quotas, { project: newProject(), servers: '3', reset: 'vcpus,servers' }, capture().out);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow('--reset servers and --servers contradict each other');
  });

  it('refuses a missing project with a usage error naming --project', async () => {
    const attempt = setQuota(table.quotas, { vcpus: '3' }, capture().out);

    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/--project/);
  });
});

describe('a limit set below the usage', () => {
  it('is set with a warning naming that resource only; the clusters stay, and the next create is refused with QuotaExceeded', async () => {
    // Prepare: two seed clusters hold 16 vCPUs, 4 servers, 2 clusters.
    const project = newProject();
    const existing = [await createSeedCluster(project), await createSeedCluster(project)];
    const output = capture();

    // Act
    const record = await setQuota(table.quotas, { project, vcpus: '24', servers: '3', clusters: '2' }, output.out);
    const refused = await createSeedCluster(project).catch((error: unknown) => error);

    // Assess
    expect(record.usage).toEqual({ vcpus: 16, servers: 4, clusters: 2 });
    expect(output.warnings).toEqual([expect.stringMatching(/^the servers limit 3 is below the current usage of project q-\w+ \(4\): .*403 QuotaExceeded/)]);
    expect(refused).toBeInstanceOf(QuotaExceeded);
    // At the limit is not below it (no warning), but leaves no room for another cluster either.
    expect((refused as QuotaExceeded).details.map((detail) => detail.path)).toEqual(['servers', 'clusters']);
    for (const cluster of existing) expect((await table.clusters.getCluster(cluster.id))?.status).toBe('PENDING');
    expect((await table.quotas.get(project)).usage).toEqual(record.usage);
  });

  it('no longer refuses a create once the limit is reset to the default', async () => {
    // Prepare
    const project = newProject();
    await createSeedCluster(project);
    await setQuota(table.quotas, { project, clusters: '1' }, capture().out);
    await expect(createSeedCluster(project)).rejects.toBeInstanceOf(QuotaExceeded);

    // Act
    await setQuota(table.quotas, { project, reset: 'clusters' }, capture().out);
    const created = await createSeedCluster(project);

    // Assess
    expect(created.project).toBe(project);
    expect((await table.quotas.get(project)).usage.clusters).toBe(2);
  });
});
