import { describe, expect, it } from 'vitest';
import { REQUEST_BODIES, type RequestBodyName } from '../../functions/lib/openapi.ts';
import { draft04, requestModelSchema } from '../../infra/aws/request-models.ts';

/** Every keyword of `schema` at every depth, with the path it is at. */
const keywords = (schema: unknown, at = ''): [string, string][] => {
  if (Array.isArray(schema)) return schema.flatMap((item, i) => keywords(item, `${at}[${i}]`));
  if (schema === null || typeof schema !== 'object') return [];
  return Object.entries(schema).flatMap(([keyword, value]): [string, string][] => {
    if (keyword === 'properties' || keyword === 'definitions' || keyword === 'patternProperties') {
      return Object.entries(value as object).flatMap(([name, sub]) => keywords(sub, `${at}.${name}`));
    }
    if (keyword === 'default' || keyword === 'enum') return [[keyword, at]];
    return [[keyword, at], ...keywords(value, at)];
  });
};

describe('the request bodies as API Gateway models', () => {
  it('keeps draft 4’s keywords and formats and drops later ones at every depth, leaving property names alone', () => {
    // Prepare
    const schema = {
      type: 'object',
      properties: {
        const: { type: 'string', contentEncoding: 'base64', format: 'base64', pattern: '^[a-z]+$' },
        list: { type: 'array', items: { anyOf: [{ const: 1 }, { type: 'string', format: 'uri' }] } },
      },
      propertyNames: { pattern: '^[a-z]+$' },
      additionalProperties: { type: 'string', examples: ['x'] },
      default: { const: 'kept as given' },
    };

    // Act
    const cleaned = draft04(schema);

    // Assess
    expect(cleaned).toEqual({
      type: 'object',
      properties: {
        const: { type: 'string', pattern: '^[a-z]+$' },
        list: { type: 'array', items: { anyOf: [{}, { type: 'string', format: 'uri' }] } },
      },
      additionalProperties: { type: 'string' },
      default: { const: 'kept as given' },
    });
  });

  it.each(Object.keys(REQUEST_BODIES) as RequestBodyName[])('makes %s a draft-04 schema of its zod schema, with no keyword of a later draft', (name) => {
    // Act
    const schema = requestModelSchema(name) as Record<string, unknown>;
    const found = keywords(schema);

    // Assess
    expect(schema).toMatchObject({ schema: 'http://json-schema.org/draft-04/schema#', title: name });
    // An object with no other field, or a union of such objects (a node's report, by its type).
    const alternatives = (schema.oneOf ?? schema.anyOf ?? [schema]) as Record<string, unknown>[];
    for (const alternative of alternatives) expect(alternative).toMatchObject({ type: 'object', additionalProperties: false });
    expect(found.filter(([keyword]) => ['const', 'contentEncoding', 'contentMediaType', 'propertyNames', 'examples', '$defs', 'if', 'then', 'else'].includes(keyword))).toEqual([]);
  });
});
