import type Database from 'better-sqlite3';
import {
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
} from '../event-store.port.js';

interface PendingAppend {
  readonly streamId: string;
  readonly events: readonly EventToAppend[];
  readonly expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** Raised inside the batch transaction for one append; rolls back only that append's savepoint. */
class AppendRejected extends Error {
  constructor(readonly reason: unknown) {
    super('append rejected');
  }
}

/**
 * The embedded store's append path. Throughput comes from group commit: every append requested during one
 * event-loop turn is committed in one transaction (one fsync), each append still checked on its own inside
 * its own savepoint, so one failing append never takes the others down.
 */
export class GroupCommitAppender {
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private readonly stmt: {
    streamRevision: Database.Statement<[string], { revision: number }>;
    insertEvent: Database.Statement<[string, number, string, string, string, string, number]>;
    upsertStream: Database.Statement<[string, number]>;
    idsFrom: Database.Statement<
      [string, number, number],
      { event_id: string; position: number; revision: number }
    >;
    eventById: Database.Statement<[string], { stream_id: string; revision: number; position: number }>;
  };
  private readonly appendBatch: Database.Transaction<
    (batch: PendingAppend[]) => (AppendResult | AppendRejected)[]
  >;

  /** `committed` is told the global position of the last event of each committed batch. */
  constructor(
    db: Database.Database,
    private readonly committed: (lastPosition: bigint) => void,
  ) {
    this.stmt = {
      streamRevision: db.prepare('SELECT revision FROM streams WHERE stream_id = ?'),
      insertEvent: db.prepare(
        'INSERT INTO events (stream_id, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertStream: db.prepare(
        'INSERT INTO streams (stream_id, revision) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision',
      ),
      idsFrom: db.prepare(
        'SELECT event_id, position, revision FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
      eventById: db.prepare('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
    };
    const appendOne = db.transaction((pending: PendingAppend) => this.appendInTransaction(pending));
    this.appendBatch = db.transaction((batch: PendingAppend[]) =>
      batch.map((pending) => {
        try {
          // A nested transaction is a savepoint: a rejected append rolls back alone.
          return appendOne(pending);
        } catch (error) {
          return error instanceof AppendRejected ? error : new AppendRejected(error);
        }
      }),
    );
  }

  /** Queues the append for the commit at the end of this event-loop turn. */
  append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued append now, in one transaction (also called by close). */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: (AppendResult | AppendRejected)[];
    try {
      results = this.appendBatch.immediate(batch);
    } catch (error) {
      const failure = new EventStoreUnavailableError('the embedded event store could not commit', {
        cause: error,
      });
      for (const pending of batch) pending.reject(failure);
      return;
    }
    let last = -1n;
    results.forEach((result, i) => {
      const pending = batch[i]!;
      if (result instanceof AppendRejected) {
        pending.reject(result.reason);
      } else {
        if (result.position > last) last = result.position;
        pending.resolve(result);
      }
    });
    if (last >= 0n) this.committed(last);
  }

  private appendInTransaction({ streamId, events, expected }: PendingAppend): AppendResult {
    const row = this.stmt.streamRevision.get(streamId);
    const current = row && row.revision >= 0 ? row.revision : -1;
    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && current === -1) ||
      (expected === 'stream_exists' && current >= 0) ||
      (typeof expected === 'bigint' && BigInt(current) === expected);

    const replay = this.previousAppend(streamId, events, expected, matches);
    if (replay) return replay;
    if (!matches) {
      throw new AppendRejected(
        new WrongExpectedRevisionError(streamId, expected, current < 0 ? 'no_stream' : BigInt(current)),
      );
    }
    if (events.length === 0) return { nextExpectedRevision: BigInt(current), position: -1n };

    const created = Date.now();
    let revision = current;
    let position = 0;
    for (const event of events) {
      revision += 1;
      try {
        position = Number(
          this.stmt.insertEvent.run(
            streamId,
            revision,
            event.id,
            event.type,
            JSON.stringify(event.data),
            JSON.stringify(event.metadata),
            created,
          ).lastInsertRowid,
        );
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new AppendRejected(new Error(`event id ${event.id} is already used by another event`));
        }
        throw error;
      }
    }
    this.stmt.upsertStream.run(streamId, revision);
    return { nextExpectedRevision: BigInt(revision), position: BigInt(position) };
  }

  /**
   * The same event ids already appended at the position this append expects: a retried append. Answer what
   * the first one answered, append nothing (EventStoreDB's idempotent append semantics).
   */
  private previousAppend(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    matches: boolean,
  ): AppendResult | null {
    const first = events[0];
    if (!first) return null;
    let from: number;
    if (!matches && expected === 'no_stream') from = 0;
    else if (!matches && typeof expected === 'bigint') from = Number(expected) + 1;
    else if (expected === 'any' || expected === 'stream_exists') {
      const existing = this.stmt.eventById.get(first.id);
      if (!existing || existing.stream_id !== streamId) return null;
      from = existing.revision;
    } else return null;
    const rows = this.stmt.idsFrom.all(streamId, from, events.length);
    if (rows.length !== events.length || rows.some((row, i) => row.event_id !== events[i]!.id)) return null;
    const last = rows[rows.length - 1]!;
    return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position), duplicate: true };
  }
}
