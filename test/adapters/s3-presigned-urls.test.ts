import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { parseS3Uri, s3PresignGet } from '#adapters/s3-presigned-urls';

const presign = s3PresignGet(new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' } }));

describe('s3PresignGet', () => {
  it('signs a GET of the URI’s bucket and key for the asked seconds, offline', async () => {
    const url = new URL(await presign('s3://inputs-bucket/inputs/c-1/1/inventory.json', 900));

    expect(url.hostname).toBe('inputs-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/inputs/c-1/1/inventory.json');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
  });

  it('refuses what is not an s3 URI, and lifetimes SigV4 does not sign', async () => {
    expect(() => parseS3Uri('https://bucket/key')).toThrow(/not an s3:\/\/<bucket>\/<key> URI/);
    await expect(presign('s3://bucket/key', 0)).rejects.toThrow(/lasts 1 to 604800 s/);
    await expect(presign('s3://bucket/key', 604_801)).rejects.toThrow(/lasts 1 to 604800 s/);
  });
});
