/**
 * `?dryRun=true` with `PROVIDER=openstack`, through real HTTP against the contract OpenStack: the
 * plan answers the cloud's own quota (`cloudQuota`) and makes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ContractCloud } from '../contract/openstack/server.ts';
import { startTestStack } from '../support/stack.ts';

interface DryRunBody {
  valid: boolean;
  provider: string;
  cloudQuota?: { resources: Record<string, { limit: number; used: number; requested: number; headroom: number | null; fits: boolean }>; wouldExceed: string[]; fits: boolean };
  cloudQuotaUnavailable?: string;
}

const body = (workers: number) =>
  JSON.stringify({
    name: 'quota check',
    nodeGroups: [
      { name: 'master', role: 'master', count: 1, flavor: 'm1.small' },
      { name: 'worker', role: 'worker', count: workers, flavor: 'm1.medium' },
    ],
    network: { privateNetworks: 1, publicIp: 'master' },
  });

describe('PROVIDER=openstack dry run', () => {
  let cloud: ContractCloud;
  let stack: LocalStack;
  beforeAll(async () => {
    cloud = await new ContractCloud({ quotas: { instances: 4, cores: 64, ramMb: 65_536, floatingIps: 5 } }).start();
    stack = await startTestStack({ env: { PROVIDER: 'openstack' }, providerEnv: cloud.env() });
  });
  afterAll(async () => {
    await stack?.stop();
    await cloud?.close();
  });

  const dryRun = async (workers: number) => {
    const response = await fetch(`${stack.url}/v1/clusters?dryRun=true`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Token ${stack.token}` },
      body: body(workers),
    });
    return { status: response.status, body: (await response.json()) as DryRunBody };
  };

  it("answers the cloud's limits, usage and headroom for the plan, and that it fits", async () => {
    const { status, body: answer } = await dryRun(2);

    expect(status).toBe(200);
    expect(answer.provider).toBe('openstack');
    expect(answer.cloudQuota?.fits).toBe(true);
    expect(answer.cloudQuota?.resources.instances).toEqual({ limit: 4, used: 0, requested: 3, headroom: 1, fits: true });
    expect(answer.cloudQuota?.resources.cores).toEqual({ limit: 64, used: 0, requested: 5, headroom: 59, fits: true });
    expect(answer.cloudQuota?.resources.floatingIps).toMatchObject({ limit: 5, requested: 1, fits: true });
    expect(answer.cloudQuota?.resources.networks).toMatchObject({ requested: 1, fits: true });
  });

  it('still answers 200 for a plan the cloud would refuse, naming the resource, and makes nothing', async () => {
    const { status, body: answer } = await dryRun(4);

    expect(status).toBe(200);
    expect(answer.cloudQuota).toMatchObject({ fits: false, wouldExceed: ['instances'] });
    expect(answer.cloudQuota?.resources.instances).toMatchObject({ limit: 4, requested: 5, headroom: -1, fits: false });
    expect(cloud.calls('POST', /^\/servers$/, 'compute')).toEqual([]);
    expect(cloud.calls('POST', /./, 'network')).toEqual([]);
  });
});
