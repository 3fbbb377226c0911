/**
 * Global positions on PostgreSQL, and why no reader of the log ever skips an event.
 *
 * The trap: a position taken from a sequence is taken when a transaction inserts, but becomes visible only
 * when that transaction commits. Transaction A takes 10, transaction B takes 11, B commits first: a reader
 * sees 11, moves its cursor there and never looks below it again — A's event at 10 commits a moment later
 * and is skipped for good.
 *
 * The rule here (the one Emmett's PostgreSQL store follows: transaction ids against the snapshot's xmin
 * horizon): an event's position is built from the id of the transaction that appended it,
 * `((xid8 + offset) << 12) + n` with n its place in that transaction, and a reader only reads positions below
 * the horizon `(pg_snapshot_xmin(pg_current_snapshot()) + offset) << 12`. Every transaction with an id below
 * the snapshot's xmin has finished (committed or rolled back), and every transaction still open or still to
 * come has an id at or above it. So everything below the horizon is final, and anything that can still
 * appear will appear above it: a reader that moved its cursor to p never sees an event turn up below p.
 *
 * What it costs:
 * - A transaction that stays open holds every reader back until it ends — any transaction that wrote,
 *   in any database of the cluster (transaction ids are cluster-wide). The service's own transactions last
 *   milliseconds; keep others short (`idle_in_transaction_session_timeout`). Readers that find committed
 *   events above the horizon wait for it (readAll, briefly) or look again soon (consumer groups).
 * - Positions are sparse (a transaction id's 4,096 slots, mostly unused): positions are opaque, and only
 *   the ones the store hands out are accepted back (the port's rule).
 * - One append holds at most 4,096 events.
 * - Positions stay below 2^53 (exact as JSON numbers, as the HTTP API shows them) for 2^41 transaction ids:
 *   seventy years at a thousand writing transactions a second.
 *
 * `offset` is `ordertrail_meta.xid_offset`, 0 on a new database. A database restored into another cluster
 * may find transaction ids lower than the ones its positions were made of: the start then raises the offset
 * so that new positions stay above every stored one (postgres-schema.ts).
 */

/** Events one append (one transaction) may hold. */
export const EVENTS_PER_TRANSACTION = 4096;

const SHIFT = 12;
const OFFSET = `(SELECT value FROM ordertrail_meta WHERE key = 'xid_offset')`;

/** SQL: the first position of the current transaction (assigns it a transaction id if it has none yet). */
export const POSITION_BASE = `((pg_current_xact_id()::text::bigint + ${OFFSET}) << ${SHIFT})`;

/** SQL: readers read positions strictly below this; everything below it is committed for good. */
export const VISIBLE_BELOW = `((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + ${OFFSET}) << ${SHIFT})`;

/** The transaction-id part of a position (for the offset check at start). */
export function transactionPartOf(position: bigint): bigint {
  return position >> BigInt(SHIFT);
}
