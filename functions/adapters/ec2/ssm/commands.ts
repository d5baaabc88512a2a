/**
 * The SSM calls both kinds of run make (docs/ec2-provider.md, "Configuration"): which nodes are
 * Online, sending a command once, listing its invocations, and SSM's errors in the domain's terms.
 */
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type CommandInvocation,
  type GetCommandInvocationCommandOutput,
  type SSMClient,
  type SendCommandRequest,
} from '@aws-sdk/client-ssm';
import { ProviderError, TransientProviderError } from '#domain/errors';
import { chunk } from '#lib/batching';
import { awsError } from '../../aws/index.ts';
import type { RunnerSettings } from './settings.ts';

/** SendCommand's limit on `InstanceIds`. */
export const MAX_INSTANCES_PER_COMMAND = 50;
/** DescribeInstanceInformation's largest page. */
const MAX_INFORMATION_RESULTS = 50;
/** A command that has not failed can be adopted by a retried start instead of sending another. */
const LIVE_COMMAND_STATES = new Set(['Pending', 'InProgress', 'Success']);
// SendCommand says so when the agent of a node that was Online a moment ago has not checked in again.
const SSM_TRANSIENT_CODES = ['InvalidInstanceId'];

/** SSM's answer in the domain's terms: throttling and 5xx are retried by the workflow, the rest is final. */
export const ssmError = (operation: string, error: unknown): Error =>
  awsError('SSM', operation, error, {
    transient: SSM_TRANSIENT_CODES,
    refusal: (sdk) => new ProviderError(sdk.name, `SSM ${operation}: ${sdk.message}`),
  });

export class SsmCommands {
  constructor(
    private readonly ssm: SSMClient,
    private readonly settings: Pick<RunnerSettings, 'options' | 'deliveryTimeoutSeconds'>,
  ) {}

  /** What every command of a run shares: its nodes, its comment, and where its output goes. */
  commonRequest(instanceIds: string[], comment: string) {
    const { options } = this.settings;
    return {
      InstanceIds: instanceIds,
      Comment: comment,
      TimeoutSeconds: this.settings.deliveryTimeoutSeconds,
      // Every node gets the configuration even when another fails: a failure names its node either way.
      MaxConcurrency: '100%',
      MaxErrors: '100%',
      ...(options.cloudWatchLogGroupName
        ? { CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: options.cloudWatchLogGroupName } }
        : {}),
      ...(options.outputS3
        ? { OutputS3BucketName: options.outputS3.bucketName, ...(options.outputS3.keyPrefix ? { OutputS3KeyPrefix: options.outputS3.keyPrefix } : {}) }
        : {}),
    };
  }

  /** The command's id: one sent before with the same comment and nodes, else a new one. */
  async sendOnce(request: SendCommandRequest): Promise<string> {
    return (await this.sentBefore(request)) ?? (await this.send(request));
  }

  /**
   * SendCommand has no client token. A start retried after its commands went out (the Lambda
   * timed out before the workflow stored the id) finds them by the chunk's first instance, the
   * comment and the exact instance list, and adopts one that has not failed.
   */
  private async sentBefore(request: SendCommandRequest): Promise<string | undefined> {
    const first = request.InstanceIds?.[0];
    if (!first) return undefined;
    const listed = await this.call('ListCommands', () =>
      this.ssm.send(new ListCommandsCommand({ InstanceId: first, Filters: [{ key: 'DocumentName', value: request.DocumentName ?? '' }] })),
    );
    const wanted = [...(request.InstanceIds ?? [])].sort().join(',');
    const found = (listed.Commands ?? []).find(
      (command) =>
        command.Comment === request.Comment &&
        LIVE_COMMAND_STATES.has(command.Status ?? '') &&
        [...(command.InstanceIds ?? [])].sort().join(',') === wanted,
    );
    return found?.CommandId;
  }

  private async send(request: SendCommandRequest): Promise<string> {
    const sent = await this.call('SendCommand', () => this.ssm.send(new SendCommandCommand(request)));
    const id = sent.Command?.CommandId;
    if (!id) throw new TransientProviderError('SSM SendCommand answered without a command id');
    return id;
  }

  /**
   * Every invocation of the commands, and whether SSM listed some for each: a command it lists none
   * for yet (just sent) is not finished, whatever the others say.
   */
  async invocationsOf(commandIds: readonly string[]): Promise<{ invocations: CommandInvocation[]; listedEveryCommand: boolean }> {
    const invocations: CommandInvocation[] = [];
    let listedEveryCommand = true;
    for (const commandId of commandIds) {
      const listed = await this.invocations(commandId);
      if (listed.length === 0) listedEveryCommand = false;
      invocations.push(...listed);
    }
    return { invocations, listedEveryCommand };
  }

  private async invocations(commandId: string): Promise<CommandInvocation[]> {
    const all: CommandInvocation[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListCommandInvocations', () =>
        this.ssm.send(
          new ListCommandInvocationsCommand({ CommandId: commandId, Details: true, MaxResults: 50, ...(nextToken ? { NextToken: nextToken } : {}) }),
        ),
      );
      all.push(...(page.CommandInvocations ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return all;
  }

  /** One node's invocation in full: the list keeps 2500 characters of output, the invocation 24,000. */
  invocation(invocation: CommandInvocation, pluginName?: string): Promise<GetCommandInvocationCommandOutput> {
    return this.call('GetCommandInvocation', () =>
      this.ssm.send(
        new GetCommandInvocationCommand({
          CommandId: invocation.CommandId,
          InstanceId: invocation.InstanceId,
          ...(pluginName ? { PluginName: pluginName } : {}),
        }),
      ),
    );
  }

  async assertOnline(instanceIds: string[]): Promise<void> {
    const online = await this.onlineOf(instanceIds);
    const waiting = instanceIds.filter((id) => !online.has(id));
    if (waiting.length > 0) {
      const named = waiting.slice(0, 5).join(', ') + (waiting.length > 5 ? ', …' : '');
      throw new TransientProviderError(`${waiting.length} of ${instanceIds.length} instance(s) not yet Online in SSM: ${named}`);
    }
  }

  /** Which of the instances SSM lists as Online: one DescribeInstanceInformation page per 50. */
  async onlineOf(instanceIds: string[]): Promise<Set<string>> {
    const online = new Set<string>();
    for (const ids of chunk(instanceIds, MAX_INFORMATION_RESULTS)) {
      let nextToken: string | undefined;
      do {
        const page = await this.call('DescribeInstanceInformation', () =>
          this.ssm.send(
            new DescribeInstanceInformationCommand({
              Filters: [{ Key: 'InstanceIds', Values: ids }],
              MaxResults: MAX_INFORMATION_RESULTS,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          ),
        );
        for (const info of page.InstanceInformationList ?? []) {
          if (info.InstanceId && info.PingStatus === 'Online') online.add(info.InstanceId);
        }
        nextToken = page.NextToken || undefined;
      } while (nextToken);
    }
    return online;
  }

  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw ssmError(operation, error);
    }
  }
}
