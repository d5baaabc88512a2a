import { describe, expect, it } from 'vitest';
import { compatCreateRequestSchema, compatToSpec, SEED_EXAMPLE } from '#domain/compat-request';
import { issuesToDetails } from '#domain/validation';
import { seedRequest } from '../support/clusters.ts';

const SEED_FIELDS = [
  'project_name',
  'instance_name',
  'master_name',
  'slaves',
  'vcpus_master',
  'vcpus_slave',
  'ram_master',
  'ram_slave',
  'disk_master',
  'disk_slave',
  'ip_allocation',
  'network_request',
] as const;

const fieldsOfError = (body: unknown): string[] => {
  const result = compatCreateRequestSchema.safeParse(body);
  if (result.success) return [];
  return issuesToDetails(result.error.issues, body).map((detail) => detail.path);
};

/** The -d argument of the seed's curl example, as the README's quick start prints it. */
const SEED_CURL_BODY =
  '{"project_name": "lambda.grnet.gr", "instance_name": "My first Lambda Instance", "network_request": 1, "master_name": "lambda-master", "vcpus_master": 4, "disk_slave": 40, "slaves": 1, "ram_slave": 4096, "ram_master": 4096, "vcpus_slave": 4, "ip_allocation": "master", "disk_master": 40}';

describe('the compat create request schema', () => {
  it('has the seed’s curl body as its example, field for field', () => {
    expect(SEED_EXAMPLE).toEqual(JSON.parse(SEED_CURL_BODY));
  });

  it('accepts the seed curl example as it is', () => {
    const result = compatCreateRequestSchema.safeParse(seedRequest());
    expect(result.success).toBe(true);
  });

  it.each(SEED_FIELDS)('requires %s and names it when missing', (field) => {
    const body: Record<string, unknown> = { ...seedRequest() };
    delete body[field];
    const result = compatCreateRequestSchema.safeParse(body);
    expect(result.success).toBe(false);
    const details = result.success ? [] : issuesToDetails(result.error.issues, body);
    expect(details).toEqual([{ path: field, message: 'is required' }]);
  });

  it('refuses an unknown field and names it', () => {
    expect(fieldsOfError({ ...seedRequest(), flavor: 'big' })).toEqual(['flavor']);
  });

  it.each([
    ['slaves', -1],
    ['slaves', 1001],
    ['slaves', 1.5],
    ['slaves', '3'],
    ['vcpus_master', 0],
    ['vcpus_slave', 65],
    ['ram_master', 256],
    ['ram_slave', 262_145],
    ['disk_master', 4],
    ['disk_slave', 16_385],
    ['network_request', -1],
    ['network_request', 9],
    ['ip_allocation', 'some'],
    ['ip_allocation', 'MASTER'],
    ['master_name', 'has space'],
    ['master_name', '-leading-hyphen'],
    ['master_name', 'a'.repeat(64)],
    ['instance_name', ''],
    ['instance_name', '   '],
    ['project_name', 'p'.repeat(256)],
  ])('refuses %s = %j and names the field', (field, value) => {
    expect(fieldsOfError({ ...seedRequest(), [field]: value })).toEqual([field]);
  });

  it.each(['none', 'master', 'all'])('accepts ip_allocation %s', (policy) => {
    expect(compatCreateRequestSchema.safeParse({ ...seedRequest(), ip_allocation: policy }).success).toBe(true);
  });

  it('names every bad field at once', () => {
    expect(fieldsOfError({ ...seedRequest(), slaves: -2, ram_slave: 'lots' }).sort()).toEqual(['ram_slave', 'slaves']);
  });
});

describe('the seed request as a cluster spec', () => {
  it('makes one master of the master sizes and `slaves` workers of the slave sizes', () => {
    const spec = compatToSpec({ ...seedRequest(), slaves: 3, vcpus_slave: 2, ram_slave: 2048, disk_slave: 20 }, 'local');
    expect(spec.nodeGroups).toEqual([
      { name: 'master', role: 'master', count: 1, hostname: 'lambda-master', vcpus: 4, ramMb: 4096, diskGb: 40 },
      { name: 'slaves', role: 'worker', count: 3, hostname: 'my-first-lambda-instance-slave', vcpus: 2, ramMb: 2048, diskGb: 20 },
    ]);
    expect(spec.network).toEqual({ privateNetworks: 1, publicIp: 'master' });
    expect(spec.provider).toBe('local');
  });

  it('has no worker group when slaves is 0', () => {
    const spec = compatToSpec({ ...seedRequest(), slaves: 0 }, 'local');
    expect(spec.nodeGroups.map((group) => group.role)).toEqual(['master']);
  });
});
