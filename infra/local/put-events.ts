/**
 * `POST /_local/events`: PutEvents onto the local bus, as `aws events put-events` sends it. The
 * request is checked at the door against EventBridge's own limits (256 KB per entry, Detail nested
 * at most 1100 levels), so nothing the bus keeps or delivers can be too large or too deep to
 * serialize again. What EventBridge refuses as a whole request (not a PutEvents request, a member
 * of the wrong type, a limit broken) is a 400 in the service's envelope naming the member, e.g.
 * `Entries.0.Detail`; what it answers per entry (no Source, a Detail that is not a JSON object, an
 * unknown bus) stays a failed entry of a 200, as the bus answers it (docs/decisions.md).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { issuesToDetails } from '#domain/validation';
import { errorBody, json } from '#lib/http';
import type { LocalEventBus } from './event-bus.ts';

const MAX_ENTRY_BYTES = 256 * 1024;
const MAX_DETAIL_DEPTH = 1100;
export const MAX_ENTRIES = 10;
/** Time is epoch seconds; beyond year 9999 there is no ISO date to give the event. */
const MAX_TIME_SECONDS = 253_402_300_799;
/** What EventBridge counts for a given Time, whatever its value. */
const TIME_BYTES = 14;

/**
 * How deeply a JSON text nests arrays and objects, counted in one pass over the text: no parser
 * and no recursion, so a text too deep for either is measured all the same.
 */
const jsonDepth = (text: string): number => {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth);
    else if (char === ']' || char === '}') depth--;
  }
  return deepest;
};

const utf8Bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

const entrySchema = z
  .strictObject({
    Source: z.string().optional(),
    DetailType: z.string().optional(),
    Detail: z
      .string()
      .refine((detail) => jsonDepth(detail) <= MAX_DETAIL_DEPTH, `must not nest deeper than ${MAX_DETAIL_DEPTH} levels`)
      .optional(),
    Resources: z.array(z.string()).optional(),
    EventBusName: z.string().optional(),
    Time: z.number().min(0).max(MAX_TIME_SECONDS).optional(),
    // X-Ray's header: accepted as EventBridge accepts it; local mode traces nothing.
    TraceHeader: z.string().max(500).optional(),
  })
  // The entry's size as EventBridge counts it.
  .refine(
    (entry) =>
      (entry.Time === undefined ? 0 : TIME_BYTES) +
        utf8Bytes(entry.Source) +
        utf8Bytes(entry.DetailType) +
        utf8Bytes(entry.Detail) +
        (entry.Resources ?? []).reduce((sum, resource) => sum + utf8Bytes(resource), 0) <=
      MAX_ENTRY_BYTES,
    `must not be larger than ${MAX_ENTRY_BYTES} bytes`,
  );

export type PutEventsEntry = z.infer<typeof entrySchema>;

const requestSchema = z.strictObject({
  Entries: z
    .array(z.unknown())
    .min(1, `must hold 1 to ${MAX_ENTRIES} entries`)
    .max(MAX_ENTRIES, `must hold 1 to ${MAX_ENTRIES} entries`)
    // Entries are looked at only once there are few enough of them.
    .pipe(z.array(entrySchema)),
});

/** The route's handler: the request checked, then handed to the bus. */
export const putEventsHandler =
  (bus: Pick<LocalEventBus, 'putEvents'>) =>
  async (event: Pick<APIGatewayProxyEvent, 'body'>): Promise<APIGatewayProxyResult> => {
    let body: unknown;
    try {
      body = JSON.parse(event.body ?? '');
    } catch {
      return json(400, errorBody('MalformedJson', 'the body is not valid JSON', [{ path: '(body)', message: 'is not valid JSON' }]));
    }
    const request = requestSchema.safeParse(body);
    if (!request.success) {
      const details = issuesToDetails(request.error.issues, body);
      return json(400, errorBody('ValidationError', `invalid PutEvents request: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details));
    }
    return json(200, bus.putEvents(request.data.Entries));
  };
