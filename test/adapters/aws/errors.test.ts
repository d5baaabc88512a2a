import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { awsError } from '#adapters/aws/index';
import { ec2Error } from '#adapters/ec2/index';
import { ssmError } from '#adapters/ec2/ssm/index';
import { s3Error } from '#adapters/s3-configuration-inputs';

const exception = (name: string, fault: 'client' | 'server', httpStatusCode: number) =>
  new SSMServiceException({ name, message: `${name} happened`, $fault: fault, $metadata: { httpStatusCode } });

const dropped = (code: string) => Object.assign(new Error(`socket ${code}`), { code });

describe('awsError (the one classifier of AWS SDK errors)', () => {
  it.each([
    ['throttling with a 400', exception('ThrottlingException', 'client', 400)],
    ['a server fault', exception('InternalServerError', 'server', 500)],
    ['any 5xx', exception('SomethingNew', 'client', 503)],
    ['what the SDK calls retryable', Object.assign(exception('Odd', 'client', 400), { $retryable: {} })],
    ['a dropped connection', dropped('ECONNRESET')],
    ['a thrown non-error', 'boom'],
  ])('answers %s as TransientProviderError, naming service and operation', (_, error) => {
    const mapped = awsError('SSM', 'SendCommand', error);

    expect(mapped).toBeInstanceOf(TransientProviderError);
    expect(mapped.message).toMatch(/^SSM SendCommand/);
  });

  it('passes domain errors unchanged', () => {
    const transient = new TransientProviderError('already said');
    const final = new ProviderError('UnknownProfile', 'no such profile');

    expect(awsError('EC2', 'RunInstances', transient)).toBe(transient);
    expect(awsError('EC2', 'RunInstances', final)).toBe(final);
  });

  it('leaves a refusal to the caller: mapped when it says how, as the SDK threw it otherwise', () => {
    const refused = exception('AccessDeniedException', 'client', 400);

    const mapped = awsError('SSM', 'SendCommand', refused, { refusal: (sdk) => new ProviderError(sdk.name, sdk.message) });

    expect(mapped).toMatchObject({ name: 'AccessDeniedException', code: 'AccessDeniedException' });
    expect(mapped).toBeInstanceOf(ProviderError);
    expect(awsError('SSM', 'SendCommand', refused)).toBe(refused);
  });

  it('retries the caller’s own transient codes, and holds its final codes final although filed as server faults', () => {
    expect(awsError('SSM', 'SendCommand', exception('InvalidInstanceId', 'client', 400), { transient: ['InvalidInstanceId'] })).toBeInstanceOf(TransientProviderError);
    const capacity = awsError('EC2', 'RunInstances', exception('InsufficientInstanceCapacity', 'server', 500), {
      final: ['InsufficientInstanceCapacity'],
      refusal: (sdk) => new ProviderError(sdk.name, sdk.message),
    });
    expect(capacity).toMatchObject({ name: 'InsufficientInstanceCapacity', message: 'InsufficientInstanceCapacity happened' });
  });

  it('is the classifier of EC2, SSM and S3 alike: throttling retried by each, a refusal in each service’s terms', () => {
    const throttled = [
      ec2Error('RunInstances', new EC2ServiceException({ name: 'RequestLimitExceeded', message: 'slow down', $fault: 'client', $metadata: { httpStatusCode: 503 } })),
      ssmError('SendCommand', exception('ThrottlingException', 'client', 400)),
      s3Error(new S3ServiceException({ name: 'SlowDown', message: 'slow down', $fault: 'server', $metadata: { httpStatusCode: 503 } })),
    ];
    const refusedS3 = new S3ServiceException({ name: 'AccessDenied', message: 'no', $fault: 'client', $metadata: { httpStatusCode: 403 } });

    expect(throttled.every((error) => error instanceof TransientProviderError)).toBe(true);
    expect(ssmError('SendCommand', exception('InvalidDocument', 'client', 400))).toMatchObject({ name: 'InvalidDocument', message: 'SSM SendCommand: InvalidDocument happened' });
    expect(s3Error(refusedS3)).toBe(refusedS3);
  });
});
