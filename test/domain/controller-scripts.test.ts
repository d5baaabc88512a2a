import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizeScript, controllerKeyFrom, prepareScript, runScript, shellQuote } from '#domain/controller-scripts';

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0l3Gm6vUq3d7dTq1k8Qe0qz9c4pH8xWm3rY2b1aC0d';
/** Everything a shell might act on inside a value. */
const HOSTILE = `x'"; touch PWNED; echo $(touch PWNED) \`touch PWNED\` '`;

const sandboxes: string[] = [];
const sandbox = () => {
  const dir = mkdtempSync(join(tmpdir(), 'controller-scripts-'));
  sandboxes.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `sh` is what the SSM agent runs the lines with (dash on Debian and Ubuntu). */
const shell = (script: string[], cwd: string, shellName = 'sh') => spawnSync(shellName, ['-c', script.join('\n')], { cwd, encoding: 'utf8', timeout: 20_000 });
const syntax = (script: string[], shellName: string) => spawnSync(shellName, ['-n'], { input: script.join('\n'), encoding: 'utf8' });

const rendered = {
  prepare: prepareScript(),
  authorize: authorizeScript({ loginUser: 'admin', publicKey: PUBLIC_KEY, masterIp: '10.0.1.5' }),
  run: runScript({ profile: 'lambda', bundleUrl: 'https://b.s3.amazonaws.com/k.zip?X-Amz-Signature=ab&x=1', inventoryUrl: 'https://i/inv', extraVarsUrl: 'https://i/ev' }),
};

describe('the controller’s shell', () => {
  for (const [stage, script] of Object.entries(rendered)) {
    for (const shellName of ['sh', 'bash']) {
      it(`renders \`${stage}\` as a script ${shellName} parses`, () => {
        const result = syntax(script, shellName);
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      });
    }
  }

  it('quotes values so that a shell reads them back unchanged', () => {
    for (const value of [HOSTILE, '', "it's", 'a\nb', '$HOME', '\\']) {
      const result = spawnSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(result.stdout).toBe(value);
    }
  });

  it('keeps a hostile login user a name in `authorize`: it refuses the unknown user and runs nothing else', () => {
    const dir = sandbox();

    const result = shell(authorizeScript({ loginUser: HOSTILE, publicKey: PUBLIC_KEY }), dir);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`the login user ${HOSTILE} does not exist`);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
  });

  it('keeps a hostile profile and URL values in `run`: the fetch fails and nothing else runs', () => {
    const dir = sandbox();
    // Loopback port 1: refused at once, so the script stops at its first fetch.
    const url = `http://127.0.0.1:1/${HOSTILE}`;

    const result = shell(runScript({ profile: HOSTILE, bundleUrl: url, inventoryUrl: url, extraVarsUrl: url }), dir);

    expect(result.status).not.toBe(0);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(runScript({ profile: HOSTILE, bundleUrl: url, inventoryUrl: url, extraVarsUrl: url }).at(-1)).toContain(shellQuote(HOSTILE));
  });

  it('refuses anything but an ssh-ed25519 public key for `authorize`', () => {
    expect(() => authorizeScript({ loginUser: 'admin', publicKey: `${PUBLIC_KEY}' ; touch PWNED` })).toThrow(/not an ssh-ed25519 public key/);
    expect(() => authorizeScript({ loginUser: 'admin', publicKey: '-----BEGIN OPENSSH PRIVATE KEY-----' })).toThrow();
  });

  it('reads the key line out of `prepare`’s output, and nothing that is not a plain public key', () => {
    expect(controllerKeyFrom(`Reading package lists...\nCONTROLLER_KEY ${PUBLIC_KEY}\n`)).toBe(PUBLIC_KEY);
    expect(controllerKeyFrom(`CONTROLLER_KEY ${PUBLIC_KEY} root@master\n`)).toBeUndefined();
    expect(controllerKeyFrom('CONTROLLER_KEY ssh-ed25519 AAAA$(reboot)\n')).toBeUndefined();
    expect(controllerKeyFrom('')).toBeUndefined();
  });

  it('never puts the private key file’s content into a command: `prepare` prints the public half only', () => {
    expect(rendered.prepare.join('\n')).toContain('dir=/var/lib/cluster-controller');
    expect(rendered.prepare.join('\n')).toContain('ssh-keygen -y -f "$dir/id_ed25519"');
    expect(rendered.prepare.join('\n')).not.toMatch(/cat .*id_ed25519/);
  });
});
