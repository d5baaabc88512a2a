/**
 * Diagnostic, not a figure: the least a create can cost on this machine, whatever the service
 * does around it. No HTTP front, no authorizer or handler code, no workflows: only the DynamoDB
 * calls of a create, made with the service's own store adapters (AWS SDK v3) from this process,
 * against dynalite alone in a second process, so the two halves have a core each.
 *
 * - "create's calls": what a create writes and reads today — the authorizer's token lookup, then
 *   the create use case (quota read, quota reserve, record, first timeline event) with a
 *   workflow port that starts nothing;
 * - "authorize + record": two calls, the fewest any authenticated create can make (look the
 *   token up, write the record).
 *
 * Closed loops as in the create bench: c concurrent callers, each starting its next create when
 * its last one is done, a fixed count per level, every wait bounded.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbStores } from '#adapters/dynamodb/stores';
import { clusterItem } from '#adapters/dynamodb/table-schema';
import { compatToSpec, SEED_EXAMPLE } from '#domain/compat-request';
import type { Workflows } from '#domain/workflow';
import { createCluster } from '#use-cases/create-cluster';
import { authorizeToken, generateToken, issueToken } from '#use-cases/tokens';
import { LOCAL_AWS, LOCAL_TABLE_NAME } from '../infra/local/dynamodb.ts';
import { mean, percentile, round } from './report.ts';
import { within } from './stack-client.ts';

export interface FloorLevel {
  variant: 'create calls' | 'authorize + record';
  clients: number;
  requests: number;
  dynamodbCallsPerCreate: number;
  p50: number;
  p99: number;
  mean: number;
  throughputPerSecond: number;
  /** CPU of this process (the SDK side) per create, ms. */
  callerCpuMsPerCreate: number;
}

/** A workflow port that starts nothing: the floor measures the database calls alone. */
const NO_WORKFLOWS: Workflows = {
  executionIdFor: (kind, name) => `arn:aws:states:local:000000000000:execution:${kind}:${name}`,
  start: async () => undefined,
  stop: async () => ({ settleSeconds: 0 }),
};

const QUOTA = { vcpus: 1_000_000_000, servers: 1_000_000_000, clusters: 1_000_000_000 };

export const measureFloor = async (options: { levels: readonly number[]; requests: number; timeoutMs: number }): Promise<FloorLevel[]> => {
  const child = fork(path.join(import.meta.dirname, 'dynalite-process.ts'), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'json',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const { endpoint } = await within(new Promise<{ endpoint: string }>((resolve) => child.once('message', (m) => resolve(m as { endpoint: string }))), options.timeoutMs, 'floor: dynalite start');
    const sdk = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
    const { clusters, quotas, tokens } = dynamoDbStores({ tableName: LOCAL_TABLE_NAME, client: sdk });
    const token = generateToken();
    await issueToken(tokens, { project: 'floor', token, description: 'bench floor' });
    const spec = compatToSpec({ ...SEED_EXAMPLE, slaves: 0 }, 'local');
    const create = () => createCluster({ clusters, quotas, workflows: NO_WORKFLOWS, quotaDefaults: QUOTA }, { project: 'floor', spec, request: { ...SEED_EXAMPLE } });
    // The record a create writes, as the store lays it out, for the two-call variant to put anew.
    const sample = await create();
    const doc = DynamoDBDocumentClient.from(sdk, { marshallOptions: { removeUndefinedValues: true } });
    const putRecord = async (project: string) => {
      const id = randomUUID();
      const at = new Date().toISOString();
      await doc.send(
        new PutCommand({
          TableName: LOCAL_TABLE_NAME,
          Item: clusterItem({ ...sample, id, project, createdAt: at, updatedAt: at }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    };

    const variants = {
      'create calls': async () => {
        const outcome = await authorizeToken(tokens, token);
        if (!outcome.ok) throw new Error('floor: the token was refused');
        await create();
      },
      'authorize + record': async () => {
        const outcome = await authorizeToken(tokens, token);
        if (!outcome.ok) throw new Error('floor: the token was refused');
        await putRecord(outcome.project);
      },
    } as const;

    const levels: FloorLevel[] = [];
    for (const [variant, once] of Object.entries(variants) as [FloorLevel['variant'], () => Promise<void>][]) {
      // Warm-up: the SDK's and dynalite's first calls compile their code paths.
      for (let i = 0; i < 50; i += 1) await once();
      for (const clients of options.levels) {
        const latencies: number[] = [];
        let next = 0;
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        const caller = async () => {
          while (next < options.requests) {
            next += 1;
            const sent = performance.now();
            await once();
            latencies.push(performance.now() - sent);
          }
        };
        await within(Promise.all(Array.from({ length: clients }, caller)), options.timeoutMs, `floor: ${variant}, ${clients} callers`);
        const wallMs = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        levels.push({
          variant,
          clients,
          requests: latencies.length,
          dynamodbCallsPerCreate: variant === 'create calls' ? 5 : 2,
          p50: round(percentile(latencies, 50), 2),
          p99: round(percentile(latencies, 99), 2),
          mean: round(mean(latencies), 2),
          throughputPerSecond: round((latencies.length / wallMs) * 1000, 1),
          callerCpuMsPerCreate: round((cpu.user + cpu.system) / 1000 / latencies.length, 2),
        });
      }
    }
    sdk.destroy();
    return levels;
  } finally {
    child.disconnect();
    await within(exited, 5_000, 'floor: dynalite exit').catch(() => child.kill('SIGKILL'));
  }
};
