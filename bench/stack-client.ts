/**
 * The driver's handle on the stack process: start it, ask it things over IPC with a time limit
 * on every answer, stop it. Its stdout (the JSON logs) goes to /dev/null so logging costs what it
 * costs without flooding the report; stderr is kept so a failure can show the last lines.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Counters, Envelope, ProfileSummary, Reply, Request, StackSettings } from './protocol.ts';

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/** Rejects with DeadlineExceeded when `promise` has not settled within `ms`. */
export const within = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded(`${what}: no result within ${Math.round(ms)} ms`)), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

type ReplyOf<T extends Reply['type']> = Extract<Reply, { type: T }>;

export class StackClient {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private readonly stderrTail: string[] = [];
  /** Lines the stack wrote to stderr: its logger's warnings and errors. */
  stderrLines = 0;
  url = '';
  token = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: Envelope<Reply>) => {
      const waiter = this.waiting.get(message.seq);
      this.waiting.delete(message.seq);
      waiter?.resolve(message.body);
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the stack process exited (${signal ?? code}); stderr: ${this.lastStderr()}`));
      this.waiting.clear();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.stderrLines += 1;
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
      }
    });
  }

  static async start(settings: StackSettings, timeoutMs: number): Promise<StackClient> {
    const child = fork(path.join(import.meta.dirname, 'stack-process.ts'), [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const client = new StackClient(child);
    try {
      const started = await client.call({ type: 'start', settings }, 'started', timeoutMs);
      client.url = started.url;
      client.token = started.token;
      return client;
    } catch (error) {
      client.kill();
      throw error;
    }
  }

  lastStderr(): string {
    return this.stderrTail.slice(-5).join(' | ') || '(nothing)';
  }

  async call<T extends Reply['type']>(request: Request, expect: T, timeoutMs: number): Promise<ReplyOf<T>> {
    const seq = ++this.seq;
    const answer = new Promise<Reply>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.child.send({ seq, body: request } satisfies Envelope<Request>);
    });
    const reply = await within(answer, timeoutMs, `stack process: ${request.type}`).finally(() => this.waiting.delete(seq));
    if (reply.type === 'error') throw new Error(`stack process: ${request.type} failed: ${reply.message}`);
    if (reply.type !== expect) throw new Error(`stack process: ${request.type} answered ${reply.type}, expected ${expect}`);
    return reply as ReplyOf<T>;
  }

  async counters(timeoutMs = 10_000): Promise<Counters> {
    return (await this.call({ type: 'counters' }, 'counters', timeoutMs)).counters;
  }

  async profileStart(): Promise<void> {
    await this.call({ type: 'profile-start' }, 'profile', 10_000);
  }

  async profileStop(): Promise<ProfileSummary | null> {
    return (await this.call({ type: 'profile-stop' }, 'profile', 30_000)).profile;
  }

  /** Stops the stack and waits for the process to leave; kills it if it does not. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.call({ type: 'stop' }, 'stopped', timeoutMs);
      await within(exited, 5_000, 'stack process exit');
    } catch {
      this.kill();
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
