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

type ClientRecordedEvent = NonNullable<ResolvedEvent['event']> | NonNullable<AllStreamResolvedEvent['event']>;

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

/**
 * The event of a read result (null for a link whose event is gone). Its global position is the event's own
 * (server 22.6+ sends it on every read), else the read's commit position — which is the event's only when no
 * link is involved: a resolved link's commit position is the link's.
 */
export function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event) return null;
  const position = event.position?.commit ?? (resolved.link ? undefined : resolved.commitPosition);
  if (position === undefined) {
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
