/**
 * A cluster's instances (docs/ec2-provider.md, "Describing servers"): found by tag in one paged
 * DescribeInstances, never one call per instance, and read as the port's servers and nodes.
 */
import { DescribeInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { MASTER_ROLE } from '#domain/model';
import type { ProviderServer } from '#domain/provider';
import { chunk } from '#lib/batching';
import { callEc2, type Ec2Context } from './calls.ts';
import type { ConfigurationNode } from './ssm/index.ts';
import { clusterFilters, ROLE_TAG, tagValue } from './tags.ts';

/** DescribeInstances' largest page when filtering. */
const MAX_DESCRIBE_RESULTS = 1000;
const TERMINATE_CHUNK = 500;
/** Every state but terminated: what a deletion round still has to wait for. */
export const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

const STATES: Record<string, ProviderServer['state']> = {
  pending: 'BUILD',
  running: 'ACTIVE',
  'shutting-down': 'DELETING',
  terminated: 'DELETED',
  stopping: 'STOPPING',
  stopped: 'STOPPED',
};

export const toServer = (instance: Instance, name?: string): ProviderServer => {
  const state = STATES[instance.State?.Name ?? ''] ?? 'ERROR';
  const fault = instance.StateReason?.Message || instance.StateTransitionReason || undefined;
  return {
    id: instance.InstanceId ?? '',
    name: name ?? tagValue(instance.Tags, 'Name') ?? instance.InstanceId ?? '',
    state,
    privateIp: instance.PrivateIpAddress ?? null,
    publicIp: instance.PublicIpAddress ?? null,
    ...((state === 'ERROR' || state === 'DELETED') && fault ? { fault } : {}),
  };
};

export const clusterInstances = async (ctx: Ec2Context, clusterId: string, states?: string[]): Promise<Instance[]> => {
  const all: Instance[] = [];
  const filters = [...clusterFilters(ctx, clusterId), ...(states ? [{ Name: 'instance-state-name', Values: states }] : [])];
  let nextToken: string | undefined;
  do {
    const page = await callEc2('DescribeInstances', () =>
      ctx.ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: MAX_DESCRIBE_RESULTS, ...(nextToken ? { NextToken: nextToken } : {}) })),
    );
    for (const reservation of page.Reservations ?? []) all.push(...(reservation.Instances ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  return all;
};

/** The cluster's running instances as the SSM runner addresses them: by role tag, with their private addresses. */
export const runningNodes = async (ctx: Ec2Context, clusterId: string): Promise<ConfigurationNode[]> =>
  (await clusterInstances(ctx, clusterId, ['running'])).flatMap((instance) =>
    instance.InstanceId
      ? [
          {
            id: instance.InstanceId,
            name: tagValue(instance.Tags, 'Name') ?? instance.InstanceId,
            role: tagValue(instance.Tags, ROLE_TAG) ?? '',
            ...(instance.PrivateIpAddress ? { privateIp: instance.PrivateIpAddress } : {}),
          },
        ]
      : [],
  );

const instanceById = async (ctx: Ec2Context, instanceId: string): Promise<Instance | undefined> => {
  const page = await callEc2('DescribeInstances', () => ctx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
  return page.Reservations?.[0]?.Instances?.[0];
};

export const instanceName = async (ctx: Ec2Context, instanceId: string): Promise<string> =>
  tagValue((await instanceById(ctx, instanceId))?.Tags, 'Name') ?? instanceId;

/** What a node needs to know of the others: the master's name and private address. */
export const masterVariables = async (ctx: Ec2Context, servers: { id: string; name: string; role: string }[]): Promise<Record<string, string>> => {
  const master = servers.find((server) => server.role === MASTER_ROLE);
  if (!master) return {};
  const ip = (await instanceById(ctx, master.id))?.PrivateIpAddress;
  return { master_name: master.name, ...(ip ? { master_ip: ip } : {}) };
};

/** Terminates those not shutting down already, 500 a call; one already gone counts as done. */
/**
 * Stops or starts the instances, a chunk per call. EC2 answers an instance already there (or on
 * its way) with its state, not an error; one in the way of it (a start while it still stops) is
 * IncorrectInstanceState, which the workflow retries. Stopped instances keep their volumes and
 * their Elastic IPs (the cluster's public addresses).
 */
export const powerInstances = async (ctx: Ec2Context, action: 'stop' | 'start', instanceIds: string[]): Promise<void> => {
  for (const ids of chunk([...new Set(instanceIds)], TERMINATE_CHUNK)) {
    if (action === 'stop') await callEc2('StopInstances', () => ctx.ec2.send(new StopInstancesCommand({ InstanceIds: ids })), ['IncorrectInstanceState']);
    else await callEc2('StartInstances', () => ctx.ec2.send(new StartInstancesCommand({ InstanceIds: ids })), ['IncorrectInstanceState']);
  }
};

export const terminateInstances = async (ctx: Ec2Context, live: Instance[]): Promise<void> => {
  const toTerminate = live.filter((instance) => instance.State?.Name !== 'shutting-down').map((instance) => instance.InstanceId ?? '');
  for (const ids of chunk(toTerminate.filter(Boolean), TERMINATE_CHUNK)) {
    await callEc2('TerminateInstances', () => ctx.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })), [], ['InvalidInstanceID.NotFound']);
  }
};
