import { describe, expect, it } from 'vitest';
import { runStep, type StepDeps } from '#use-cases/workflow/index';
import { providerRegistry } from '#domain/providers';
import type { CloudProvider, ConfigurationCluster, ConfigurationStatus } from '#domain/provider';
import { clusterRecord } from '../../support/clusters.ts';
import { storeCluster } from '../../support/dynamodb.ts';
import { stepTablePerTest } from '../../support/step-deps.ts';

const CLUSTER_ID = '35380a49-aae4-4935-9844-dfd6737b8c51';

/** A provider whose runs go through stages: describing a finished stage hands back the next one's id. */
const stagedProvider = (answers: Record<string, ConfigurationStatus>) => {
  const described: string[] = [];
  const started: { cluster?: ConfigurationCluster }[] = [];
  const provider = {
    name: 'local',
    maxBatchSize: 10,
    timings: { expectedBootSeconds: 1, expectedConfigurationSeconds: 1 },
    startConfiguration: async (input: { cluster?: ConfigurationCluster }) => {
      started.push(input);
      return 'run:prepare';
    },
    describeConfiguration: async (input: { configurationId: string }) => {
      described.push(input.configurationId);
      const answer = answers[input.configurationId];
      if (!answer) throw new Error(`no answer for ${input.configurationId}`);
      return answer;
    },
  } as unknown as CloudProvider;
  return { provider, described, started };
};


const steps = stepTablePerTest();
const depsFor = steps.depsFor;

const server = { id: 'i-1', name: 'analytics-master', role: 'master', group: 'master', flavor: 'm', state: 'ACTIVE' as const, privateIp: '10.0.1.5', publicIp: null };

describe('a configuration run in stages', () => {
  it('records the id a describe moved the run on to, so the next check describes the new stage', async () => {
    // Prepare
    const { provider, described, started } = stagedProvider({
      'run:prepare': { state: 'RUNNING', component: 'common', configurationId: 'run:authorize' },
      'run:authorize': { state: 'RUNNING', component: 'common', configurationId: 'run:run' },
      'run:run': { state: 'SUCCEEDED', component: 'flink' },
    });
    const { record } = await storeCluster(steps.table, clusterRecord({ id: CLUSTER_ID, status: 'PROVISIONING', phase: 'allocate-ips', servers: [server] }));
    const deps = depsFor(provider);

    // Act
    await runStep(deps, { step: 'configure', clusterId: CLUSTER_ID });
    const afterStart = (await record()).configurationId;
    const checked = await runStep(deps, { step: 'check-configuration', clusterId: CLUSTER_ID });
    const afterCheck = (await record()).configurationId;
    const done = await runStep(deps, { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    expect(afterStart).toBe('run:authorize');
    expect(afterCheck).toBe('run:run');
    expect(checked).toMatchObject({ done: false });
    expect(done).toMatchObject({ done: true });
    expect(described).toEqual(['run:prepare', 'run:authorize', 'run:run']);
    // The provider gets the record to build its inventory from.
    expect(started[0]?.cluster).toMatchObject({ id: CLUSTER_ID, attempt: 1, servers: [server] });
  });

  it('keeps the recorded id when a describe names none (every provider but a staged run)', async () => {
    const { provider } = stagedProvider({ 'run:prepare': { state: 'RUNNING', component: 'common' } });
    const { record } = await storeCluster(steps.table, clusterRecord({ id: CLUSTER_ID, status: 'CONFIGURING', phase: 'configure:common', servers: [server], configurationId: 'run:prepare' }));

    await runStep(depsFor(provider), { step: 'check-configuration', clusterId: CLUSTER_ID });

    expect((await record()).configurationId).toBe('run:prepare');
  });

  it('continues a run whose describe names the next stage, once, and records the id it continued under', async () => {
    // Prepare
    const continued: string[] = [];
    const { provider, described } = stagedProvider({
      'run:prepare': { state: 'RUNNING', component: 'common', nextStage: 'authorize' },
      'run:authorize': { state: 'RUNNING', component: 'common' },
    });
    const staged = {
      ...provider,
      continueConfiguration: async (input: { configurationId: string }): Promise<ConfigurationStatus> => {
        continued.push(input.configurationId);
        return { state: 'RUNNING', component: 'common', configurationId: 'run:authorize' };
      },
    } as CloudProvider;
    const { record } = await storeCluster(steps.table, clusterRecord({ id: CLUSTER_ID, status: 'CONFIGURING', phase: 'configure:common', servers: [server], configurationId: 'run:prepare' }));

    // Act
    const checked = await runStep(depsFor(staged), { step: 'check-configuration', clusterId: CLUSTER_ID });
    await runStep(depsFor(staged), { step: 'check-configuration', clusterId: CLUSTER_ID });

    // Assess
    expect(checked).toMatchObject({ done: false });
    expect(described).toEqual(['run:prepare', 'run:authorize']);
    expect(continued).toEqual(['run:prepare']);
    expect((await record()).configurationId).toBe('run:authorize');
  });
});
