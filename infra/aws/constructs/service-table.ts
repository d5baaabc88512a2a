/**
 * The service's single DynamoDB table (functions/adapters/dynamodb/table-schema.ts): clusters and
 * their timelines, tokens, quotas, and the outbox of status changes its stream publishes.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { PROJECT_INDEX } from '../../../functions/adapters/dynamodb/table-schema.ts';

export interface ServiceTableProps {
  /**
   * What becomes of the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN - clusters still running in a cloud are only findable through their records
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class ServiceTable extends dynamodb.Table {
  public constructor(scope: Construct, id: string, props: ServiceTableProps = {}) {
    super(scope, id, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      // The outbox: status-change items are published from the stream, never from the workflow.
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.addGlobalSecondaryIndex({
      indexName: PROJECT_INDEX,
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
