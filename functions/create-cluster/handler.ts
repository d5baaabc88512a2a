/** Lambda entry: the create handler over DynamoDB and Step Functions. */
import { z } from 'zod';
import { DynamoDbStore } from '#adapters/dynamodb-store';
import { StepFunctionsWorkflow } from '#adapters/sfn-workflow';
import { PROVIDER_NAMES, readEnv, tableEnvSchema } from '#lib/config';
import { createClusterHandler } from './index.ts';

const env = readEnv(
  tableEnvSchema.extend({
    PROVISION_STATE_MACHINE_ARN: z.string().startsWith('arn:', 'must be a state machine ARN'),
    DEFAULT_PROVIDER: z.enum(PROVIDER_NAMES),
  }),
);

export const handler = createClusterHandler({
  store: new DynamoDbStore({ tableName: env.TABLE_NAME }),
  workflow: new StepFunctionsWorkflow(env.PROVISION_STATE_MACHINE_ARN),
  defaultProvider: env.DEFAULT_PROVIDER,
});
