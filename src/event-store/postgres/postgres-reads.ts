/**
 * The SQL of the PostgreSQL event store's reads: a stream's events forwards and backwards within its readable
 * range, and reads and counts of the global log below the visibility horizon (postgres-positions.ts).
 */
import { VISIBLE_BELOW } from './postgres-positions.js';
import { eventColumns, type EventRow } from './postgres-rows.js';

const E = eventColumns('e');

/** A stream's readable range: events older than the newest `max_count` are hidden. */
const OLDEST_READABLE = `CASE WHEN s.max_count IS NULL THEN 0 ELSE s.revision - s.max_count + 1 END`;
export const FORWARDS = `
  SELECT ${E} FROM streams s JOIN events e ON e.stream_id = s.stream_id
  WHERE s.stream_id = $1 AND e.revision >= GREATEST($2::bigint, ${OLDEST_READABLE})
  ORDER BY e.revision LIMIT $3`;
export const BACKWARDS = `
  SELECT ${E} FROM streams s JOIN events e ON e.stream_id = s.stream_id
  WHERE s.stream_id = $1 AND e.revision <= coalesce($2::bigint, s.revision) AND e.revision >= ${OLDEST_READABLE}
  ORDER BY e.revision DESC LIMIT $3`;

/**
 * A read of the global log below the visibility horizon (postgres-positions.ts), with what the caller needs
 * to judge it: whether `$1` is a position this store handed out (or -1), and the newest committed position
 * (above the horizon when a transaction that began earlier is still open). `filter` may use `$3`.
 */
function logRead(select: string, filter: string): string {
  return `
    SELECT b.known, b.visible_below::text, b.head::text, r.*
    FROM (
      SELECT ${VISIBLE_BELOW} AS visible_below, (SELECT max(position) FROM events) AS head,
             ($1::bigint = -1 OR EXISTS (SELECT 1 FROM events WHERE position = $1::bigint)) AS known
    ) b
    LEFT JOIN LATERAL (
      ${select} FROM events e
      WHERE e.position > $1::bigint AND e.position < b.visible_below ${filter}
      ORDER BY e.position LIMIT $2
    ) r ON true
    ORDER BY r.position`;
}

export const ALL = logRead(`SELECT ${E}`, '');
export const ALL_OF_TYPES = logRead(`SELECT ${E}`, 'AND e.type = ANY($3::text[])');
export const COUNT_ALL = countOf('');
export const COUNT_OF_TYPES = countOf('AND e.type = ANY($3::text[])');
export const BY_CORRELATION = logRead(`SELECT ${E}`, `AND (e.metadata ->> 'correlationId') = $3`);

function countOf(filter: string): string {
  return `
    SELECT b.known, b.visible_below::text, b.head::text,
      (SELECT count(*)::int FROM (
         SELECT 1 FROM events e WHERE e.position > $1::bigint AND e.position < b.visible_below ${filter}
         ORDER BY e.position LIMIT $2) c) AS n
    FROM (
      SELECT ${VISIBLE_BELOW} AS visible_below, (SELECT max(position) FROM events) AS head,
             ($1::bigint = -1 OR EXISTS (SELECT 1 FROM events WHERE position = $1::bigint)) AS known
    ) b`;
}

export interface HorizonColumns {
  known: boolean;
  visible_below: string;
  head: string | null;
}
export type LogRow = HorizonColumns & { [K in keyof EventRow]: EventRow[K] | null };
