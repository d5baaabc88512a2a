/** Lambda entry: the workflow steps over DynamoDB and the deployment's providers. */
import { z } from 'zod';
import { dynamoDbTable } from '#adapters/dynamodb/client';
import { DynamoDbClusterStore } from '#adapters/dynamodb/clusters';
import { DynamoDbQuotaStore } from '#adapters/dynamodb/quotas';
import { deployedProviders } from '#adapters/aws-providers';
import { S3ConfigurationInputs } from '#adapters/s3-configuration-inputs';
import { secretsManagerKey } from '#adapters/secrets-manager-key';
import { providerRegistry } from '#domain/providers';
import { readEnv, tableEnvSchema, workflowEnvSchema } from '#lib/config';
import { workflowStepHandler } from './index.ts';

const env = readEnv(
  tableEnvSchema.extend(workflowEnvSchema.shape).extend({
    /** The configuration container's inputs bucket (set with the container); none: inputs travel inline. */
    CONFIGURATION_INPUTS_BUCKET: z.string().default(''),
    /** The cloud-init runner: where the nodes report (the API's URL), and the key of their secrets. */
    SERVICE_URL: z.url({ protocol: /^https$/ }).optional(),
    NODE_REPORT_SECRET_ARN: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN').optional(),
  }),
);
const serviceUrl = env.SERVICE_URL?.replace(/\/+$/, '');
const table = dynamoDbTable({ tableName: env.TABLE_NAME });

export const handler = workflowStepHandler({
  clusters: new DynamoDbClusterStore(table),
  quotas: new DynamoDbQuotaStore(table),
  // The providers the stack was configured for (the create routes refuse any other).
  providers: providerRegistry(await deployedProviders()),
  config: env,
  ...(env.CONFIGURATION_INPUTS_BUCKET ? { inputs: new S3ConfigurationInputs(env.CONFIGURATION_INPUTS_BUCKET) } : {}),
  ...(serviceUrl && env.NODE_REPORT_SECRET_ARN
    ? {
        nodeAgents: {
          reportUrl: (clusterId: string) => `${serviceUrl}/v1/clusters/${clusterId}/node-reports`,
          eventsUrl: (clusterId: string, secret: string) => `${serviceUrl}/v1/clusters/${clusterId}/provider-events/${secret}`,
          nodeReportKey: secretsManagerKey(env.NODE_REPORT_SECRET_ARN),
        },
      }
    : {}),
});
