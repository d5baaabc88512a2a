import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeAgentScript, nodeUserData } from '#domain/node-agent-script';
import { scriptParts } from '../contract/cloud-init/nodes.ts';

const HOSTILE = `x'"; touch PWNED; echo $(touch PWNED) \`touch PWNED\` '`;
const input = { reportUrl: 'http://127.0.0.1:1/v1/clusters/c/node-reports', secret: 's'.repeat(43), node: 'lambda-master', role: 'master' as const, loginUser: 'debian' };

const sandboxes: string[] = [];
afterEach(() => {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the node agent’s user data', () => {
  it('is a script bash parses', () => {
    const result = spawnSync('bash', ['-n'], { input: nodeAgentScript(input), encoding: 'utf8' });

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('keeps hostile names, URLs and secrets as values: running it with them touches nothing and stops at the unreachable service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'node-agent-'));
    sandboxes.push(dir);
    const script = nodeAgentScript({ ...input, reportUrl: `http://127.0.0.1:1/${HOSTILE}`, node: HOSTILE, loginUser: HOSTILE, secret: HOSTILE, lifetimeSeconds: 1 });

    const result = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, CS_STATE_DIR: join(dir, 'state'), CS_HOME: join(dir, 'home') } });

    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(existsSync(join(dir, 'state', 'PWNED'))).toBe(false);
    expect(result.status).not.toBe(0);
  });

  it('is the agent alone without the client’s user data, and a multipart of both — the client’s first — with it', () => {
    const agent = nodeAgentScript(input);
    const client = Buffer.from('#!/bin/sh\necho client\n').toString('base64');
    const cloudConfig = Buffer.from('#cloud-config\npackages: [htop]\n').toString('base64');

    expect(Buffer.from(nodeUserData(agent), 'base64').toString('utf8')).toBe(agent);
    expect(scriptParts(nodeUserData(agent, client))).toEqual(['#!/bin/sh\necho client\n', agent]);
    const mixed = Buffer.from(nodeUserData(agent, cloudConfig), 'base64').toString('utf8');
    expect(mixed).toContain('Content-Type: text/cloud-config; charset="utf-8"');
    expect(scriptParts(nodeUserData(agent, cloudConfig))).toEqual([agent]);
  });
});
