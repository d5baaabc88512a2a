/**
 * Dependencies point inward: the domain knows nothing of libraries of ours or of adapters, use
 * cases speak no HTTP, and nothing deployed as a function reaches into infra/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

const sources = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sources(relative);
    return name.endsWith('.ts') ? [relative] : [];
  });

/** Every module a file imports (static imports and re-exports), as written. */
const importsOf = (file: string): string[] =>
  [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1] ?? '');

/** The imports of the files under `dir` that `allowed` refuses, as `file → module`. */
const refused = (dir: string, allowed: (module: string, file: string) => boolean): string[] =>
  sources(dir).flatMap((file) => importsOf(file).filter((module) => !allowed(module, file)).map((module) => `${file} → ${module}`));

describe('dependency direction', () => {
  it('the domain imports only itself, zod and node built-ins', () => {
    const outside = refused('functions/domain', (module) => module.startsWith('./') || module === 'zod' || module.startsWith('node:'));

    expect(outside).toEqual([]);
  });

  it('use cases import no HTTP helpers', () => {
    const http = refused('functions/use-cases', (module) => !/^#lib\/(http|router)$/.test(module));

    expect(http).toEqual([]);
  });

  it('no function imports from infra/', () => {
    const infra = refused('functions', (module) => !module.includes('infra/'));

    expect(infra).toEqual([]);
  });

  it('finds the imports it checks (the scan itself works)', () => {
    expect(importsOf('functions/lib/http.ts')).toContain('#domain/validation');
    expect(sources('functions/domain').length).toBeGreaterThan(10);
  });
});
