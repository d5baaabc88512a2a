import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { traced, traceInvocations, tracer, tracingEnabled } from '#lib/tracer';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const LAMBDA = 'AWS_Lambda_nodejs22.x';

/** Imports the tracer module in a fresh process with `env`; answers what it found there. */
const probe = async (env: Record<string, string>) => {
  const script = [
    "import { createRequire } from 'node:module';",
    "const { tracer, traced } = await import('#lib/tracer');",
    "const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');",
    'const client = new DynamoDBClient({ region: "eu-west-1" });',
    'const before = client.middlewareStack.identify().length;',
    'traced(client);',
    "const xray = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('aws-xray-sdk-core'));",
    'console.log(JSON.stringify({ tracer: tracer !== null, xray, middlewareAdded: client.middlewareStack.identify().length > before }));',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { tracer: boolean; xray: boolean; middlewareAdded: boolean };
};

describe('tracing', () => {
  it('is on in Lambda’s execution environment unless POWERTOOLS_TRACE_ENABLED says false', () => {
    expect(tracingEnabled({ AWS_EXECUTION_ENV: LAMBDA })).toBe(true);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: LAMBDA, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: LAMBDA, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingEnabled({})).toBe(false);
  });

  it('leaves clients and handlers as they are outside Lambda', () => {
    const client = new DynamoDBClient({ region: 'eu-west-1' });

    expect(tracer).toBeNull();
    expect(traced(client)).toBe(client);
    expect(traceInvocations()).toEqual([]);
  });

  it('does not load the X-Ray SDK (and its async hooks) outside Lambda, and traces SDK calls inside it', async () => {
    const outside = await probe({});
    const inside = await probe({ AWS_EXECUTION_ENV: LAMBDA, AWS_REGION: 'eu-west-1' });

    expect(outside).toEqual({ tracer: false, xray: false, middlewareAdded: false });
    expect(inside).toEqual({ tracer: true, xray: true, middlewareAdded: true });
  }, 60_000);
});
