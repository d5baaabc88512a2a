/**
 * The local stand-in for the configuration container's ECS task (`ecs:runTask.sync`): what the
 * container does, done against the emulated cloud. It reads the environment the workflow gave
 * the container, applies the profile to the inventory's hosts through the local provider, and
 * ends as runTask.sync ends — the stopped task's description, or `States.TaskFailed` with that
 * description as the cause when the container exits non-zero.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Inventory } from '#domain/configuration-inventory';
import type { CloudProvider } from '#domain/provider';
import type { LocalIntegration } from './step-functions.ts';

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

const stoppedTask = (taskArn: string, exitCode: number, reason?: string) => ({
  TaskArn: taskArn,
  LastStatus: 'STOPPED',
  StopCode: 'EssentialContainerExited',
  StoppedReason: 'Essential container in task exited',
  Containers: [{ Name: 'configuration', LastStatus: 'STOPPED', ExitCode: exitCode, ...(reason ? { Reason: reason } : {}) }],
});

export interface ConfigurationContainerOptions {
  /** The emulated cloud's provider: the container's SSH sessions, in effect. */
  provider: CloudProvider;
  /** Pause between looks at the run, in ms. */
  pollMs?: number;
}

export const localConfigurationContainer = (options: ConfigurationContainerOptions): LocalIntegration => async (input) => {
  const parameters = input as RunTaskParameters;
  const environment = new Map(
    (parameters.Overrides?.ContainerOverrides?.find((c) => c.Name === 'configuration')?.Environment ?? []).map((v) => [v.Name, v.Value]),
  );
  const inventory = JSON.parse(environment.get('CLUSTER_INVENTORY_JSON') ?? '{}') as Partial<Inventory>;
  const clusterId = String(inventory.all?.vars.cluster_id ?? parameters.StartedBy ?? '');
  const profile = environment.get('PROFILE') ?? '';
  const hosts = [...hostsOf(inventory.all?.children.master), ...hostsOf(inventory.all?.children.workers)];
  const taskArn = `${LOCAL_ECS}:task/configuration/${randomUUID().replaceAll('-', '')}`;

  // The container knows hosts by name and address; the emulated cloud wants its server ids.
  const ids = new Map((await options.provider.describeServers({ clusterId })).map((server) => [server.name, server.id]));
  const servers = hosts.flatMap((host) => {
    const id = ids.get(host.name);
    return id ? [{ id, name: host.name, role: host.role }] : [];
  });
  const configurationId = await options.provider.startConfiguration({ clusterId, profile, servers });
  for (;;) {
    const status = await options.provider.describeConfiguration({ clusterId, configurationId });
    if (status.state === 'SUCCEEDED') return stoppedTask(taskArn, 0);
    if (status.state === 'FAILED') {
      // The line run-profile.sh prints for a failed component.
      const error = new Error(JSON.stringify(stoppedTask(taskArn, COMPONENT_FAILED_EXIT, `COMPONENT ${status.component} FAILED ${status.failedNode ?? '-'}`)));
      error.name = 'States.TaskFailed';
      throw error;
    }
    await sleep(options.pollMs ?? 20);
  }
};
