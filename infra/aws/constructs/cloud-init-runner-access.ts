/**
 * What the cloud-init runner needs of the stack (docs/cloud-init-runner.md): the key the clusters'
 * node secrets are made with (a generated Secrets Manager secret, read by the function that writes
 * the nodes' user data and the one that checks their reports, and no other), and the configuration
 * bundle, which the report function signs short-lived URLs of for the masters.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { acknowledge } from '../nag.ts';
import { CONFIGURATION_BUNDLE_EXCLUDES } from './configuration-bundle.ts';
import { REPO_ROOT } from './service-function.ts';

export interface CloudInitRunnerAccessProps {
  /** The functions that make node secrets or check them. */
  readonly keyReaders: readonly lambda.Function[];
  /** The functions that sign URLs of the bundle. */
  readonly bundleReaders: readonly lambda.Function[];
  /** The bundle asset when the stack has one already (the ec2 provider's); made here otherwise. */
  readonly bundle?: s3assets.Asset;
}

export class CloudInitRunnerAccess extends Construct {
  public readonly nodeReportKey: secretsmanager.Secret;
  public readonly bundle: s3assets.Asset;

  public constructor(scope: Construct, id: string, props: CloudInitRunnerAccessProps) {
    super(scope, id);
    this.nodeReportKey = new secretsmanager.Secret(this, 'NodeReportKey', {
      description: 'The key of the clusters’ node secrets (cloud-init runner): HMAC-SHA256 of a cluster id',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledge(
      this.nodeReportKey,
      'SMG4',
      'key material, not a credential of a service: rotating it locks out the agents of clusters being configured, so it is rotated by hand between configurations',
    );
    for (const fn of props.keyReaders) {
      this.nodeReportKey.grantRead(fn);
      fn.addEnvironment('NODE_REPORT_SECRET_ARN', this.nodeReportKey.secretArn);
    }
    this.bundle = props.bundle ?? new s3assets.Asset(this, 'ConfigurationBundle', { path: path.join(REPO_ROOT, 'configuration'), exclude: CONFIGURATION_BUNDLE_EXCLUDES });
    for (const fn of props.bundleReaders) {
      // A URL carries only what its signer may do: this one object, no listing.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)] }));
      fn.addEnvironment('CONFIGURATION_BUNDLE_S3_URI', this.bundle.s3ObjectUrl);
    }
  }
}
