/**
 * The local stand-in for the configuration container's ECS task (`ecs:runTask.sync`): what the
 * container does, done against the emulated cloud. It reads the environment the workflow gave
 * the container, applies the profile to the inventory's hosts through the local provider, prints
 * run-profile.sh's `COMPONENT` lines into a log that the same configuration-progress handler
 * reads as it reads the task's log group on AWS (a subscription-shaped event: gzipped JSON,
 * base64), and ends as runTask.sync ends — the stopped task's description, or
 * `States.TaskFailed` with that description as the cause when the container exits non-zero.
 *
 * For a cluster on a real cloud (local mode with PROVIDER=openstack, …) there is no emulated run
 * to stand in for: the stand-in runs the container's own entrypoint, configuration/container/
 * run-profile.sh, on this machine with the container's environment and the key of
 * `LOCAL_CONFIGURATION_SSH_KEY_FILE`, as the task would (ansible-core and ssh from this machine).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { COMPONENT_LINE_FIELDS, COMPONENT_MARKER, formatComponentLine, type ComponentLine } from '#domain/component-lines';
import type { Inventory } from '#domain/configuration-inventory';
import { componentsOf } from '#domain/profiles';
import type { CloudProvider } from '#domain/provider';
import { logger } from '#lib/logger';
import { invokeLocally } from './invocations.ts';
import type { LocalIntegration, LocalLambda } from './step-functions.ts';

export const ECS_RUN_TASK_SYNC = 'arn:aws:states:::ecs:runTask.sync';

const LOCAL_ECS = 'arn:aws:ecs:local:000000000000';

/** The provision file's ECS placeholders, locally: names only, nothing reads them. */
export const LOCAL_CONFIGURATION_SUBSTITUTIONS = {
  ConfigurationClusterArn: `${LOCAL_ECS}:cluster/configuration`,
  ConfigurationTaskDefinitionArn: `${LOCAL_ECS}:task-definition/configuration:1`,
};

/** run-profile.sh's exit status when a component failed. */
const COMPONENT_FAILED_EXIT = 2;

interface RunTaskParameters {
  StartedBy?: string;
  Overrides?: { ContainerOverrides?: { Name?: string; Environment?: { Name: string; Value: string }[] }[] };
}

type InventoryGroup = { hosts?: Record<string, { node_role?: string }>; children?: Record<string, InventoryGroup> };

const hostsOf = (group: InventoryGroup | undefined): { name: string; role: string }[] => [
  ...Object.entries(group?.hosts ?? {}).map(([name, vars]) => ({ name, role: vars.node_role ?? '' })),
  ...Object.values(group?.children ?? {}).flatMap(hostsOf),
];

const stoppedTask = (taskArn: string, exitCode: number) => ({
  TaskArn: taskArn,
  LastStatus: 'STOPPED',
  StopCode: 'EssentialContainerExited',
  StoppedReason: 'Essential container in task exited',
  Containers: [{ Name: 'configuration', LastStatus: 'STOPPED', ExitCode: exitCode }],
});

/**
 * What the log group's subscription filter lets through (its space-delimited pattern,
 * COMPONENT_LINE_FIELDS): the marker first, and at least as many fields as the pattern names.
 */
const passesSubscriptionFilter = (message: string): boolean => {
  const fields = message.split(' ').filter(Boolean);
  return fields[0] === COMPONENT_MARKER && fields.length >= COMPONENT_LINE_FIELDS.length - 1;
};

/** Log events as a CloudWatch Logs subscription hands them to a Lambda function. */
export const subscriptionEvent = (logStream: string, events: { message: string; timestamp: number }[]): CloudWatchLogsEvent => {
  const data: CloudWatchLogsDecodedData = {
    messageType: 'DATA_MESSAGE',
    owner: '000000000000',
    logGroup: 'local/configuration-container',
    logStream,
    subscriptionFilters: ['configuration-progress'],
    logEvents: events.map((event) => ({ id: randomUUID(), ...event })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
};

export interface ConfigurationContainerOptions {
  /** The emulated cloud's provider: the container's SSH sessions, in effect. */
  provider: CloudProvider;
  /** The configuration-progress handler: what the task's log group is subscribed to on AWS. */
  progress?: LocalLambda;
  /** Pause between looks at the run, in ms. */
  pollMs?: number;
  /** The provider of a cluster: the emulated cloud's clusters are run by it, any other's by run-profile.sh. */
  providerOf?: (clusterId: string) => Promise<string | undefined>;
  /** The key that opens a real cloud's nodes (the task's SSH_PRIVATE_KEY secret on AWS). */
  sshKeyFile?: string;
  /** More environment for run-profile.sh (PATH, …). */
  shellEnv?: Record<string, string>;
}

const RUN_PROFILE = path.resolve(import.meta.dirname, '../../configuration/container/run-profile.sh');

/** run-profile.sh as the container runs it: each stdout line handed to `line`, its exit status returned. */
const runProfileScript = (environment: Map<string, string>, options: ConfigurationContainerOptions, line: (text: string) => Promise<void>): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn('bash', [RUN_PROFILE], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/',
        ...Object.fromEntries(environment),
        ...(options.sshKeyFile ? { SSH_PRIVATE_KEY_FILE: options.sshKeyFile } : {}),
        ...options.shellEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let lines = Promise.resolve();
    createInterface({ input: child.stdout! }).on('line', (text) => {
      lines = lines.then(() => line(text));
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) logger.warn('run-profile.sh failed', { exitCode: code, stderr });
      void lines.then(() => resolve(code ?? 1));
    });
  });

export const localConfigurationContainer = (options: ConfigurationContainerOptions): LocalIntegration => async (input) => {
  const parameters = input as RunTaskParameters;
  const environment = new Map(
    (parameters.Overrides?.ContainerOverrides?.find((c) => c.Name === 'configuration')?.Environment ?? []).map((v) => [v.Name, v.Value]),
  );
  const inventory = JSON.parse(environment.get('CLUSTER_INVENTORY_JSON') ?? '{}') as Partial<Inventory>;
  const clusterId = String(inventory.all?.vars.cluster_id ?? parameters.StartedBy ?? '');
  const profile = environment.get('PROFILE') ?? '';
  const hosts = [...hostsOf(inventory.all?.children.master), ...hostsOf(inventory.all?.children.workers)];
  const taskId = randomUUID().replaceAll('-', '');
  const taskArn = `${LOCAL_ECS}:task/configuration/${taskId}`;

  // run-profile.sh's lines, identified as the environment says (CLUSTER_ID, CLUSTER_ATTEMPT).
  const identity = environment.get('CLUSTER_ID')
    ? { clusterId: environment.get('CLUSTER_ID') ?? '', attempt: Number(environment.get('CLUSTER_ATTEMPT') ?? '1') }
    : {};
  const pending: string[] = [];
  const print = (line: Omit<ComponentLine, 'clusterId' | 'attempt'>) => pending.push(formatComponentLine({ ...line, ...identity }));
  // The log stream the awslogs driver would write: `<prefix>/<container>/<task id>`.
  const logStream = `configuration/configuration/${taskId}`;
  const flush = async () => {
    const events = pending.splice(0).filter(passesSubscriptionFilter).map((message) => ({ message, timestamp: Date.now() }));
    const progress = options.progress;
    if (events.length === 0 || !progress) return;
    // Delivery runs beside the task on AWS: a failure to record progress never fails the task.
    await invokeLocally('configuration-progress', 30_000, (context) =>
      progress(subscriptionEvent(logStream, events) as never, context).catch((error: unknown) => {
        logger.warn('the configuration progress handler failed', { clusterId, error });
      }),
    );
  };

  // The script prints START for each component it begins and OK for each it finishes, in the
  // profile's order; a look at the emulated run may skip a short component, so fill it in.
  const components = [...(componentsOf(profile) ?? [])];
  let started = -1;
  const reachFor = (component: string) => {
    const index = components.indexOf(component);
    for (let next = started + 1; next <= index; next++) {
      if (next > 0) print({ component: components[next - 1] ?? '', state: 'OK', node: 'all' });
      print({ component: components[next] ?? '', state: 'START', node: 'all' });
      started = next;
    }
  };

  const failed = (exitCode: number) => {
    // As on AWS, the task's description says only how the container exited; the lines say the rest.
    const error = new Error(JSON.stringify(stoppedTask(taskArn, exitCode)));
    error.name = 'States.TaskFailed';
    return error;
  };
  const provider = options.providerOf ? await options.providerOf(clusterId) : options.provider.name;
  if (provider !== options.provider.name) {
    const exitCode = await runProfileScript(environment, options, async (text) => {
      pending.push(text);
      await flush();
    });
    if (exitCode !== 0) throw failed(exitCode);
    return stoppedTask(taskArn, 0);
  }

  // The container knows hosts by name and address; the emulated cloud wants its server ids.
  const ids = new Map((await options.provider.describeServers({ clusterId })).map((server) => [server.name, server.id]));
  const servers = hosts.flatMap((host) => {
    const id = ids.get(host.name);
    return id ? [{ id, name: host.name, role: host.role }] : [];
  });
  const configurationId = await options.provider.startConfiguration({ clusterId, profile, servers });
  for (;;) {
    const status = await options.provider.describeConfiguration({ clusterId, configurationId });
    reachFor(status.component);
    if (status.state === 'SUCCEEDED') {
      print({ component: status.component, state: 'OK', node: 'all' });
      await flush();
      return stoppedTask(taskArn, 0);
    }
    if (status.state === 'FAILED') {
      print({ component: status.component, state: 'FAILED', node: status.failedNode ?? null });
      await flush();
      throw failed(COMPONENT_FAILED_EXIT);
    }
    await flush();
    await sleep(options.pollMs ?? 20);
  }
};
