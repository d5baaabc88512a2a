import { beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_CONTEXTS, digestStack, iamStatementsOf, readBaseline, type DigestContext, type ResourceDigest, type TemplateDigest } from '../support/template-digest.ts';

/**
 * Logical ids that differ from the baseline's, each with why the resource it names may be
 * replaced on the next deployment. Every other resource must keep its id.
 */
const RENAMED: Readonly<Record<string, { readonly to: string; readonly why: string }>> = {
  // None since the baseline was last written. (The two of the move to constructs, and why each
  // replacement was safe, are in docs/decisions.md, "The CDK stack's constructs".)
};

/** `value` with every renamed logical id written as its new one, wherever it is referenced. */
const renamed = <T>(value: T): T => {
  let json = JSON.stringify(value);
  for (const [from, { to }] of Object.entries(RENAMED)) json = json.replaceAll(`"${from}"`, `"${to}"`);
  return JSON.parse(json) as T;
};

const baseline = readBaseline();

describe.each(Object.keys(DIGEST_CONTEXTS) as DigestContext[])('the template in the %s context', (context) => {
  let expected: TemplateDigest;
  let actual: TemplateDigest;

  beforeAll(() => {
    // The renames are applied to the keys as well as to the references.
    expected = renamed(baseline[context]);
    actual = digestStack(context);
  }, 120_000);

  it('has the baseline’s resources under the same logical ids, renames aside', () => {
    // Act
    const ids = Object.keys(actual.resources).sort();

    // Assess
    expect(ids).toEqual(Object.keys(expected.resources).sort());
  });

  it('gives each resource the baseline’s type, properties and deployment attributes', () => {
    // Act
    const differing = Object.keys(expected.resources).filter(
      (id) => JSON.stringify(actual.resources[id]) !== JSON.stringify(expected.resources[id]),
    );

    // Assess
    for (const id of differing) expect(actual.resources[id], id).toEqual<ResourceDigest | undefined>(expected.resources[id]);
    expect(differing).toEqual([]);
  });

  it('has exactly the baseline’s IAM statements, on the same resources', () => {
    // Assess
    expect(iamStatementsOf(actual)).toEqual(iamStatementsOf(expected));
  });

  it('has the baseline’s outputs', () => {
    // Assess
    expect(actual.outputs).toEqual(expected.outputs);
  });
});

describe('the renamed logical ids', () => {
  it('each name a resource of the baseline and give why its replacement is safe', () => {
    // Prepare
    const everyId = new Set((Object.keys(baseline) as DigestContext[]).flatMap((context) => Object.keys(baseline[context].resources)));

    // Assess
    for (const [from, { why }] of Object.entries(RENAMED)) {
      expect(everyId.has(from), from).toBe(true);
      expect(why.length, from).toBeGreaterThan(30);
    }
  });
});
