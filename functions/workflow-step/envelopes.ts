/**
 * The errors a Catch puts into the workflow state, as Step Functions hands them over: `{Error,
 * Cause}`, the cause being Lambda's JSON `{errorType, errorMessage}` for a step, or the stopped
 * task's description for the configuration container (`ecs:runTask.sync`). They are read here,
 * and nowhere else, into the StepFailure the use cases take; and written back where a step's
 * answer takes a caught error's place in the state.
 */
import type { StepFailure } from '#domain/failed-step';

/** What a Catch puts into the state: the error name and its cause. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

interface EcsTaskCause {
  TaskArn?: string;
  StoppedReason?: string;
  Containers?: { Name?: string; ExitCode?: number; Reason?: string }[];
}

const parsedCause = (cause: string | undefined): object | undefined => {
  try {
    const parsed: unknown = JSON.parse(cause ?? '');
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    // a plain message
    return undefined;
  }
};

const isEcsTask = (parsed: object): parsed is EcsTaskCause => 'Containers' in parsed || 'StoppedReason' in parsed;

const configurationContainerOf = (task: EcsTaskCause) => task.Containers?.find((c) => c.Name === 'configuration') ?? task.Containers?.[0];

/** The configuration container's exit code and reason, and the task's, say what failed. */
const ecsTaskMessage = (task: EcsTaskCause): string => {
  const container = configurationContainerOf(task);
  const exit = container?.ExitCode !== undefined ? `exited with code ${container.ExitCode}` : 'stopped';
  const reasons = [container?.Reason, task.StoppedReason].filter((reason): reason is string => Boolean(reason));
  return `the configuration container ${exit}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}${task.TaskArn ? ` (task ${task.TaskArn})` : ''}`;
};

/** The message of a caught error's cause: Lambda's `errorMessage`, a stopped task's story, or the cause as it is. */
export const causeMessage = (cause: string | undefined): string => {
  const parsed = parsedCause(cause);
  if (parsed && 'errorMessage' in parsed) return String(parsed.errorMessage);
  if (parsed && isEcsTask(parsed)) return ecsTaskMessage(parsed);
  return cause ?? '';
};

export const stepFailureOf = (caught: CaughtError): StepFailure => {
  const parsed = parsedCause(caught.Cause);
  const exitCode = parsed && isEcsTask(parsed) ? configurationContainerOf(parsed)?.ExitCode : undefined;
  return { code: caught.Error, message: causeMessage(caught.Cause), ...(exitCode !== undefined ? { exitCode } : {}) };
};

/** A failure as a Lambda step's error reaches a Catch. */
export const caughtErrorOf = (failure: StepFailure): CaughtError => ({
  Error: failure.code,
  Cause: JSON.stringify({ errorType: failure.code, errorMessage: failure.message }),
});
