/**
 * The local stack: the same architecture as the CDK stack, on one machine. DynamoDB is dynalite,
 * Step Functions is aws-local-stepfunctions running statemachine/*.asl.json, API Gateway is the
 * emulation in api-gateway.ts, and compute is the emulated `local` cloud. The handlers are the
 * very modules the Lambda functions run.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { dynamoDbStores, type TableStores } from '#adapters/dynamodb/stores';
import { providerRegistry } from '#domain/providers';
import { issueToken, TOKEN_PATTERN, generateToken } from '#use-cases/tokens';
import { json } from '#lib/http';
import { quotaDefaultsOf } from '#lib/config';
import { provisionExecutionName, WORKFLOW_KINDS } from '#domain/workflow';
import { isChangingPower } from '#domain/lifecycle';
import { expireClusters } from '#use-cases/change-cluster';
import { logger } from '#lib/logger';
import { createAuthorizer } from '../../functions/authorizer/index.ts';
import { changeClusterHandler } from '../../functions/change-cluster/index.ts';
import { createClusterHandler } from '../../functions/create-cluster/index.ts';
import { createTriggerHandler } from '../../functions/create-trigger/index.ts';
import { publishStatusHandler } from '../../functions/publish-status/index.ts';
import { configurationProgressHandler } from '../../functions/configuration-progress/index.ts';
import { HttpWebhookSender } from '#adapters/http-webhook-sender';
import { LocalTableStream } from './table-stream.ts';
import { readClustersHandler } from '../../functions/read-clusters/index.ts';
import { nodeReportsHandler } from '../../functions/node-reports/index.ts';
import { configurationBundleZip } from './configuration-bundle.ts';
import { workflowStepHandler } from '../../functions/workflow-step/index.ts';
import { FUNCTIONS, ROUTES, STATE_MACHINES, type FunctionName } from '../routes.ts';
import { createLocalApi, type LocalRoute, type ProxyHandler } from './api-gateway.ts';
import { LocalCloud, LocalCloudProvider, localCloudSettingsOf, type LocalCloudOptions } from './cloud/index.ts';
import type { LocalConfig } from './config.ts';
import { ensureTable, LOCAL_TABLE_NAME, startLocalDynamoDb } from './dynamodb.ts';
import { LocalWorkflow, LocalWorkflows, type LocalLambda } from './step-functions.ts';
import { LocalEventBus } from './event-bus.ts';
import { putEventsHandler } from './put-events.ts';
import { invokeLocally, outsideInvocations, scopeInvocations } from './invocations.ts';
import { localProviders, type ProviderAvailability } from './providers.ts';
import { ECS_RUN_TASK_SYNC, LOCAL_CONFIGURATION_SUBSTITUTIONS, localConfigurationContainer } from './configuration-container.ts';

const BUNDLE_PATH = '/_local/configuration-bundle.zip';

const bundleResponse = (zip: Buffer) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/zip' },
  body: zip.toString('base64'),
  isBase64Encoded: true,
});

/** Statuses whose workflow was cut short by a stop or crash and must be started again. */
const RESUMABLE = ['PENDING', 'PROVISIONING', 'CONFIGURING', 'DESTROYING', 'STOPPING', 'STARTING'] as const;
export const LOCAL_PROJECT = 'local';

export interface LocalStackOptions {
  config: LocalConfig;
  /** The emulated cloud's settings; the `LOCAL_CLOUD_*` ones of `config` when absent. */
  cloud?: Omit<LocalCloudOptions, 'dataDir'>;
  /** Keep everything in memory (tests); otherwise under `config.LOCAL_DATA_DIR`. */
  inMemory?: boolean;
  /** Pause before a Task retry, in ms (tests); the definition's backoff when absent. */
  retryMs?: number;
  /** Pauses between webhook attempts (tests); the publisher's own when absent. */
  webhookRetryDelaysMs?: number[];
  /** Where the other providers' settings are read from (`EC2_*`, `OS_*`, …); process.env when absent. */
  providerEnv?: NodeJS.ProcessEnv;
  /** More environment for run-profile.sh when the container's stand-in runs it for a real cloud (tests: a PATH with stand-ins). */
  configurationShellEnv?: Record<string, string>;
}

export interface LocalStack {
  url: string;
  dynamodbEndpoint: string;
  /** The token registered for project `local`. */
  token: string;
  stores: TableStores;
  cloud: LocalCloud;
  workflows: LocalWorkflows;
  /** The bus, its create rule and queue: POST /_local/events puts entries on it. */
  events: LocalEventBus;
  /** The stand-in for the table's stream: status changes on their way to the bus and webhooks. */
  tableStream: LocalTableStream;
  /** Clusters whose workflow was started again at start. */
  resumed: string[];
  /** Every provider, whether this start has it, and why (or why not). */
  providers: ProviderAvailability[];
  stop(): Promise<void>;
}

/** LOCAL_API_TOKEN, or the token kept in the data directory, or a new one kept there. */
const localToken = async (config: LocalConfig, dataDir: string | null): Promise<string> => {
  if (config.LOCAL_API_TOKEN) return config.LOCAL_API_TOKEN;
  if (!dataDir) return generateToken();
  const file = path.join(dataDir, 'local-api-token');
  const kept = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (TOKEN_PATTERN.test(kept)) return kept;
  const token = generateToken();
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return token;
};

export const startLocalStack = async (options: LocalStackOptions): Promise<LocalStack> => {
  const { config } = options;
  // Many functions, overlapping invocations, one process: each invocation keeps its context to itself.
  scopeInvocations();
  const dataDir = options.inMemory ? null : path.resolve(config.LOCAL_DATA_DIR);
  if (dataDir) await mkdir(dataDir, { recursive: true });

  const dynamodb = await startLocalDynamoDb({
    port: config.DYNAMODB_PORT,
    host: config.HOST,
    ...(dataDir ? { path: path.join(dataDir, 'dynamodb') } : {}),
  });
  await ensureTable(dynamodb.client);
  // dynalite has no streams: the store reports its status changes to the local stand-in instead.
  let publishStatus: ReturnType<typeof publishStatusHandler> | undefined;
  const tableStream = new LocalTableStream(() => {
    if (!publishStatus) throw new Error('the status publisher is not ready');
    return publishStatus;
  });
  const stores = dynamoDbStores({ tableName: LOCAL_TABLE_NAME, client: dynamodb.client, onStatusChange: (item) => tableStream.push(item) });
  const { clusters, quotas, idempotencyKeys, tokens, webhookSecrets } = stores;

  const cloud = await LocalCloud.open({ ...(options.cloud ?? localCloudSettingsOf(config)), ...(dataDir ? { dataDir } : {}) });
  const localProvider = new LocalCloudProvider(cloud);
  let built: Awaited<ReturnType<typeof localProviders>>;
  try {
    built = await localProviders(localProvider, config.DEFAULT_PROVIDER, options.providerEnv ?? process.env);
  } catch (error) {
    await cloud.close();
    await dynamodb.stop();
    throw error;
  }
  const providers = providerRegistry(built.providers);

  const timeoutMs = (name: FunctionName) => FUNCTIONS[name].timeoutSeconds * 1000;
  // Where the cloud-init runner's nodes report: known once the API listens (below).
  let serviceUrl = config.SERVICE_URL?.replace(/\/+$/, '') ?? '';
  const nodeAgents = {
    reportUrl: (clusterId: string) => `${serviceUrl}/v1/clusters/${clusterId}/node-reports`,
    eventsUrl: (clusterId: string, secret: string) => `${serviceUrl}/v1/clusters/${clusterId}/provider-events/${secret}`,
    nodeReportKey: stores.nodeReportKey,
  };
  // Locally the configuration container always exists: its stand-in runs against the emulated cloud.
  const workflowStep = workflowStepHandler({ clusters, quotas, providers, nodeAgents, config: { ...config, CONTAINER_RUNNER_ENABLED: true } }) as unknown as LocalLambda;
  // What the container's log group is subscribed to on AWS; the stand-in hands it the task's lines.
  const configurationProgress = configurationProgressHandler({ clusters }) as unknown as LocalLambda;
  const machine = (kind: (typeof WORKFLOW_KINDS)[number]) =>
    new LocalWorkflow({
      file: STATE_MACHINES[kind].file,
      stateMachineName: kind,
      functions: { WorkflowStepFunctionArn: { name: 'workflow-step', handler: workflowStep, timeoutMs: timeoutMs('workflowStep') } },
      resources: {
        [ECS_RUN_TASK_SYNC]: localConfigurationContainer({
          provider: localProvider,
          progress: configurationProgress,
          providerOf: async (clusterId) => (await clusters.getCluster(clusterId))?.provider,
          ...(config.LOCAL_CONFIGURATION_SSH_KEY_FILE ? { sshKeyFile: path.resolve(config.LOCAL_CONFIGURATION_SSH_KEY_FILE) } : {}),
          ...(options.configurationShellEnv ? { shellEnv: options.configurationShellEnv } : {}),
        }),
      },
      substitutions: LOCAL_CONFIGURATION_SUBSTITUTIONS,
      waitMs: config.LOCAL_POLL_MS,
      ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    });
  const workflows = new LocalWorkflows({ provision: machine('provision'), destroy: machine('destroy'), power: machine('power') });
  const quotaDefaults = quotaDefaultsOf(config);

  const handlers: Record<(typeof ROUTES)[number]['function'], ProxyHandler> = {
    createCluster: createClusterHandler({
      clusters,
      quotas,
      idempotencyKeys,
      webhookSecrets,
      workflows,
      quotaDefaults,
      providers,
      defaultProvider: config.DEFAULT_PROVIDER,
      defaultConfigurationRunner: config.DEFAULT_CONFIGURATION_RUNNER,
      pollSeconds: config.POLL_INTERVAL_SECONDS,
    }) as unknown as ProxyHandler,
    readClusters: readClustersHandler({ clusters, pageTokenSecret: stores.pageTokenSecret, consoleUrlFor: () => null }) as unknown as ProxyHandler,
    changeCluster: changeClusterHandler({ clusters, quotas, workflows, quotaDefaults }) as unknown as ProxyHandler,
    nodeReports: nodeReportsHandler({
      clusters,
      nodeReportKey: stores.nodeReportKey,
      bundleUrl: async () => `${serviceUrl}${BUNDLE_PATH}`,
      // As often as the workflow polls, within reason: each ask is a python process on the node.
      agentPollSeconds: Math.max(0.5, config.LOCAL_POLL_MS / 1000),
    }) as unknown as ProxyHandler,
  };
  // The bus delivers create requests to the trigger, which puts rejections back on the bus.
  let trigger: ReturnType<typeof createTriggerHandler> | undefined;
  const events = new LocalEventBus((event, context) => (trigger ? trigger(event, context) : Promise.reject(new Error('the trigger is not ready'))));
  // The batch handlers are built as Lambda's init phase builds them, outside any invocation:
  // their processors keep state per invocation.
  trigger = outsideInvocations(() =>
    createTriggerHandler({ clusters, quotas, idempotencyKeys, workflows, quotaDefaults, providers, defaultProvider: config.DEFAULT_PROVIDER, events }),
  );
  // Local mode delivers webhooks to loopback receivers too (a deployed stack refuses internal addresses).
  publishStatus = outsideInvocations(() =>
    publishStatusHandler({
      clusters,
      webhookSecrets,
      events,
      webhooks: new HttpWebhookSender({ allowInternal: true }),
      ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    }),
  );

  const routes: LocalRoute[] = [
    // A node's route checks the node's secret itself, as on AWS, where no authorizer is in front of it.
    ...ROUTES.map((route) => ({ method: route.method, path: route.path, functionName: route.function, handler: handlers[route.function], authorize: route.caller !== 'node' })),
    // Local only: the configuration bundle, for the cloud-init runner's masters (deployed: a presigned S3 URL).
    { method: 'GET', path: BUNDLE_PATH, functionName: 'local-configuration-bundle', authorize: false, handler: async () => bundleResponse(await configurationBundleZip()) },
    // Local only: the emulated cloud's inventory, so tests and people can count what is left running.
    { method: 'GET', path: '/_local/cloud/servers', functionName: 'local-cloud', authorize: false, handler: async () => json(200, { items: cloud.listServers() }) },
    // Local only: PutEvents onto the service's bus (as `aws events put-events` would), and what is on it.
    { method: 'POST', path: '/_local/events', functionName: 'local-events', authorize: false, handler: putEventsHandler(events) },
    { method: 'GET', path: '/_local/events', functionName: 'local-events', authorize: false, handler: async () => json(200, { items: events.events() }) },
  ];
  const server = createLocalApi({ routes, authorizer: createAuthorizer({ tokens }) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  serviceUrl ||= url;

  const token = await localToken(config, dataDir);
  await issueToken(tokens, { project: LOCAL_PROJECT, token, description: 'local mode' });

  const resumed: string[] = [];
  for (const cluster of await clusters.findClustersByStatus(RESUMABLE)) {
    const action = cluster.status === 'STOPPING' ? 'stop' : 'start';
    const started =
      cluster.status === 'DESTROYING'
        ? workflows.machines.destroy.start((cluster.destroyExecutionId ?? '').split(':').at(-1) || `${cluster.id}-destroy`, { clusterId: cluster.id })
        : isChangingPower(cluster.status)
          ? workflows.machines.power.start((cluster.powerExecutionId ?? '').split(':').at(-1) || `${cluster.id}-${action}`, { clusterId: cluster.id, action })
          : workflows.machines.provision.start(provisionExecutionName(cluster.id, cluster.attempt), { clusterId: cluster.id });
    if (started) resumed.push(cluster.id);
  }
  if (resumed.length > 0) logger.info('resumed clusters', { clusters: resumed });

  // The deployed stack runs the expiry sweep on a schedule; here a timer does, never keeping the process alive.
  const sweep = setInterval(() => {
    invokeLocally('expire-clusters', timeoutMs('expireClusters'), () => expireClusters({ clusters, quotas, workflows, quotaDefaults })).catch((error: unknown) =>
      logger.error('expiry sweep failed', { error }),
    );
  }, config.LOCAL_EXPIRY_SWEEP_MS);
  sweep.unref();

  return {
    url,
    dynamodbEndpoint: dynamodb.endpoint,
    token,
    stores,
    cloud,
    workflows,
    events,
    tableStream,
    resumed,
    providers: built.availability,
    stop: async () => {
      clearInterval(sweep);
      // Requests under way finish (they write to the store, which closes last); idle keep-alive
      // connections go now, and anything still open after a grace period is cut.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), 5_000);
      await closed;
      clearTimeout(grace);
      await events.stop();
      await workflows.stopAll();
      await tableStream.idle();
      await cloud.close();
      await dynamodb.stop();
    },
  };
};
