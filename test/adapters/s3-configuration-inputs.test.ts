import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { TransientProviderError } from '#domain/errors';
import { CONFIGURATION_INPUTS_PREFIX, S3ConfigurationInputs } from '#adapters/s3-configuration-inputs';

const BUCKET = 'clusterservice-configurationinputs-1a2b3c';

const setup = () => {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const s3Mock = mockClient(s3);
  return { inputs: new S3ConfigurationInputs(BUCKET, s3), s3Mock };
};

const s3Failure = (name: string, httpStatusCode: number, fault: 'client' | 'server') =>
  new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode }, message: `${name} happened` });

describe('S3ConfigurationInputs (the configuration container’s documents by reference)', () => {
  it('puts the document under the inputs prefix as JSON and answers the s3:// URI run-profile.sh fetches', async () => {
    // Prepare
    const { inputs, s3Mock } = setup();
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"abc"' });

    // Act
    const uri = await inputs.put('35380a49-aae4-4935-9844-dfd6737b8c51/2/inventory.json', '{"all": {}}');

    // Assess
    expect(CONFIGURATION_INPUTS_PREFIX).toBe('inputs/');
    expect(uri).toBe(`s3://${BUCKET}/inputs/35380a49-aae4-4935-9844-dfd6737b8c51/2/inventory.json`);
    expect(s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: 'inputs/35380a49-aae4-4935-9844-dfd6737b8c51/2/inventory.json', Body: '{"all": {}}', ContentType: 'application/json' },
    ]);
  });

  it.each([
    ['SlowDown', 503, 'server'],
    ['InternalError', 500, 'server'],
  ] as const)('turns S3’s %s into a TransientProviderError, which the workflow retries', async (name, status, fault) => {
    const { inputs, s3Mock } = setup();
    s3Mock.on(PutObjectCommand).rejects(s3Failure(name, status, fault));

    const put = inputs.put('c/1/inventory.json', '{}');

    await expect(put).rejects.toBeInstanceOf(TransientProviderError);
    await expect(put).rejects.toThrow(name);
  });

  it('lets a refusal through under S3’s own name (the cluster’s error code), not as something to retry', async () => {
    const { inputs, s3Mock } = setup();
    s3Mock.on(PutObjectCommand).rejects(s3Failure('AccessDenied', 403, 'client'));

    const put = inputs.put('c/1/inventory.json', '{}');

    await expect(put).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(put).rejects.not.toBeInstanceOf(TransientProviderError);
  });
});
