/**
 * Requests exactly as written — any method, the path's bytes as given, header names such as
 * `__proto__`, any body — over loopback, for tests of hostile input. `fetch` would normalize or
 * refuse much of it.
 */
import { Agent, request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query, sent as they are (no encoding added). */
  path: string;
  /** Name and value pairs, in order; a name may repeat. */
  headers?: [string, string][];
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export const rawRequest = (baseUrl: string, raw: RawRequest, timeoutMs = 30_000): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const headers = (raw.headers ?? []).flat();
    if (raw.body !== undefined) headers.push('Content-Length', String(Buffer.byteLength(raw.body)));
    const req = request({ host: url.hostname, port: url.port, method: raw.method, path: raw.path, headers: ['Host', url.host, ...headers], agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${raw.method} ${raw.path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(raw.body);
  });
