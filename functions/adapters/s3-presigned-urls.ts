/**
 * GET URLs for objects a node fetches without AWS credentials of its own (the ssm runner's
 * controller: the configuration bundle and a run's inputs). Signing is offline; the URL works for
 * `expiresInSeconds` or until the signing credentials expire, whichever comes first — a Lambda's
 * role credentials last hours, not days.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** SigV4's own bound on a presigned URL. */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

export type PresignGet = (uri: string, expiresInSeconds: number) => Promise<string>;

/** `s3://<bucket>/<key>` → its bucket and key; anything else is a setting gone wrong. */
export const parseS3Uri = (uri: string): { bucket: string; key: string } => {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an s3://<bucket>/<key> URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
};

export const s3PresignGet =
  (s3: S3Client = new S3Client({})): PresignGet =>
  async (uri, expiresInSeconds) => {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_EXPIRY_SECONDS) {
      throw new Error(`a presigned URL lasts 1 to ${MAX_EXPIRY_SECONDS} s; asked for ${expiresInSeconds}`);
    }
    const { bucket, key } = parseS3Uri(uri);
    return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
  };
