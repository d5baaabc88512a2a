/**
 * The end-to-end tests of the real clouds' providers (`PROVIDER=<cloud>` local mode against a
 * contract cloud): the cloud and the stack pointed at it for a `describe` block, and the stack's
 * API as a client reaches it with the local token.
 */
import { afterAll, beforeAll } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import type { CloudInitNodes } from '../contract/cloud-init/nodes.ts';
import { startTestStack } from './stack.ts';

export interface ClusterBody {
  status: string;
  phase: string;
  provider: string;
  servers: { name: string; role: string; state: string; privateIp: string | null; publicIp: string | null; configuration?: { state: string } }[];
  error?: { code: string; message: string; step: string };
}

/** What the stack needs of a contract cloud: the settings that point a provider at it, and its end. */
export interface ContractCloudLike {
  env(): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Before the block's tests: the cloud `start` makes (its servers' user data run by `nodes`, when
 * given), and the local stack with `PROVIDER=<provider>` pointed at it; both stopped after them.
 */
export const withContractCloud = <Cloud extends ContractCloudLike>(
  provider: string,
  start: (lifecycle: ReturnType<CloudInitNodes['lifecycle']> | undefined) => Promise<Cloud>,
  options: { nodes?: CloudInitNodes; env?: Record<string, string>; shellEnv?: Record<string, string> } = {},
) => {
  const context = {} as { cloud: Cloud; stack: LocalStack };
  beforeAll(async () => {
    context.cloud = await start(options.nodes?.lifecycle());
    context.stack = await startTestStack({
      env: { PROVIDER: provider, ...options.env },
      providerEnv: context.cloud.env(),
      ...(options.shellEnv ? { configurationShellEnv: options.shellEnv } : {}),
    });
  });
  afterAll(async () => {
    await context.stack?.stop();
    await options.nodes?.close();
    await context.cloud?.close();
  });
  return context;
};

/** A request to the stack as its local project's client sends it. */
export const stackFetch = (stack: LocalStack, path: string, init: RequestInit = {}) =>
  fetch(`${stack.url}${path}`, { ...init, headers: { 'Content-Type': 'application/json', Authorization: `Token ${stack.token}`, ...init.headers } });

/** Polls the cluster until its status is one of `statuses`; the bound is for a busy machine, not a target. */
export const waitForStatus = async (stack: LocalStack, id: string, statuses: string[], timeoutMs = 120_000): Promise<ClusterBody> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await stackFetch(stack, `/v1/clusters/${id}`)).json()) as ClusterBody;
    if (statuses.includes(body.status)) return body;
    if (Date.now() > until) throw new Error(`cluster ${id} is still ${body.status} (${body.phase})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

export const eventsOf = async (stack: LocalStack, id: string) =>
  ((await (await stackFetch(stack, `/v1/clusters/${id}/events`)).json()) as { items: { status: string; phase: string; message: string }[] }).items;
