/**
 * The request bodies as API Gateway models: the handlers' zod schemas, put through the generator
 * of the OpenAPI document (functions/lib/openapi.ts) with zod's draft-04 target, since API
 * Gateway models are JSON Schema draft 4. The handlers stay the validators (docs/decisions.md,
 * "cdk-nag"); the models describe the bodies in API Gateway's own documentation and exports.
 */
import { JsonSchemaVersion, type JsonSchema } from 'aws-cdk-lib/aws-apigateway';
import { jsonSchemaOf, REQUEST_BODIES, type RequestBodyName } from '../../functions/lib/openapi.ts';

/** Draft 4's keywords; zod's draft-04 output still carries a few of later drafts (`contentEncoding`). */
const DRAFT_04_KEYWORDS = new Set([
  'id', '$ref', 'title', 'description', 'default',
  'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern',
  'additionalItems', 'items', 'maxItems', 'minItems', 'uniqueItems',
  'maxProperties', 'minProperties', 'required', 'additionalProperties', 'definitions', 'properties', 'patternProperties', 'dependencies',
  'enum', 'type', 'format', 'allOf', 'anyOf', 'oneOf', 'not',
]);
/** The formats draft 4 defines; others (`base64`) are dropped rather than left to a validator's guess. */
const DRAFT_04_FORMATS = new Set(['date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uri']);
/** Keywords whose value is a map of names to schemas: the names are the body's, never keywords. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);
/** Keywords whose value is a schema, or a list of them. */
const SUBSCHEMAS = new Set(['items', 'additionalItems', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf']);

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `schema` with only draft 4's keywords and formats, at every depth. */
export const draft04 = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(draft04);
  if (!isObject(schema)) return schema;
  const kept: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (!DRAFT_04_KEYWORDS.has(keyword)) continue;
    if (keyword === 'format' && !DRAFT_04_FORMATS.has(String(value))) continue;
    if (SCHEMA_MAPS.has(keyword) && isObject(value)) {
      // A dependency may be a list of property names instead of a schema; draft04 leaves strings as they are.
      kept[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, draft04(sub)]));
    } else {
      kept[keyword] = SUBSCHEMAS.has(keyword) ? draft04(value) : value;
    }
  }
  return kept;
};

/** The API Gateway model schema of a request body. */
export const requestModelSchema = (name: RequestBodyName): JsonSchema => ({
  schema: JsonSchemaVersion.DRAFT4,
  title: name,
  ...(draft04(jsonSchemaOf(REQUEST_BODIES[name], { target: 'draft-04' })) as JsonSchema),
});
