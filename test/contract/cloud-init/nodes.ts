/**
 * Servers that run their user data, as cloud-init does at first boot: each script part (a
 * `#!` document, or the `text/x-shellscript` parts of a MIME multipart) runs for real with bash,
 * in a folder of its own, with `ansible-playbook` replaced by a stand-in on PATH. A contract
 * cloud hands its servers here when they turn ACTIVE and when they are gone (ServerLifecycle), so
 * the cloud-init runner's agent, its reports and the service's answers run end to end.
 *
 * The stand-in lists each profile's components from the catalogue (#domain/profiles) the way
 * `ansible-playbook --list-tags` prints them, and "runs" a component by printing a recap like
 * Ansible's: every node ok, or — for `failComponent` — failed on `failNode`, exit 2; a
 * `hangComponent` never ends.
 *
 * The agent's own switches for a harness keep it inside the folder: `CS_STATE_DIR` (its keys and
 * state) and `CS_HOME` (whose authorized_keys a worker writes). ssh-keygen and python3 are the
 * machine's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROFILES } from '#domain/profiles';

export interface NodeRun {
  name: string;
  /** The folder the node lives in: `state/` (CS_STATE_DIR), `home/` (CS_HOME), `output.log`. */
  dir: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

export interface CloudInitNodesOptions {
  /** The component whose run fails, on `failNode`. */
  failComponent?: string;
  failNode?: string;
  /** The component whose run never ends (until the server is gone). */
  hangComponent?: string;
}

const stubScript = (): string => {
  const cases = Object.entries(PROFILES)
    .map(([profile, components]) => `  ${profile}) components=(${components.join(' ')}) ;;`)
    .join('\n');
  return `#!/usr/bin/env bash
# A stand-in for ansible-playbook (test/contract/cloud-init/nodes.ts).
playbook=\${*: -1}
profile=$(basename "$playbook" .yml)
case $profile in
${cases}
  *) echo "ERROR! the playbook: $playbook could not be found" >&2; exit 1 ;;
esac
if [[ " $* " == *" --list-tags "* ]]; then
  printf '\\nplaybook: %s\\n\\n' "$playbook"
  i=1
  for component in "\${components[@]}"; do
    printf '  play #%d (all): %s\\tTAGS: [%s]\\n      TASK TAGS: [%s]\\n\\n' "$i" "$component" "$component" "$component"
    i=$((i + 1))
  done
  exit 0
fi
while (($#)); do [[ $1 == --tags ]] && tag=$2; shift; done
if [[ -n "\${STUB_SSH_ARGS_FILE:-}" ]]; then printf '%s\\n' "$ANSIBLE_SSH_COMMON_ARGS" >>"$STUB_SSH_ARGS_FILE"; fi
if [[ -n "\${STUB_HANG_COMPONENT:-}" && $tag == "$STUB_HANG_COMPONENT" ]]; then sleep 3600; fi
echo "PLAY RECAP *********************************************************************"
if [[ -n "\${STUB_FAIL_COMPONENT:-}" && $tag == "$STUB_FAIL_COMPONENT" ]]; then
  echo "\${STUB_FAIL_NODE:-unknown}              : ok=3    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   "
  exit 2
fi
echo "all                        : ok=9    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   "
`;
};

/** The script parts of user data, in order, as cloud-init would run them. */
export const scriptParts = (userData: string): string[] => {
  const text = Buffer.from(userData, 'base64').toString('utf8');
  const boundary = /^Content-Type: multipart\/mixed; boundary="([^"]+)"/m.exec(text.split('\n\n', 1)[0] ?? '')?.[1];
  if (!boundary) return text.startsWith('#!') ? [text] : [];
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .flatMap((part) => {
      const split = part.indexOf('\n\n');
      const headers = part.slice(0, split);
      // The line break before a boundary belongs to the boundary.
      return /Content-Type: text\/x-shellscript/i.test(headers) ? [part.slice(split + 2).replace(/\n$/, '')] : [];
    });
};

export class CloudInitNodes {
  readonly root = mkdtempSync(path.join(tmpdir(), 'cloud-init-nodes-'));
  /** The folder of the stand-in `ansible-playbook`, for a PATH (it records ANSIBLE_SSH_COMMON_ARGS in STUB_SSH_ARGS_FILE when set). */
  readonly stubDir = path.join(this.root, 'bin');
  private readonly runs = new Map<string, NodeRun>();

  constructor(private readonly options: CloudInitNodesOptions = {}) {
    mkdirSync(this.stubDir);
    writeFileSync(path.join(this.stubDir, 'ansible-playbook'), stubScript());
    chmodSync(path.join(this.stubDir, 'ansible-playbook'), 0o755);
  }

  /** Boots a server: runs its user data's scripts one after the other, in the background. */
  boot(server: { id: string; name: string; userData: string | null }): void {
    if (this.runs.has(server.id) || !server.userData) return;
    const parts = scriptParts(server.userData);
    if (parts.length === 0) return;
    const dir = path.join(this.root, server.id);
    mkdirSync(path.join(dir, 'home'), { recursive: true });
    parts.forEach((part, i) => writeFileSync(path.join(dir, `part-${i}.sh`), part, { mode: 0o700 }));
    const script = parts.map((_, i) => `bash ${JSON.stringify(path.join(dir, `part-${i}.sh`))}`).join(' && ');
    const child = spawn('bash', ['-c', script], {
      cwd: dir,
      env: {
        PATH: `${this.stubDir}:${process.env.PATH ?? ''}`,
        HOME: path.join(dir, 'home'),
        CS_STATE_DIR: path.join(dir, 'state'),
        CS_HOME: path.join(dir, 'home'),
        ...(this.options.hangComponent ? { STUB_HANG_COMPONENT: this.options.hangComponent } : {}),
        ...(this.options.failComponent ? { STUB_FAIL_COMPONENT: this.options.failComponent, STUB_FAIL_NODE: this.options.failNode ?? server.name } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const log = path.join(dir, 'output.log');
    writeFileSync(log, '');
    const append = (chunk: Buffer) => writeFileSync(log, chunk, { flag: 'a' });
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.runs.set(server.id, { name: server.name, dir, process: child, exited });
  }

  /** The server is gone: whatever its user data still runs stops. */
  stop(id: string): void {
    const run = this.runs.get(id);
    if (run && run.process.exitCode === null && run.process.pid) {
      try {
        process.kill(-run.process.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }

  run(name: string): NodeRun | undefined {
    return [...this.runs.values()].find((candidate) => candidate.name === name);
  }

  /** What a node's scripts printed, for a failing test's message. */
  output(name: string): string {
    const run = this.run(name);
    return run ? readFileSync(path.join(run.dir, 'output.log'), 'utf8') : '';
  }

  async close(): Promise<void> {
    for (const id of this.runs.keys()) this.stop(id);
    await Promise.all([...this.runs.values()].map((run) => run.exited));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The lifecycle a contract cloud calls. */
  lifecycle() {
    return {
      active: (server: { id: string; name: string; userData: string | null }) => this.boot(server),
      gone: (server: { id: string }) => this.stop(server.id),
    };
  }
}
