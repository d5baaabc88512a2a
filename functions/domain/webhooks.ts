/** The webhook port: POSTs a signed body to a client's `callbackUrl`. */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Signature-256';

/** `sha256=<hex HMAC-SHA256 of the body>` — the receiver recomputes it with the project's secret. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

export interface WebhookResult {
  delivered: boolean;
  status?: number;
  error?: string;
}

export interface WebhookSender {
  send(url: string, body: string, headers: Record<string, string>): Promise<WebhookResult>;
}
