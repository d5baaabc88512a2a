/**
 * Every function runs in the local stack's one process, with one logger: each invocation's lines
 * must carry its own function's context, never the one invoked before it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#lib/logger';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('SILENT');
});

/** The JSON lines the logger writes while `act` runs. */
const linesDuring = async (act: () => Promise<unknown>): Promise<Record<string, unknown>[]> => {
  logger.setLogLevel('INFO');
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  await act();
  vi.restoreAllMocks();
  return written
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};

describe('log lines of local invocations', () => {
  it('a line of the authorizer after a call to the read function carries the authorizer’s name', async () => {
    const lines = await linesDuring(async () => {
      await fetch(`${stack.url}/v1/clusters`, { headers: { Authorization: `Token ${stack.token}` } });
      await fetch(`${stack.url}/v1/clusters`, { headers: { Authorization: 'Token wrongwrongwrongwrongwrong' } });
    });

    const refused = lines.find((line) => line.message === 'refused');
    expect(refused).toMatchObject({ function_name: 'authorizer', reason: 'unknown' });
  });
});
