import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookSender, isInternalAddress } from '#adapters/http-webhook-sender';

let server: Server;
let hits = 0;
let port = 0;
beforeAll(async () => {
  server = createServer((_, res) => {
    hits++;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('webhook delivery and SSRF', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1'])(
    'counts %s as internal',
    (address) => {
      expect(isInternalAddress(address)).toBe(true);
    },
  );

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('counts %s as public', (address) => {
    expect(isInternalAddress(address)).toBe(false);
  });

  it('refuses a loopback address when internal addresses are not allowed, and sends nothing', async () => {
    const before = hits;

    const result = await new HttpWebhookSender({ allowInternal: false }).send(`http://127.0.0.1:${port}/x`, '{}', {});

    expect(result.delivered).toBe(false);
    expect(result.error).toMatch(/internal address/);
    expect(hits).toBe(before);
  });

  it('refuses a name that resolves to loopback, checked at connection time', async () => {
    const before = hits;

    const result = await new HttpWebhookSender({ allowInternal: false }).send(`http://localhost:${port}/x`, '{}', {});

    expect(result.delivered).toBe(false);
    expect(result.error).toMatch(/internal addresses/);
    expect(hits).toBe(before);
  });

  it('delivers to loopback when internal addresses are allowed (local mode)', async () => {
    const result = await new HttpWebhookSender({ allowInternal: true }).send(`http://127.0.0.1:${port}/x`, '{}', {});

    expect(result).toEqual({ delivered: true, status: 204 });
  });
});
