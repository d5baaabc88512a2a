import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { StepFunctionsWorkflows } from '#adapters/sfn-workflow';
import { LocalCloud, LocalCloudProvider } from '../../infra/local/cloud/index.ts';
import { providerRegistry } from '#domain/providers';
import { createClusterHandler } from '../../functions/create-cluster/index.ts';
import { readClustersHandler } from '../../functions/read-clusters/index.ts';
import { GENEROUS_QUOTA } from '../support/workflow.ts';
import { seedRequest } from '../support/clusters.ts';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';
import { lambdaContext, proxyEvent } from '../support/events.ts';
import { nativeBody } from '../support/http.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:provision';
const sfn = mockClient(SFNClient);
let table: TestTable;
let create: ReturnType<typeof createClusterHandler>;
let read: ReturnType<typeof readClustersHandler>;

beforeAll(async () => {
  table = await startTestTable();
  const workflows = new StepFunctionsWorkflows(
    { provision: STATE_MACHINE_ARN, destroy: `${STATE_MACHINE_ARN}-destroy`, power: `${STATE_MACHINE_ARN}-power` },
    120,
    new SFNClient({ region: 'eu-west-1' }),
  );
  const providers = providerRegistry([new LocalCloudProvider(await LocalCloud.open())]);
  create = createClusterHandler({
    clusters: table.clusters,
    quotas: table.quotas,
    idempotencyKeys: table.idempotencyKeys,
    webhookSecrets: table.webhookSecrets,
    workflows,
    quotaDefaults: GENEROUS_QUOTA,
    defaultProvider: 'local',
    providers,
    pollSeconds: 1,
  });
  read = readClustersHandler({ clusters: table.clusters, pageTokenSecret: table.pageTokenSecret, consoleUrlFor: () => null });
});
const get = (id: string, project = 'alpha') =>
  read(proxyEvent({ resource: '/v1/clusters/{id}', path: `/v1/clusters/${id}`, pathParameters: { id }, project }), lambdaContext);
afterAll(async () => {
  sfn.restore();
  await table.stop();
});
beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
});

const post = (body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }, project = 'alpha') =>
  create(proxyEvent({ method: 'POST', path: '/backend/create_lambda_instance', body, headers, project }), lambdaContext);

const clustersOf = async (project: string) => (await table.clusters.listClusters(project, { limit: 100 })).items;

describe('POST /backend/create_lambda_instance', () => {
  it('answers 202 with exactly {"uuid": "<id>"} and records the cluster PENDING', async () => {
    // Act
    const response = await post(JSON.stringify(seedRequest()));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatch(/^\{"uuid": "[0-9a-f-]{36}"\}$/);
    const { uuid } = JSON.parse(response.body) as { uuid: string };
    const cluster = await table.clusters.getCluster(uuid);
    expect(cluster).toMatchObject({ project: 'alpha', status: 'PENDING', name: 'My first Lambda Instance' });
    expect(cluster?.executionId).toBe(`arn:aws:states:eu-west-1:123456789012:execution:provision:${uuid}`);
  });

  it('starts the provision execution named after the cluster, with the cluster id as input', async () => {
    const response = await post(JSON.stringify(seedRequest()));

    const { uuid } = JSON.parse(response.body) as { uuid: string };
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ stateMachineArn: STATE_MACHINE_ARN, name: uuid, input: JSON.stringify({ clusterId: uuid }) });
  });

  it('treats an execution that already exists as started (a retried start is idempotent)', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    const response = await post(JSON.stringify(seedRequest()));

    expect(response.statusCode).toBe(202);
  });

  it('records the cluster FAILED and answers 503 when the workflow cannot be started', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('service unavailable'));

    const response = await post(JSON.stringify(seedRequest()), undefined, 'start-fails');

    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'WorkflowStartFailed' } });
    const [cluster] = await clustersOf('start-fails');
    expect(cluster).toMatchObject({ status: 'FAILED', error: { code: 'WorkflowStartFailed', step: 'start', message: 'service unavailable' } });
  });

  it('answers 400 naming each bad field, and writes nothing', async () => {
    const response = await post(JSON.stringify({ ...seedRequest(), slaves: -1, ip_allocation: 'some', color: 'red' }), undefined, 'bad-fields');

    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as { error: { code: string; details: { path: string }[] } };
    expect(body.error.code).toBe('ValidationError');
    expect(body.error.details.map((d) => d.path).sort()).toEqual(['color', 'ip_allocation', 'slaves']);
    expect(await clustersOf('bad-fields')).toEqual([]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers 400 MalformedJson naming the body for a body that is not JSON', async () => {
    const response = await post('{"slaves": ');

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'MalformedJson', details: [{ path: '(body)' }] } });
  });

  it('answers 415 naming Content-Type for a body that is not declared as JSON', async () => {
    const response = await post(JSON.stringify(seedRequest()), { 'Content-Type': 'text/plain' });

    expect(response.statusCode).toBe(415);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'UnsupportedMediaType', details: [{ path: 'Content-Type' }] } });
  });

  it('answers 413 naming the body for a body over 64 KiB', async () => {
    const response = await post(JSON.stringify({ ...seedRequest(), instance_name: 'x'.repeat(70_000) }));

    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PayloadTooLarge', details: [{ path: '(body)' }] } });
  });

  it('answers 401 when the request did not come through the authorizer', async () => {
    const response = await create(
      proxyEvent({
        method: 'POST',
        path: '/backend/create_lambda_instance',
        body: JSON.stringify(seedRequest()),
        headers: { 'Content-Type': 'application/json' },
        project: null,
      }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(401);
  });
});

describe('POST /v1/clusters: the spec’s provider options', () => {
  const postNative = (body: unknown, project: string, query?: Record<string, string>) =>
    create(
      proxyEvent({ method: 'POST', path: '/v1/clusters', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, project, ...(query ? { query } : {}) }),
      lambdaContext,
    );
  type ErrorBody = { error: { code: string; details: { path: string; message: string }[] } };

  it('answers 400 ValidationError naming tags.<key> for a tag key the service keeps for itself, and writes nothing', async () => {
    const response = await postNative(nativeBody(1, { tags: { team: 'data', 'cluster-service:cluster-id': 'someone-else' } }), 'spoof');

    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as ErrorBody;
    expect(body.error.code).toBe('ValidationError');
    expect(body.error.details.map((d) => d.path)).toEqual(['tags.cluster-service:cluster-id']);
    expect(await clustersOf('spoof')).toEqual([]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers 400 InvalidSpec naming region, zone and image the provider cannot serve, also for a dry run', async () => {
    const body = nativeBody(1, { region: 'eu-west-1', zone: 'eu-west-1a', image: 'ami-0123456789abcdef0' });

    const response = await postNative(body, 'elsewhere');
    const dry = await postNative(body, 'elsewhere', { dryRun: 'true' });

    expect([response.statusCode, dry.statusCode]).toEqual([400, 400]);
    const parsed = JSON.parse(response.body) as ErrorBody;
    expect(parsed.error.code).toBe('InvalidSpec');
    expect(parsed.error.details.map((d) => d.path)).toEqual(['region', 'zone', 'image']);
    expect(await clustersOf('elsewhere')).toEqual([]);
  });

  it('records a spec the provider can honour with its options, as the workflow will pass them on', async () => {
    const options = { region: 'local', zone: 'local-b', image: 'ubuntu-24.04', keyName: 'ops', userData: 'IyEvYmluL3NoCg==', tags: { team: 'data' } };

    const response = await postNative(nativeBody(1, options), 'honoured');

    expect(response.statusCode).toBe(202);
    const [cluster] = await clustersOf('honoured');
    expect(cluster?.spec).toMatchObject(options);
  });
});

describe('GET /v1/clusters/{id}', () => {
  it('answers the cluster in the contract’s shape to its own project', async () => {
    const { uuid } = JSON.parse((await post(JSON.stringify(seedRequest()))).body) as { uuid: string };

    const response = await get(uuid);

    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['createdAt', 'execution', 'id', 'links', 'name', 'phase', 'project', 'provider', 'servers', 'status', 'updatedAt'].sort(),
    );
    expect(body).toMatchObject({ id: uuid, status: 'PENDING', project: 'alpha', links: { self: `/v1/clusters/${uuid}` } });
  });

  it('answers 404 to another project, as for an unknown id', async () => {
    const { uuid } = JSON.parse((await post(JSON.stringify(seedRequest()))).body) as { uuid: string };

    const other = await get(uuid, 'beta');
    const unknown = await get('00000000-0000-4000-8000-000000000000');
    const notAnId = await get('nope');

    expect([other.statusCode, unknown.statusCode, notAnId.statusCode]).toEqual([404, 404, 404]);
    expect(JSON.parse(other.body)).toMatchObject({ error: { code: 'NotFound' } });
  });
});
