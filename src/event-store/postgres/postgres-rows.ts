import type { JsonObject, RecordedEvent } from '../event-store.port.js';

/**
 * The `events` table's row as node-postgres returns it (bigint as text, json parsed, timestamptz as a Date),
 * and its mapping to the port's RecordedEvent. Shared by the store and its consumer groups.
 */
export interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  created: Date;
}

/** The columns of an EventRow, qualified with a table alias. */
export function eventColumns(alias = 'e'): string {
  return ['position', 'stream_id', 'revision', 'event_id', 'type', 'data', 'metadata', 'created']
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    streamId: row.stream_id,
    id: row.event_id,
    type: row.type,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    created: row.created,
    data: row.data,
    metadata: row.metadata,
  };
}

/** A bigint as node-postgres takes it (text: exact beyond 2^53). */
export function sqlBigint(value: bigint): string {
  return value.toString();
}

/** The channels of one schema: events appended, and group changes (a lease released, parked events replayed). */
export function channelsOf(schema: string): { readonly events: string; readonly groups: string } {
  return { events: `ordertrail_events_${schema}`, groups: `ordertrail_groups_${schema}` };
}
