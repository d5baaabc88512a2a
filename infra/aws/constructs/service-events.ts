/**
 * The service's events (docs/decisions.md, "Events and webhooks"): its own bus, where create
 * requests come in and status and rejection events go out; the rule that queues create requests
 * for the create trigger; and the dead-letter queues of the create requests and of the status
 * changes the table's stream publishes.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { STATUS_CHANGE_TYPE } from '../../../functions/adapters/dynamodb/table-schema.ts';
import { DETAIL_TYPES } from '../../../functions/domain/events.ts';
import { ResourceGroup } from '../logical-ids.ts';
import { acknowledge } from '../nag.ts';

export interface ServiceEventsProps {
  /**
   * How long the function that reads the create requests may run: the queue hides a message it
   * handed out for six times as long, so it is not handed out twice at once.
   */
  readonly createRequestsReaderTimeout: Duration;
  /**
   * How long the dead-letter queues keep what failed.
   *
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
}

export class ServiceEvents extends ResourceGroup {
  public readonly bus: events.EventBus;
  /** Create requests the rule delivers; failed ones go to `createRequestsDlq` after three tries. */
  public readonly createRequests: sqs.Queue;
  public readonly createRequestsDlq: sqs.Queue;
  /** Stream batches the status publisher could not handle after its retries (their positions, to replay). */
  public readonly statusChangesDlq: sqs.Queue;

  public constructor(scope: Construct, id: string, props: ServiceEventsProps) {
    super(scope, id);
    const retentionPeriod = props.deadLetterRetention ?? Duration.days(14);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-events` });
    this.statusChangesDlq = new sqs.Queue(this, 'StatusChangesDlq', { retentionPeriod, encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    acknowledge(this.statusChangesDlq, 'SQS3', 'it is a dead-letter queue: the stream mapping\'s on-failure destination, which cdk-nag does not see as one; nothing reads it but a person replaying, and its alarm says when to');
    this.createRequestsDlq = new sqs.Queue(this, 'CreateRequestsDlq', { retentionPeriod, encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    this.createRequests = new sqs.Queue(this, 'CreateRequests', {
      visibilityTimeout: Duration.seconds(6 * props.createRequestsReaderTimeout.toSeconds()),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.createRequestsDlq, maxReceiveCount: 3 },
    });
    new events.Rule(this, 'CreateRequestedRule', {
      eventBus: this.bus,
      description: 'Cluster Create Requested → the create trigger’s queue',
      eventPattern: { detailType: [DETAIL_TYPES.createRequested] },
      targets: [new targets.SqsQueue(this.createRequests)],
    });
  }

  /** Lets `fn` put events on the bus, named by `EVENT_BUS_NAME`. */
  public publishFrom(fn: lambda.Function): void {
    fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    this.bus.grantPutEventsTo(fn);
  }

  /** Hands `fn` the queued create requests, ten at most at once; it answers which of them failed. */
  public deliverCreateRequestsTo(fn: lambda.Function): void {
    fn.addEventSource(new lambdaEvents.SqsEventSource(this.createRequests, { batchSize: 10, reportBatchItemFailures: true }));
  }

  /**
   * Feeds `fn` the new status-change items of `table`'s stream, in order; a batch that still fails
   * after its retries leaves its position in `statusChangesDlq`.
   */
  public feedStatusChangesTo(fn: lambda.Function, table: dynamodb.ITable): void {
    fn.addEventSource(
      new lambdaEvents.DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        retryAttempts: 5,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new lambdaEvents.SqsDlq(this.statusChangesDlq),
        // Only new status-change items: notes, clusters, tokens and quotas never wake it.
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT'), dynamodb: { NewImage: { type: { S: lambda.FilterRule.isEqual(STATUS_CHANGE_TYPE) } } } })],
      }),
    );
    acknowledge(fn.role ?? fn, 'IAM5[Resource::*]', 'dynamodb:ListStreams takes no resource; reading the records is granted on this table\'s stream alone');
  }
}
