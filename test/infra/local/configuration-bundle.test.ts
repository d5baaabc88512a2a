import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configurationBundleZip, zipStored } from '../../../infra/local/configuration-bundle.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Unpacks with Python's zipfile, as the nodes do. */
const unzip = async (zip: Buffer) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bundle-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'bundle.zip'), zip);
  const script = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z:\n  assert z.testzip() is None\n  for i in z.infolist():\n    z.extract(i, sys.argv[2])\n    import os; os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16 & 0o777)';
  const result = spawnSync('python3', ['-c', script, path.join(dir, 'bundle.zip'), path.join(dir, 'out')], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return path.join(dir, 'out');
};

describe('the configuration bundle local mode serves', () => {
  it('is configuration/ as a zip every node can unpack, run-profile.sh executable, without what the deployed asset leaves out', async () => {
    const out = await unzip(await configurationBundleZip());

    expect(existsSync(path.join(out, 'ansible/lambda.yml'))).toBe(true);
    expect(statSync(path.join(out, 'container/run-profile.sh')).mode & 0o111).not.toBe(0);
    for (const left of ['Dockerfile', 'README.md', 'check.sh', 'ansible/tests']) expect(existsSync(path.join(out, left)), left).toBe(false);
  });

  it('keeps every byte of what it stores', async () => {
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    const out = await unzip(zipStored([{ name: 'a/b.bin', data, mode: 0o644 }, { name: 'empty', data: Buffer.alloc(0), mode: 0o600 }]));

    expect((await readFile(path.join(out, 'a/b.bin'))).equals(data)).toBe(true);
    expect((await readFile(path.join(out, 'empty'))).length).toBe(0);
  });
});
