/** The dry run's `cloudQuota`: the openstack provider against the contract OpenStack, a slow cloud, a provider without quota. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatToSpec } from '#domain/compat-request';
import { providerRegistry } from '#domain/providers';
import { dryRun, type DryRunDeps } from '#use-cases/dry-run';
import { LocalCloud, LocalCloudProvider } from '../../infra/local/cloud/index.ts';
import { connect, contractCloud } from '../adapters/openstack/support.ts';
import { seedRequest } from '../support/clusters.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';
import { GENEROUS_QUOTA } from '../support/workflow.ts';

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table?.stop();
});

const depsWith = (providers: DryRunDeps['providers'], cloudQuotaTimeoutMs = 2000): DryRunDeps => ({
  quotas: table.quotas,
  providers,
  quotaDefaults: GENEROUS_QUOTA,
  pollSeconds: 1,
  cloudQuotaTimeoutMs,
});

describe('dryRun cloudQuota', () => {
  it("answers the openstack cloud's quota for the seed's plan, and which resources it would exceed", async () => {
    // Prepare
    const cloud = await contractCloud({ quotas: { instances: 1, cores: 20 } });
    const { provider } = await connect(cloud);

    // Act
    const answer = await dryRun(depsWith(providerRegistry([provider])), 'alpha', compatToSpec(seedRequest(), 'openstack'));

    // Assess
    expect(answer).toMatchObject({ cloudQuota: { fits: false, wouldExceed: ['instances'] } });
    expect(answer).not.toHaveProperty('cloudQuotaUnavailable');
  });

  it('answers the plan without cloudQuota, saying why, when the cloud does not answer in time', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { provider } = await connect(cloud);
    cloud.inject({ service: 'compute', path: /^\/limits$/, fault: { kind: 'hang' } });

    // Act
    const answer = await dryRun(depsWith(providerRegistry([provider]), 200), 'alpha', compatToSpec(seedRequest(), 'openstack'));

    // Assess
    expect(answer).toMatchObject({ valid: true, provider: 'openstack', cloudQuotaUnavailable: 'the cloud did not answer its quota within 200 ms' });
    expect(answer).not.toHaveProperty('cloudQuota');
  });

  it("answers the plan without cloudQuota, naming the cloud's refusal, when the cloud refuses", async () => {
    // Prepare
    const cloud = await contractCloud();
    const { provider } = await connect(cloud);
    cloud.inject({ service: 'network', path: /^\/v2\.0\/quotas\//, fault: { kind: 'status', status: 400, body: { NeutronError: { type: 'BadRequest', message: 'Bad quota request', detail: '' } } } });

    // Act
    const answer = await dryRun(depsWith(providerRegistry([provider])), 'alpha', compatToSpec(seedRequest(), 'openstack'));

    // Assess
    expect(answer).not.toHaveProperty('cloudQuota');
    expect((answer as { cloudQuotaUnavailable?: string }).cloudQuotaUnavailable).toMatch(/^the cloud's quota could not be read \(.*Bad quota request/);
  });

  it('says a provider that does not answer its quota does not', async () => {
    // Act
    const answer = await dryRun(depsWith(providerRegistry([new LocalCloudProvider(await LocalCloud.open())])), 'alpha', compatToSpec(seedRequest(), 'local'));

    // Assess
    expect(answer).toMatchObject({ cloudQuotaUnavailable: "provider local does not answer its cloud's quota" });
  });
});
