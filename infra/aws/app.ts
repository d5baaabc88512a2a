import { App } from 'aws-cdk-lib';
import { ClusterServiceStack } from './cluster-service-stack.ts';

const app = new App();

// Unset variables leave the stack environment-agnostic, so `cdk synth` works without credentials.
new ClusterServiceStack(app, 'ClusterService', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Cluster provisioning service: REST API, provision workflow, DynamoDB table',
});
