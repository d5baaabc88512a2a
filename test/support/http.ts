/** A small client for the local stack over real HTTP (loopback only). */
import type { LocalStack } from '../../infra/local/stack.ts';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export const api = async <T = Record<string, unknown>>(
  stack: Pick<LocalStack, 'url'>,
  token: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> => {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      Authorization: `Token ${token}`,
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T, text };
};

export interface ClusterBody {
  id: string;
  status: string;
  phase: string;
  attempt?: number;
  servers: {
    id: string | null;
    name: string;
    role: string;
    state: string;
    publicIp: string | null;
    configuration?: { state: string; message?: string };
  }[];
  error?: { code: string; message: string; step: string };
}

/** Polls a cluster until its status is one of `statuses` (or the deadline passes). */
export const waitForCluster = async (
  stack: Pick<LocalStack, 'url'>,
  token: string,
  id: string,
  statuses: string[],
  timeoutMs = 20_000,
): Promise<ClusterBody> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<ClusterBody>(stack, token, 'GET', `/v1/clusters/${id}`);
    if (statuses.includes(body.status) || Date.now() > until) return body;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
};

/** A native body: a master and `workers` workers of a small size. */
export const nativeBody = (workers = 2, extra: Record<string, unknown> = {}) => ({
  name: 'analytics',
  nodeGroups: [
    { name: 'master', role: 'master', count: 1, vcpus: 2, ramMb: 2048, diskGb: 20 },
    ...(workers > 0 ? [{ name: 'worker', role: 'worker', count: workers, vcpus: 1, ramMb: 1024, diskGb: 10 }] : []),
  ],
  ...extra,
});
