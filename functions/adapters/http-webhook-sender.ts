/**
 * Webhook delivery over node:http(s). On AWS it refuses any address that resolves into a
 * private, loopback, link-local or otherwise internal range (SSRF): the check runs in the
 * socket's own DNS lookup, so the address checked is the address connected to.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { WebhookResult, WebhookSender } from '#domain/webhooks';

const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

/** Whether an address is one a webhook must never reach from the service's network. */
export const isInternalAddress = (address: string): boolean => {
  const family = isIP(address);
  if (family === 0) return true;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is checked as the IPv4 it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return INTERNAL.check(mapped, 'ipv4');
  return INTERNAL.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

export interface HttpWebhookSenderOptions {
  /** Local mode delivers to loopback receivers; deployed, internal addresses are refused. */
  allowInternal: boolean;
  timeoutMs?: number;
}

export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly options: HttpWebhookSenderOptions) {}

  private readonly guardedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const allowed = this.options.allowInternal ? addresses : addresses.filter((a) => !isInternalAddress(a.address));
      if (allowed.length === 0) {
        return callback(Object.assign(new Error(`${hostname} resolves only to internal addresses`), { code: 'EADDRINTERNAL' }), '', 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const first = allowed[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };

  send(url: string, body: string, headers: Record<string, string>): Promise<WebhookResult> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ delivered: false, error: 'not a URL' });
    }
    if (!this.options.allowInternal && isIP(target.hostname.replace(/^\[|\]$/g, '')) && isInternalAddress(target.hostname.replace(/^\[|\]$/g, ''))) {
      return Promise.resolve({ delivered: false, error: `${target.hostname} is an internal address` });
    }
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = request(
        target,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'cluster-service-webhook', ...headers },
          lookup: this.guardedLookup,
          timeout: this.options.timeoutMs ?? 5_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            resolve({ delivered: status >= 200 && status < 300, status, ...(status >= 300 ? { error: `answered ${status}` } : {}) });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error) => resolve({ delivered: false, error: error.message }));
      req.end(body);
    });
  }
}
