/** Lambda entry: the cloud-init runner's node reports, over DynamoDB, with the bundle presigned from S3. */
import { S3Client } from '@aws-sdk/client-s3';
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { s3PresignGet } from '#adapters/s3-presigned-urls';
import { secretsManagerKey } from '#adapters/secrets-manager-key';
import { nodeReportEnvSchema, readEnv, tableEnvSchema } from '#lib/config';
import { nodeReportsHandler } from './index.ts';

const env = readEnv(tableEnvSchema.extend(nodeReportEnvSchema.shape));
const presign = s3PresignGet(new S3Client({}));

export const handler = nodeReportsHandler({
  clusters: new DynamoDbClusterStore(dynamoDbTable({ tableName: env.TABLE_NAME })),
  nodeReportKey: secretsManagerKey(env.NODE_REPORT_SECRET_ARN),
  // An hour: the master fetches it as soon as it is given.
  bundleUrl: () => presign(env.CONFIGURATION_BUNDLE_S3_URI, 3600),
});
