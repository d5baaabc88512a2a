import { Aws, CfnOutput, Duration, Stack, type CfnElement, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConfigurationRunner } from '../../functions/domain/model.ts';
import type { ProviderName } from '../../functions/domain/providers.ts';
import type { WorkflowKind } from '../../functions/domain/workflow.ts';
import type { FunctionSetting } from '../routes.ts';
import { CloudInitRunnerAccess } from './constructs/cloud-init-runner-access.ts';
import { ConfigurationContainer, type ConfigurationContainerSettings } from './constructs/configuration-container.ts';
import { Ec2ProviderAccess, type Ec2ProviderSettings } from './constructs/ec2-provider-access.ts';
import { LightsailProviderAccess, type LightsailProviderSettings } from './constructs/lightsail-provider-access.ts';
import { ServiceApi } from './constructs/service-api.ts';
import { ServiceEvents } from './constructs/service-events.ts';
import { ServiceFunctions, type FunctionsByName } from './constructs/service-functions.ts';
import { ServiceMonitoring } from './constructs/service-monitoring.ts';
import { ServiceTable } from './constructs/service-table.ts';
import { WorkflowStateMachine } from './constructs/workflow-state-machine.ts';
import { pascalCase, scopesNamingLogicalId } from './logical-ids.ts';
import { acknowledge, acknowledgeWildcards } from './nag.ts';
import {
  configurationContainerFromContext,
  ec2SettingsFromContext,
  hyperstackSettingsFromContext,
  lightsailSettingsFromContext,
  openstackSettingsFromContext,
  resolveAgentTimeoutSeconds,
  resolveDefaultProvider,
  resolveDefaultRunner,
  resolveQuotaDefaults,
  type HyperstackSettings,
  type OpenStackSettings,
  type QuotaDefaults,
} from './stack-settings.ts';

export interface ClusterServiceStackProps extends StackProps {
  /**
   * The provider a request gets when it names none.
   *
   * @default - the `defaultProvider` context value, else `ec2`
   */
  readonly defaultProvider?: ProviderName;
  /**
   * Retention of every log group the stack makes.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Steady-state requests per second each API method accepts before answering 429.
   *
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests a method accepts at once above the steady rate.
   *
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Where the `ec2` provider makes servers. Without it the stack has no provider that makes real
   * servers, and creates naming one are refused with 400.
   *
   * @default - from context `ec2VpcId`, `ec2SubnetIds` (comma-separated), `ec2ImageId`,
   * `ec2KeyName`, `serviceTag`, `ec2LoginUser`; none when `ec2VpcId` is not set
   */
  readonly ec2?: Ec2ProviderSettings;
  /**
   * The `openstack` provider: its credentials secret and what it boots.
   *
   * @default - from the context (`openstackCredentialsSecretArn`, `openstackImage`, …), else none
   */
  readonly openstack?: OpenStackSettings;
  /**
   * The `hyperstack` provider: its API key secret and what it boots.
   *
   * @default - from the context (`hyperstackApiKeySecretArn`, `hyperstackEnvironment`, `hyperstackImage`, `hyperstackKeyName`, `hyperstackApiUrl`), else none
   */
  readonly hyperstack?: HyperstackSettings;
  /**
   * The `lightsail` provider: its blueprint, zone and key pair.
   *
   * @default - from the context (`lightsail=true`, `lightsailBlueprint`, …), else none
   */
  readonly lightsail?: LightsailProviderSettings;
  /**
   * The configuration container (the `container` configuration runner), as an ECS Fargate task in
   * the `ec2` settings' VPC and subnets. Without it, clusters asking for the container runner
   * fail at "Prepare the configuration container" with ContainerRunnerUnavailable.
   *
   * @default - from context `configurationImage` and `configurationSshKeySecretArn`; none when
   * `configurationImage` is not set
   */
  readonly configurationContainer?: ConfigurationContainerSettings;
  /**
   * The configuration runner of compat requests and of native ones that name none
   * (`DEFAULT_CONFIGURATION_RUNNER`). `container` needs the configuration container.
   *
   * @default - the `defaultConfigurationRunner` context value, else `container` when the stack has
   * the configuration container (the `lambda` profile runs there as it is), else `ssm`
   */
  readonly defaultConfigurationRunner?: ConfigurationRunner;
  /**
   * Per-project limits for projects without their own (`QUOTA_MAX_VCPUS`, `QUOTA_MAX_SERVERS`,
   * `QUOTA_MAX_CLUSTERS`); a project's own limits are set with `npm run cli -- quotas set`.
   *
   * @default - the `quotaMaxVcpus`, `quotaMaxServers`, `quotaMaxClusters` context values, else
   * the functions' own defaults (4096, 2000, 2000)
   */
  readonly quotaDefaults?: QuotaDefaults;
  /**
   * How long the provision workflow waits for the servers' configuration agents (SSM's on ec2)
   * to come online before it fails the cluster with ConfigurationAgentsOffline
   * (`CONFIGURATION_AGENT_TIMEOUT_SECONDS`). Agents behind a NAT or on a cold image can take
   * several minutes. At most 15 minutes: with the boot (15 min), configuration (1 h) and rollback
   * (30 min) limits it fills the workflow's 2 h.
   *
   * @default - the `configurationAgentTimeoutSeconds` context value, else 10 minutes
   */
  readonly configurationAgentTimeout?: Duration;
}

/**
 * The cluster service on AWS: a REST API behind a REQUEST authorizer, the provision and destroy
 * workflows from statemachine/, the single DynamoDB table they share, and the service's events.
 */
export class ClusterServiceStack extends Stack {
  public readonly table: ServiceTable;
  public readonly functions: FunctionsByName;
  /** The provision state machine (also in `stateMachines`). */
  public readonly stateMachine: WorkflowStateMachine;
  public readonly stateMachines: Readonly<Record<WorkflowKind, WorkflowStateMachine>>;
  public readonly api: ServiceApi;
  /** The service's own bus: create requests in, status and rejection events out. */
  public readonly bus: events.EventBus;
  /** Create requests the rule delivers; failed ones go to `createRequestsDlq` after three tries. */
  public readonly createRequests: sqs.Queue;
  public readonly createRequestsDlq: sqs.Queue;
  /** Stream batches the status publisher could not handle after its retries (their positions, to replay). */
  public readonly statusChangesDlq: sqs.Queue;
  /** The `ec2` provider's node role and grants, when the stack was given its settings. */
  public readonly ec2Provider?: Ec2ProviderAccess;
  /** The cloud-init runner's node-report key and configuration bundle. */
  public readonly cloudInitRunner: CloudInitRunnerAccess;
  /** The configuration container's ECS task, when the stack was given its image. */
  public readonly configurationContainer?: ConfigurationContainer;

  public constructor(scope: Construct, id: string, props: ClusterServiceStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const defaultProvider = resolveDefaultProvider(props.defaultProvider ?? this.node.tryGetContext('defaultProvider'));
    this.table = new ServiceTable(this, 'Table');

    const ec2 = props.ec2 ?? ec2SettingsFromContext(this);
    const containerSettings = props.configurationContainer ?? configurationContainerFromContext(this);
    if (containerSettings && !ec2) throw new Error('configurationImage needs the ec2 settings (ec2VpcId, ec2SubnetIds): the task runs in their VPC');

    const serviceFunctions = new ServiceFunctions(this, 'Functions', { table: this.table, hasConfigurationContainer: containerSettings !== undefined, logRetention });
    const functions = serviceFunctions.byName;
    this.functions = functions;
    const stepFunction = serviceFunctions.theOne('runsWorkflowSteps', (definition) => definition.runsWorkflowSteps);

    // Seals the list routes' page tokens; only the functions that issue and open them read it.
    const pageTokenSecret = new secretsmanager.Secret(this, 'PageTokenSecret', {
      description: 'Seals the nextToken of the cluster list routes (AES-256-GCM key material)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledge(
      pageTokenSecret,
      'SMG4',
      'key material of page cursors, not a credential: rotating it only sends clients holding a nextToken back to the first page; rotate it by hand if it leaks',
    );
    for (const fn of serviceFunctions.withSetting('pageTokenSecret')) {
      pageTokenSecret.grantRead(fn);
      fn.addEnvironment('PAGE_TOKEN_SECRET_ARN', pageTokenSecret.secretArn);
    }

    if (ec2) {
      this.ec2Provider = new Ec2ProviderAccess(this, 'Ec2Provider', {
        ...ec2,
        planners: serviceFunctions.withSetting('ec2Settings'),
        driver: serviceFunctions.theOne('the ec2Servers setting', (definition) => definition.settings?.includes('ec2Servers')),
        logRetention,
      });
    }
    this.cloudInitRunner = new CloudInitRunnerAccess(this, 'CloudInitRunner', {
      keyReaders: serviceFunctions.withSetting('nodeReportKey'),
      bundleReaders: serviceFunctions.withSetting('configurationBundleUrl'),
      ...(this.ec2Provider ? { bundle: this.ec2Provider.configurationBundle } : {}),
    });
    const openstack = props.openstack ?? openstackSettingsFromContext(this);
    if (openstack) {
      // Read once per container by the functions that plan and make servers; never in the template.
      const credentials = /-[A-Za-z0-9]{6}$/.test(openstack.credentialsSecretArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'OpenStackCredentials', openstack.credentialsSecretArn)
        : secretsmanager.Secret.fromSecretPartialArn(this, 'OpenStackCredentials', openstack.credentialsSecretArn);
      const variables = {
        OPENSTACK_CREDENTIALS_SECRET_ARN: openstack.credentialsSecretArn,
        OPENSTACK_IMAGE: openstack.image,
        ...(openstack.cloud ? { OPENSTACK_CLOUD: openstack.cloud } : {}),
        ...(openstack.externalNetwork ? { OPENSTACK_EXTERNAL_NETWORK: openstack.externalNetwork } : {}),
        ...(openstack.keyName ? { OPENSTACK_KEY_NAME: openstack.keyName } : {}),
        ...(openstack.loginUser ? { OPENSTACK_LOGIN_USER: openstack.loginUser } : {}),
      };
      for (const fn of serviceFunctions.withSetting('openstackSettings')) {
        credentials.grantRead(fn);
        for (const [name, value] of Object.entries(variables)) fn.addEnvironment(name, value);
      }
    }
    const hyperstack = props.hyperstack ?? hyperstackSettingsFromContext(this);
    if (hyperstack) {
      // As openstack's credentials: read once per container by the functions that plan and make servers.
      const apiKey = /-[A-Za-z0-9]{6}$/.test(hyperstack.apiKeySecretArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'HyperstackApiKey', hyperstack.apiKeySecretArn)
        : secretsmanager.Secret.fromSecretPartialArn(this, 'HyperstackApiKey', hyperstack.apiKeySecretArn);
      const variables = {
        HYPERSTACK_API_KEY_SECRET_ARN: hyperstack.apiKeySecretArn,
        HYPERSTACK_ENVIRONMENT: hyperstack.environment,
        HYPERSTACK_IMAGE: hyperstack.image,
        HYPERSTACK_KEY_NAME: hyperstack.keyName,
        ...(hyperstack.apiUrl ? { HYPERSTACK_API_URL: hyperstack.apiUrl } : {}),
      };
      for (const fn of serviceFunctions.withSetting('hyperstackSettings')) {
        apiKey.grantRead(fn);
        for (const [name, value] of Object.entries(variables)) fn.addEnvironment(name, value);
      }
    }
    const lightsail = props.lightsail ?? lightsailSettingsFromContext(this);
    if (lightsail) {
      new LightsailProviderAccess(this, 'LightsailProvider', {
        ...lightsail,
        planners: serviceFunctions.withSetting('lightsailSettings').filter((fn) => fn !== stepFunction),
        driver: stepFunction,
      });
    }
    if (containerSettings && this.ec2Provider && ec2) {
      this.configurationContainer = new ConfigurationContainer(this, 'ConfigurationContainer', {
        ...containerSettings,
        vpcId: ec2.vpcId,
        subnetIds: ec2.subnetIds,
        driver: serviceFunctions.theOne('the configurationContainer setting', (definition) => definition.settings?.includes('configurationContainer')),
        inputsBucket: this.ec2Provider.inputsBucket,
        logRetention,
      });
      for (const fn of serviceFunctions.where((definition) => definition.readsConfigurationLogs)) this.configurationContainer.reportProgressTo(fn);
    }

    const workflow = (kind: WorkflowKind) =>
      new WorkflowStateMachine(this, `${pascalCase(kind)}StateMachine`, {
        kind,
        stepFunction,
        configurationContainer: this.configurationContainer,
        logRetention,
      });
    this.stateMachines = { provision: workflow('provision'), destroy: workflow('destroy'), power: workflow('power') };
    this.stateMachine = this.stateMachines.provision;

    const quotaDefaults = resolveQuotaDefaults(props.quotaDefaults, this);
    // Compat requests get their runner at create; native ones that name none get it at plan.
    const defaultRunner = resolveDefaultRunner(props.defaultConfigurationRunner ?? this.node.tryGetContext('defaultConfigurationRunner'), this.configurationContainer !== undefined);
    const agentTimeout = resolveAgentTimeoutSeconds(props.configurationAgentTimeout?.toSeconds() ?? this.node.tryGetContext('configurationAgentTimeoutSeconds'));
    // Every other setting is a variable or two; a new one fails to compile until it is given its values.
    const variables: Record<
      Exclude<FunctionSetting, 'pageTokenSecret' | 'ec2Settings' | 'ec2Servers' | 'configurationContainer' | 'nodeReportKey' | 'serviceUrl' | 'configurationBundleUrl' | 'openstackSettings' | 'hyperstackSettings' | 'lightsailSettings'>,
      Readonly<Record<string, string>>
    > = {
      defaultProvider: { DEFAULT_PROVIDER: defaultProvider },
      defaultConfigurationRunner: { DEFAULT_CONFIGURATION_RUNNER: defaultRunner },
      configurationAgentTimeout: { CONFIGURATION_AGENT_TIMEOUT_SECONDS: String(agentTimeout) },
      quotaDefaults: Object.fromEntries(Object.entries(quotaDefaults).map(([variable, value]) => [variable, String(value)])),
    };
    for (const [setting, values] of Object.entries(variables) as [FunctionSetting, Record<string, string>][]) serviceFunctions.setVariables(setting, values);

    const serviceEvents = new ServiceEvents(this, 'Events', {
      createRequestsReaderTimeout: serviceFunctions.theOne('consumesCreateRequests', (definition) => definition.consumesCreateRequests).timeout,
    });
    this.bus = serviceEvents.bus;
    this.createRequests = serviceEvents.createRequests;
    this.createRequestsDlq = serviceEvents.createRequestsDlq;
    this.statusChangesDlq = serviceEvents.statusChangesDlq;
    for (const { name, definition, fn } of serviceFunctions.entries()) {
      const starts = definition.startsWorkflows ?? [];
      const stops = definition.stopsWorkflows ?? [];
      if (definition.publishesEvents) serviceEvents.publishFrom(fn);
      if (starts.length > 0 || stops.length > 0) {
        // Every function that touches executions can name every state machine; the grants decide what it may do.
        fn.addEnvironment('PROVISION_STATE_MACHINE_ARN', this.stateMachines.provision.stateMachineArn);
        fn.addEnvironment('DESTROY_STATE_MACHINE_ARN', this.stateMachines.destroy.stateMachineArn);
        fn.addEnvironment('POWER_STATE_MACHINE_ARN', this.stateMachines.power.stateMachineArn);
        fn.addEnvironment('WORKFLOW_STEP_TIMEOUT_SECONDS', String(stepFunction.timeout.toSeconds()));
      }
      for (const kind of starts) this.stateMachines[kind].grantStartExecution(fn);
      for (const kind of stops) {
        const stop = this.stateMachines[kind].grantExecution(fn, 'states:StopExecution');
        acknowledgeWildcards(fn.role ?? fn, stop.principalStatements, `executions of the ${kind} state machine alone: they are named by cluster id, made after deployment`);
      }
      if (definition.consumesTableStream) serviceEvents.feedStatusChangesTo(fn, this.table);
      if (definition.consumesCreateRequests) serviceEvents.deliverCreateRequestsTo(fn);
      if (definition.schedule) {
        new events.Rule(this, `${pascalCase(name)}Schedule`, {
          description: definition.description,
          schedule: events.Schedule.expression(definition.schedule),
          targets: [new targets.LambdaFunction(fn)],
        });
      }
    }

    this.api = new ServiceApi(this, 'Api', {
      functions,
      logRetention,
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
    });
    // Where the cloud-init runner's nodes report: the API's own URL, spelled from its id alone —
    // the stage's URL would make the workflow's function wait for the API's deployment, whose
    // methods' functions start the workflow.
    for (const fn of serviceFunctions.withSetting('serviceUrl')) fn.addEnvironment('SERVICE_URL', this.api.stageUrl());
    new ServiceMonitoring(this, 'Monitoring', {
      authorizer: functions.authorizer,
      api: this.api,
      stateMachines: this.stateMachines,
      deadLetterQueues: { createRequests: this.createRequestsDlq, statusChanges: this.statusChangesDlq },
    });

    if (this.ec2Provider) {
      new CfnOutput(this, 'NodeRoleArn', { value: this.ec2Provider.nodeRole.roleArn, description: 'The role cluster nodes run with' });
      new CfnOutput(this, 'ConfigurationInputsBucketName', {
        value: this.ec2Provider.inputsBucket.bucketName,
        description: 'The configuration runs’ inputs: inputs/<cluster id>/<attempt>/, kept a week',
      });
    }
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the prod stage' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn, description: 'The provision state machine' });
    new CfnOutput(this, 'DestroyStateMachineArn', { value: this.stateMachines.destroy.stateMachineArn });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName, description: 'Put Cluster Create Requested events here' });
    new CfnOutput(this, 'CreateRequestsDlqUrl', { value: this.createRequestsDlq.queueUrl });
    new CfnOutput(this, 'StateMachineConsoleUrl', {
      value: `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/statemachines/view/${this.stateMachine.stateMachineArn}`,
      description: 'Executions are named by cluster id',
    });
  }

  /** Leaves resource groups out of logical ids (infra/aws/logical-ids.ts). */
  protected override allocateLogicalId(element: CfnElement): string {
    // The default allocation reads no more of an element than its scopes and its stack.
    return super.allocateLogicalId({ node: { scopes: scopesNamingLogicalId(element) }, stack: this } as unknown as CfnElement);
  }
}
