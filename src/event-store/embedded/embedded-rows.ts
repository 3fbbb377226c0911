import type { JsonObject, RecordedEvent } from '../event-store.port.js';

/**
 * The `events` table's row as SQLite returns it, and its mapping to the port's RecordedEvent. Shared by the
 * store and its consumer groups (a module of its own so that neither imports the other).
 */
export interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  created: number;
}

export const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, created';

/** The same columns qualified with a table alias, for joins with tables that also have a `position`. */
export function eventColumnsOf(alias: string): string {
  return EVENT_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/** `?, ?, ?` for an IN list of `count` values (SQLite accepts an empty `IN ()`, which matches nothing). */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    streamId: row.stream_id,
    id: row.event_id,
    type: row.type,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    created: new Date(row.created),
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as JsonObject,
  };
}
