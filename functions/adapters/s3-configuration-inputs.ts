/**
 * The configuration container's inputs in S3 (#domain/configuration-inputs): one object per
 * document under `inputs/<cluster id>/<attempt>/`, fetched by run-profile.sh with the task
 * role's `s3:GetObject` on that prefix. The bucket expires them after a few days; the cluster
 * record stays the truth.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import { traced } from '#lib/tracer';
import { awsError } from './aws/index.ts';

/** Every input object's key starts here: the grants of the task role and of the workflow step name this prefix only. */
export const CONFIGURATION_INPUTS_PREFIX = 'inputs/';

/** S3's answer in the workflow's terms: throttling, 5xx and dropped connections are retried; the rest (access, no such bucket) is final and keeps S3's name as the code. */
export const s3Error = (error: unknown): Error => awsError('S3', 'PutObject', error);

export class S3ConfigurationInputs implements ConfigurationInputs {
  constructor(
    private readonly bucket: string,
    private readonly s3: S3Client = traced(new S3Client({})),
  ) {}

  async put(key: string, body: string): Promise<string> {
    const objectKey = `${CONFIGURATION_INPUTS_PREFIX}${key}`;
    try {
      // Encrypted by the bucket's default (SSE-S3); the bucket refuses anything but TLS.
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentType: 'application/json' }));
    } catch (error) {
      throw s3Error(error);
    }
    return this.uriOf(key);
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${CONFIGURATION_INPUTS_PREFIX}${key}`;
  }
}
