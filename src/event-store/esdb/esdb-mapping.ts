import type { AllStreamResolvedEvent, ResolvedEvent } from '@eventstore/db-client';
import type { JsonObject, RecordedEvent } from '../event-store.port.js';

/**
 * Mapping of @eventstore/db-client 6.2.1 records to the port's RecordedEvent, shared by the store and its
 * consumer groups.
 */

/** The client hands JSON events over parsed and anything else as bytes; metadata may be either. */
export function decodeJson(value: unknown): JsonObject {
  if (value instanceof Uint8Array) {
    if (value.length === 0) return {};
    return JSON.parse(Buffer.from(value).toString('utf8')) as JsonObject;
  }
  return (value ?? {}) as JsonObject;
}

export type ClientRecordedEvent =
  NonNullable<ResolvedEvent['event']> | NonNullable<AllStreamResolvedEvent['event']>;

export function recordedEventAt(event: ClientRecordedEvent, position: bigint): RecordedEvent {
  return {
    streamId: event.streamId,
    id: event.id,
    type: event.type,
    revision: event.revision,
    position,
    created: event.created,
    data: decodeJson(event.data),
    metadata: fromEsdbMetadata(decodeJson(event.metadata)),
  };
}

/**
 * EventStoreDB's `$by_correlation_id` system projection (which feeds `$bc-<id>` streams, read by
 * `readByCorrelation`) keys events by the reserved metadata property `$correlationId`; its UI and other
 * tools read `$causationId` likewise. The port's metadata says `correlationId`/`causationId`, so the
 * adapter writes the reserved copies on append...
 */
export function toEsdbMetadata(metadata: JsonObject): JsonObject {
  const { correlationId, causationId } = metadata;
  const out: JsonObject = { ...metadata };
  if (typeof correlationId === 'string' && !('$correlationId' in metadata))
    out.$correlationId = correlationId;
  if (typeof causationId === 'string' && !('$causationId' in metadata)) out.$causationId = causationId;
  return out;
}

/** ...and drops them on read when they are those copies, so that metadata round-trips exactly. */
export function fromEsdbMetadata(metadata: JsonObject): JsonObject {
  const copyOfCorrelation =
    '$correlationId' in metadata && metadata.$correlationId === metadata.correlationId;
  const copyOfCausation = '$causationId' in metadata && metadata.$causationId === metadata.causationId;
  if (!copyOfCorrelation && !copyOfCausation) return metadata;
  const out: JsonObject = { ...metadata };
  if (copyOfCorrelation) delete out.$correlationId;
  if (copyOfCausation) delete out.$causationId;
  return out;
}

/** The `$by_correlation_id` projection's stream of links to every event of one correlation id. */
export function correlationStreamOf(correlationId: string): string {
  return `$bc-${correlationId}`;
}

/** What the server sends as a record's position when it has none: -1 as an unsigned 64-bit number. */
const NO_POSITION = 2n ** 64n - 1n;

/**
 * The global position of the event of a read result, or null when the result does not carry it. Client
 * 6.2.1 always fills `event.position`: with 0 when the server sent no position (a server before 22.6), with
 * 2^64 - 1 when it had none. On a read of a stream or `$all` it is the event's own; a resolved link's own
 * position is `link.position`, and the read's `commitPosition` is the link's too. (Persistent subscriptions
 * differ: there both carry the link's position, see EsdbGroupSubscription.)
 */
export function positionOf(
  event: ClientRecordedEvent,
  resolved: { readonly link?: unknown; readonly commitPosition?: bigint },
): bigint | null {
  const own = event.position?.commit;
  if (own !== undefined && own !== 0n && own !== NO_POSITION) return own;
  return resolved.link ? null : (resolved.commitPosition ?? null);
}

/**
 * The event of a read result (null for a link whose event is gone). Callers skip system records before they
 * get here: their data need not be JSON.
 */
export function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event) return null;
  const position = positionOf(event, resolved);
  if (position === null) {
    throw new Error('EventStoreDB did not return event positions: a server 22.6 or newer is required');
  }
  return recordedEventAt(event, position);
}

/** System streams and events ($-prefixed) are not the application's: readAll and headPosition skip them. */
export function isSystemEvent(event: { readonly streamId: string; readonly type: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/**
 * A server-side event-type filter matching exactly these types. The server's regex is .NET's: its
 * metacharacters are escaped, since a type is a name, not a pattern.
 */
export function eventTypeRegex(types: readonly string[]): string {
  const escaped = [...new Set(types)].map((type) => type.replace(/[\\^$.|?*+()[\]{}#]/g, '\\$&'));
  return `^(?:${escaped.join('|')})$`;
}
