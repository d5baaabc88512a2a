/**
 * The table's keys are spelt in one place, functions/adapters/dynamodb/table-schema.ts: a key
 * spelt anywhere else (a stand-in, a bench, a stack) can drift from what the stores write.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCHEMA = path.join('functions', 'adapters', 'dynamodb', 'table-schema.ts');

/** The key prefixes and fixed keys of table-schema.ts (not PAGE_TOKEN_SECRET_ARN, a variable's name). */
const KEY_SPELLING = /\b(?:CLUSTER|EVENT|TOKENS?|IDEMPOTENCY|QUOTA|WEBHOOK|PROJECT)#|\bPAGE_TOKEN_SECRET\b|'META'/g;

const sources = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sources(relative);
    return name.endsWith('.ts') ? [relative] : [];
  });

/** `file:line: text` for every key spelling in the files under `dirs`. */
const spellings = (files: string[]): string[] =>
  files.flatMap((file) =>
    readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => (line.match(KEY_SPELLING) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );

describe('table keys', () => {
  it('are spelt nowhere in functions/, infra/ or bench/ but in table-schema.ts', () => {
    const files = ['functions', 'infra', 'bench'].flatMap(sources).filter((file) => file !== SCHEMA);

    expect(spellings(files)).toEqual([]);
  });

  it('are all in table-schema.ts (the scan itself works)', () => {
    const found = new Set(spellings([SCHEMA]).flatMap((line) => line.match(KEY_SPELLING) ?? []));

    expect([...found].sort()).toEqual(["'META'", 'CLUSTER#', 'EVENT#', 'IDEMPOTENCY#', 'PAGE_TOKEN_SECRET', 'PROJECT#', 'QUOTA#', 'TOKEN#', 'TOKENS#', 'WEBHOOK#']);
  });
});
