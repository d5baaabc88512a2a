/**
 * The `nextToken` a list answer hands out: the store's cursor sealed with AES-256-GCM under a key
 * from the service's page-token secret, the project and the query it pages bound in as associated data. A
 * client can neither read nor alter it, and a token presented by another project or with another
 * query fails to open: a 400 naming `nextToken`, never a cursor the database would refuse (500).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ValidationError } from '#domain/errors';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** What a token is valid for: the listing's project and every query parameter that filters it. */
export interface PageBinding {
  project: string;
  query: Readonly<Record<string, string | undefined>>;
}

const associatedData = (binding: PageBinding): Buffer =>
  Buffer.from(
    JSON.stringify([
      VERSION,
      binding.project,
      Object.entries(binding.query)
        .filter(([, value]) => value !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ]),
  );

/** The AES key from the service's secret, whatever its text: SHA-256 makes it 32 bytes. */
const keyBytes = (secret: string): Buffer => {
  if (secret.length < 32) throw new Error('the page-token secret must have at least 32 characters');
  return createHash('sha256').update(`page-tokens\n${secret}`).digest();
};

export const sealPageToken = (key: string, binding: PageBinding, cursor: string): string => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(key), iv);
  cipher.setAAD(associatedData(binding));
  const sealed = Buffer.concat([cipher.update(cursor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
};

const refused = () =>
  new ValidationError('nextToken is not a token this listing issued', [
    { path: 'nextToken', message: 'is not a token issued for this project and query; start from the first page' },
  ]);

/** The cursor inside `token`, or a 400 naming `nextToken` for anything this binding did not issue. */
export const openPageToken = (key: string, binding: PageBinding, token: string): string => {
  const bytes = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url') : Buffer.alloc(0);
  if (bytes.length <= IV_BYTES + TAG_BYTES) throw refused();
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyBytes(key), bytes.subarray(0, IV_BYTES));
    decipher.setAAD(associatedData(binding));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw refused();
  }
};
