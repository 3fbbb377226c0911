import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../shared/infrastructure/sqlite.js';
import {
  EventStoreUnavailableError,
  type ConsumerGroupInfo,
  type ConsumerGroupSettings,
  type DeliveredEvent,
  type DeliveryHandler,
  type DeliveryOutcome,
  type GroupSubscription,
  type ParkedEvent,
} from '../event-store.port.js';
import { assertValidSettings, outcomesOf } from '../consumer-group-rules.js';
import { eventColumnsOf, placeholders, toRecorded, type EventRow, EVENT_COLUMNS } from './embedded-rows.js';

/**
 * Consumer-group state, in the store's own SQLite file. `checkpoint` is NULL until the group has settled
 * something (the port's "null checkpoint"). `consumer_pending` holds the events to deliver again (retries
 * with their due time, replayed parked events) and `consumer_parked` the parked ones: both are tables, not
 * memory, so that a restart still delivers a retry and still lists a parked event. No extra index on
 * `events`: the delivery query walks the primary key between the group's cursor and the head, and the
 * cursor skips past events of other types, so every event is read at most once per group (measured with
 * 100k events of mixed types: a (type, position) index only paid off for a 1% type, 16 ms → 2.5 ms per
 * 100k events, and cost every append ~2 µs more CPU and the file ~5% more space).
 */
export const CONSUMER_GROUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS consumer_groups (
    name       TEXT    PRIMARY KEY,
    checkpoint INTEGER,
    created    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS consumer_pending (
    grp         TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    retry_count INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    PRIMARY KEY (grp, position)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS consumer_parked (
    grp         TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    retry_count INTEGER NOT NULL,
    parked_at   INTEGER NOT NULL,
    PRIMARY KEY (grp, position)
  ) WITHOUT ROWID;
`;

export interface ConsumerGroupOptions {
  /** Delay before the first redelivery of a retried event; doubles with every further retry. Default 100 ms. */
  readonly retryBaseMs?: number;
  /** Longest delay before a redelivery. Default 10 s. */
  readonly retryMaxMs?: number;
  /**
   * Told about failures of a delivery loop itself (the file, not the handler: a handler's failure is a
   * `retry`). The loop carries on after a backoff. Default: a process warning.
   */
  readonly onError?: (group: string, error: unknown) => void;
}

/** Where the consumer groups hear about new events: the store's post-commit notification. */
export interface AppendNotifier {
  onAppended(listener: (lastPosition: bigint) => void): () => void;
}

/** What one group's delivery loop has done in this process (for diagnostics, health and tests). */
export interface ConsumerGroupStats {
  readonly group: string;
  readonly subscribers: number;
  /** Everything matching at or below this position has been handed out (and settled when nothing is in flight). */
  readonly cursor: bigint;
  /** Queries the loop made for events to deliver (fresh or due). Flat while the group is idle: no polling. */
  readonly reads: number;
  readonly batches: number;
  readonly delivered: number;
  readonly lastBatchAt: Date | null;
  readonly lastError: string | null;
}

interface PendingRow extends EventRow {
  retry_count: number;
}

interface ParkedRow extends EventRow {
  reason: string;
  retry_count: number;
  parked_at: number;
}

/** One round of the delivery loop: due redeliveries first, then fresh events. */
interface Batch {
  readonly events: readonly DeliveredEvent[];
  /** The first `fromPending` events came from consumer_pending (their row goes once they are settled). */
  readonly fromPending: number;
  /** Every matching event up to here is in this batch or was handed out before. */
  readonly scannedTo: number;
}

const DEFAULT_RETRY_BASE_MS = 100;
const DEFAULT_RETRY_MAX_MS = 10_000;
/**
 * How often a checkpoint that only moved past events of other types is written. Such a move needs no
 * durability (lost, it costs a rescan of events nobody wants, never a delivery), and writing it on every
 * append of an unwanted type cost 8% of append throughput with four idle groups.
 */
const SKIP_CHECKPOINT_EVERY_MS = 1_000;
/** Backoff of a delivery loop whose file access failed (not a handler failure). */
const LOOP_ERROR_BASE_MS = 200;
const LOOP_ERROR_MAX_MS = 10_000;

/** Delay before redelivering an event that was delivered `retryCount` times before: base × 2^retryCount, capped. */
export function retryDelayMs(retryCount: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(retryCount, 30));
}

/**
 * The embedded store's consumer groups: durable checkpoints, retries and parked events in the store's file,
 * delivered by one loop per group that sleeps until an append, a retry's due time or a stop wakes it.
 *
 * It has a connection of its own to the file, with `synchronous=NORMAL`: settling a batch then costs no
 * fsync, and the append path keeps its group commit to itself. WAL keeps each settle atomic; a power cut can
 * lose only the latest settles (until the next append's fsync or checkpoint carries them), which means
 * redelivery from an older checkpoint, never a lost or skipped event: consumers are at-least-once anyway, and
 * events are fsynced (FULL) before any consumer sees them. better-sqlite3 is synchronous, so two connections
 * in one thread never hold transactions at the same time and never wait on each other.
 *
 * Several subscribers of one group in this process share its loop: batches go to them in turn, one batch at
 * a time (they compete, as the port says, without ever holding the same event). They must agree on the
 * settings. One process per file is the embedded store's rule, so there is no cross-process competition.
 */
export class EmbeddedConsumerGroups {
  private readonly db: Database.Database;
  private readonly runners = new Map<string, GroupRunner>();
  private readonly freshByTypeCount = new Map<number, Database.Statement<unknown[], EventRow>>();
  private closed = false;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly onError: (group: string, error: unknown) => void;

  /** @internal statements shared by the group runners */
  readonly stmt: {
    ensureGroup: Database.Statement<[string, number]>;
    checkpoint: Database.Statement<[string], { checkpoint: number | null }>;
    setCheckpoint: Database.Statement<[number, string]>;
    head: Database.Statement<[], { head: number | null }>;
    duePending: Database.Statement<[string, number, number], PendingRow>;
    nextDue: Database.Statement<[string], { due: number | null }>;
    upsertPending: Database.Statement<[string, number, number, number]>;
    deletePending: Database.Statement<[string, number]>;
    park: Database.Statement<[string, number, string, number, number]>;
    listParked: Database.Statement<[string, number], ParkedRow>;
    oldestParked: Database.Statement<[string, number], { position: number }>;
    unpark: Database.Statement<[string, number]>;
    parkedCount: Database.Statement<[string], { n: number }>;
  };
  private readonly replayTx: Database.Transaction<(group: string, limit: number, now: number) => number>;

  constructor(
    file: string,
    private readonly notifier: AppendNotifier,
    options: ConsumerGroupOptions = {},
  ) {
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.retryMaxMs = options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    this.onError =
      options.onError ??
      ((group, error) =>
        process.emitWarning(
          `consumer group ${group}: ${error instanceof Error ? error.message : String(error)}`,
          'ConsumerGroupWarning',
        ));
    this.db = openSqlite(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(CONSUMER_GROUP_SCHEMA);
    const e = eventColumnsOf('e');
    this.stmt = {
      ensureGroup: this.db.prepare(
        'INSERT INTO consumer_groups (name, checkpoint, created) VALUES (?, NULL, ?) ON CONFLICT (name) DO NOTHING',
      ),
      checkpoint: this.db.prepare('SELECT checkpoint FROM consumer_groups WHERE name = ?'),
      setCheckpoint: this.db.prepare('UPDATE consumer_groups SET checkpoint = ? WHERE name = ?'),
      head: this.db.prepare('SELECT MAX(position) AS head FROM events'),
      // Joined with events so that a pending row can never be "due" without an event to deliver.
      duePending: this.db.prepare(
        `SELECT p.retry_count, ${e} FROM consumer_pending p JOIN events e ON e.position = p.position
         WHERE p.grp = ? AND p.due_at <= ? ORDER BY p.position LIMIT ?`,
      ),
      nextDue: this.db.prepare(
        `SELECT MIN(p.due_at) AS due FROM consumer_pending p JOIN events e ON e.position = p.position
         WHERE p.grp = ?`,
      ),
      upsertPending: this.db.prepare(
        `INSERT INTO consumer_pending (grp, position, retry_count, due_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (grp, position) DO UPDATE SET retry_count = excluded.retry_count, due_at = excluded.due_at`,
      ),
      deletePending: this.db.prepare('DELETE FROM consumer_pending WHERE grp = ? AND position = ?'),
      park: this.db.prepare(
        `INSERT INTO consumer_parked (grp, position, reason, retry_count, parked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (grp, position) DO UPDATE SET
           reason = excluded.reason, retry_count = excluded.retry_count, parked_at = excluded.parked_at`,
      ),
      listParked: this.db.prepare(
        `SELECT p.reason, p.retry_count, p.parked_at, ${e} FROM consumer_parked p
         JOIN events e ON e.position = p.position
         WHERE p.grp = ? ORDER BY p.parked_at, p.position LIMIT ?`,
      ),
      oldestParked: this.db.prepare(
        'SELECT position FROM consumer_parked WHERE grp = ? ORDER BY parked_at, position LIMIT ?',
      ),
      unpark: this.db.prepare('DELETE FROM consumer_parked WHERE grp = ? AND position = ?'),
      parkedCount: this.db.prepare('SELECT COUNT(*) AS n FROM consumer_parked WHERE grp = ?'),
    };
    this.replayTx = this.db.transaction((group: string, limit: number, now: number) => {
      const rows = this.stmt.oldestParked.all(group, limit);
      for (const { position } of rows) {
        this.stmt.upsertPending.run(group, position, 0, now);
        this.stmt.unpark.run(group, position);
      }
      return rows.length;
    });
  }

  subscribe(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription {
    this.assertOpen();
    assertValidSettings(settings);
    let runner = this.runners.get(settings.group);
    if (runner && !runner.stopping) {
      runner.assertSameSettings(settings);
    } else {
      // A runner still stopping settles its last batch first: the next one starts from its checkpoint.
      const previous = runner?.done ?? Promise.resolve();
      const created = new GroupRunner(this, this.notifier, settings, previous);
      runner = created;
      this.runners.set(settings.group, created);
      void created.done.then(() => {
        if (this.runners.get(settings.group) === created) this.runners.delete(settings.group);
      });
    }
    return runner.add(handler);
  }

  listParked(group: string, limit?: number): ParkedEvent[] {
    this.assertOpen();
    return this.stmt.listParked.all(group, limit ?? -1).map((row) => ({
      event: toRecorded(row),
      reason: row.reason,
      retryCount: row.retry_count,
      parkedAt: new Date(row.parked_at),
    }));
  }

  /** Parked → pending with retry count 0, due now; a loop of this group running here is woken at once. */
  replayParked(group: string, limit?: number): number {
    this.assertOpen();
    if (limit !== undefined && limit <= 0) return 0;
    const now = Date.now();
    const count = this.replayTx.immediate(group, limit ?? -1, now);
    if (count > 0) this.runners.get(group)?.dueBy(now);
    return count;
  }

  /** A loop of the group running here knows a newer checkpoint than the file (see SKIP_CHECKPOINT_EVERY_MS). */
  groupInfo(group: string): ConsumerGroupInfo {
    this.assertOpen();
    const live = this.runners.get(group)?.settledCheckpoint();
    const checkpoint = live !== undefined ? live : (this.stmt.checkpoint.get(group)?.checkpoint ?? null);
    return {
      group,
      checkpoint: checkpoint === null ? null : BigInt(checkpoint),
      parkedCount: this.stmt.parkedCount.get(group)?.n ?? 0,
    };
  }

  stats(group: string): ConsumerGroupStats | null {
    return this.runners.get(group)?.snapshot() ?? null;
  }

  /** The delivery query for `count` event types, prepared once per count. */
  freshStatement(count: number): Database.Statement<unknown[], EventRow> {
    let stmt = this.freshByTypeCount.get(count);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? AND type IN (${placeholders(count)})
         ORDER BY position LIMIT ?`,
      );
      this.freshByTypeCount.set(count, stmt);
    }
    return stmt;
  }

  transaction<A extends unknown[]>(work: (...args: A) => void): Database.Transaction<(...args: A) => void> {
    return this.db.transaction(work);
  }

  /** Stops every delivery loop (each settles its batch in flight), then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.runners.values()].map((runner) => runner.stopAll()));
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
  }
}

/** One subscriber's handle: stopping it removes its handler from the group's loop. */
class Subscriber implements GroupSubscription {
  constructor(
    private readonly runner: GroupRunner,
    readonly handler: DeliveryHandler,
  ) {}

  stop(): Promise<void> {
    return this.runner.remove(this);
  }
}

/** The delivery loop of one group in this process. */
class GroupRunner {
  private readonly subscribers: Subscriber[] = [];
  private turn = 0;
  private ready = false;
  /**
   * Highest position looked at: every matching event at or below it was handed out, and settled when no
   * batch is in flight (it only moves when a batch is settled).
   */
  private cursor = 0;
  /** The checkpoint in the file (at most the cursor). */
  private checkpoint: number | null = null;
  private lastCheckpointWrite = 0;
  /** Newest position in the store as far as this loop knows (kept current by the append notification). */
  private head = 0;
  /** Earliest due time of a pending redelivery (Infinity: none). */
  private nextDueAt = Number.POSITIVE_INFINITY;
  private wake: (() => void) | null = null;
  private wakeTimer: NodeJS.Timeout | undefined;
  private interruptSleep: (() => void) | null = null;
  private inFlight: { readonly subscriber: Subscriber; readonly settled: Promise<void> } | null = null;
  private readonly offAppended: () => void;
  private readonly types: readonly string[];
  private readonly settleTx: Database.Transaction<
    (batch: Batch, outcomes: readonly DeliveryOutcome[]) => void
  >;
  private readonly counters = { reads: 0, batches: 0, delivered: 0 };
  private lastBatchAt: Date | null = null;
  private lastError: string | null = null;
  stopping = false;
  readonly done: Promise<void>;

  constructor(
    private readonly groups: EmbeddedConsumerGroups,
    notifier: AppendNotifier,
    readonly settings: ConsumerGroupSettings,
    previous: Promise<void>,
  ) {
    this.types = [...new Set(settings.eventTypes)];
    this.settleTx = groups.transaction((batch: Batch, outcomes: readonly DeliveryOutcome[]) =>
      this.settleInTransaction(batch, outcomes),
    );
    // Listening from the start: an append between reading the head and sleeping still wakes the loop.
    this.offAppended = notifier.onAppended((lastPosition) => {
      const position = Number(lastPosition);
      if (position > this.head) {
        this.head = position;
        this.notify();
      }
    });
    this.done = previous
      .then(() => this.run())
      .catch((error: unknown) => this.groups.onError(settings.group, error));
  }

  add(handler: DeliveryHandler): Subscriber {
    const subscriber = new Subscriber(this, handler);
    this.subscribers.push(subscriber);
    return subscriber;
  }

  /** Resolves once this subscriber's batch in flight (if any) is settled; the last one out stops the loop. */
  async remove(subscriber: Subscriber): Promise<void> {
    const index = this.subscribers.indexOf(subscriber);
    if (index >= 0) this.subscribers.splice(index, 1);
    if (this.subscribers.length === 0) {
      this.stop();
      await this.done;
    } else if (this.inFlight?.subscriber === subscriber) {
      await this.inFlight.settled;
    }
  }

  async stopAll(): Promise<void> {
    this.subscribers.splice(0);
    this.stop();
    await this.done;
  }

  assertSameSettings(settings: ConsumerGroupSettings): void {
    const same =
      settings.batchSize === this.settings.batchSize &&
      settings.maxRetries === this.settings.maxRetries &&
      sameSet(settings.eventTypes, this.settings.eventTypes);
    if (!same) {
      throw new Error(
        `consumer group ${settings.group} is already subscribed in this process with other settings`,
      );
    }
  }

  /** A pending redelivery is due by `at` (e.g. replayed parked events): wake up for it. */
  dueBy(at: number): void {
    if (at < this.nextDueAt) this.nextDueAt = at;
    this.notify();
  }

  /** Every matching event at or below is settled (undefined: not started yet, ask the file). */
  settledCheckpoint(): number | null | undefined {
    if (!this.ready) return undefined;
    return this.cursor > (this.checkpoint ?? 0) ? this.cursor : this.checkpoint;
  }

  snapshot(): ConsumerGroupStats {
    return {
      group: this.settings.group,
      subscribers: this.subscribers.length,
      cursor: BigInt(this.cursor),
      ...this.counters,
      lastBatchAt: this.lastBatchAt,
      lastError: this.lastError,
    };
  }

  private stop(): void {
    this.stopping = true;
    this.notify();
    this.interruptSleep?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    try {
      while (!this.stopping) {
        try {
          if (!this.ready) this.init();
          const batch = this.nextBatch();
          if (batch === null) {
            this.writeCheckpoint(false);
            await this.idle();
            continue;
          }
          if (batch.events.length === 0) {
            // Only events of other types up to the head: move past them, deliver nothing, write later.
            this.cursor = batch.scannedTo;
            this.writeCheckpoint(false);
          } else {
            await this.deliver(batch);
          }
          failures = 0;
        } catch (error) {
          failures += 1;
          this.lastError = error instanceof Error ? error.message : String(error);
          this.groups.onError(this.settings.group, error);
          // Start again from the durable state: a batch that did not settle is delivered again.
          this.ready = false;
          await this.sleep(retryDelayMs(failures - 1, LOOP_ERROR_BASE_MS, LOOP_ERROR_MAX_MS));
        }
        // Between batches, let appends, I/O and timers run: a catch-up must not starve the process.
        await yieldToEventLoop();
      }
    } finally {
      this.offAppended();
      this.clearWakeTimer();
      try {
        this.writeCheckpoint(true);
      } catch (error) {
        this.groups.onError(this.settings.group, error);
      }
    }
  }

  /** Writes a checkpoint that only moved past events of other types: when due, or now (`force`). */
  private writeCheckpoint(force: boolean): void {
    if (!this.ready || this.cursor <= (this.checkpoint ?? 0)) return;
    const now = Date.now();
    if (!force && now < this.lastCheckpointWrite + SKIP_CHECKPOINT_EVERY_MS) return;
    this.groups.stmt.setCheckpoint.run(this.cursor, this.settings.group);
    this.checkpoint = this.cursor;
    this.lastCheckpointWrite = now;
  }

  /** When the loop must wake up by itself: a redelivery falls due, or a skipped-ahead checkpoint. */
  private nextWakeAt(): number {
    const checkpointDue =
      this.cursor > (this.checkpoint ?? 0)
        ? this.lastCheckpointWrite + SKIP_CHECKPOINT_EVERY_MS
        : Number.POSITIVE_INFINITY;
    return Math.min(this.nextDueAt, checkpointDue);
  }

  private init(): void {
    const { stmt } = this.groups;
    stmt.ensureGroup.run(this.settings.group, Date.now());
    this.checkpoint = stmt.checkpoint.get(this.settings.group)?.checkpoint ?? null;
    this.cursor = this.checkpoint ?? 0;
    this.head = Math.max(this.head, stmt.head.get()?.head ?? 0);
    this.nextDueAt = this.readNextDue();
    this.ready = true;
  }

  private readNextDue(): number {
    return this.groups.stmt.nextDue.get(this.settings.group)?.due ?? Number.POSITIVE_INFINITY;
  }

  private nextBatch(): Batch | null {
    const { group, batchSize } = this.settings;
    const now = Date.now();
    let due: PendingRow[] = [];
    if (now >= this.nextDueAt) {
      this.counters.reads += 1;
      due = this.groups.stmt.duePending.all(group, now, batchSize);
      if (due.length === 0) this.nextDueAt = this.readNextDue();
    }
    let fresh: EventRow[] = [];
    let scannedTo = this.cursor;
    const room = batchSize - due.length;
    if (room > 0 && this.head > this.cursor) {
      this.counters.reads += 1;
      fresh = this.groups.freshStatement(this.types.length).all(this.cursor, this.head, ...this.types, room);
      // Fewer than asked: nothing else matches up to the head, so the loop need not look there again.
      scannedTo = fresh.length < room ? this.head : fresh[fresh.length - 1]!.position;
    }
    if (due.length === 0 && scannedTo === this.cursor) return null;
    return {
      events: [
        ...due.map((row) => ({ event: toRecorded(row), retryCount: row.retry_count })),
        ...fresh.map((row) => ({ event: toRecorded(row), retryCount: 0 })),
      ],
      fromPending: due.length,
      scannedTo,
    };
  }

  private async deliver(batch: Batch): Promise<void> {
    const subscriber = this.subscribers[this.turn++ % this.subscribers.length];
    if (!subscriber) return;
    let settled!: () => void;
    this.inFlight = { subscriber, settled: new Promise<void>((resolve) => (settled = resolve)) };
    try {
      const outcomes = await outcomesOf(subscriber.handler, batch.events);
      this.settle(batch, outcomes);
      this.counters.batches += 1;
      this.counters.delivered += batch.events.length;
      this.lastBatchAt = new Date();
    } finally {
      this.inFlight = null;
      settled();
    }
  }

  /** One transaction: every outcome and the new checkpoint, or nothing (then the batch comes again). */
  private settle(batch: Batch, outcomes: readonly DeliveryOutcome[]): void {
    this.settleTx(batch, outcomes);
    this.cursor = batch.scannedTo;
    if (batch.scannedTo > (this.checkpoint ?? 0)) {
      this.checkpoint = batch.scannedTo;
      this.lastCheckpointWrite = Date.now();
    }
    if (batch.fromPending > 0 || outcomes.some((outcome) => outcome.action !== 'ack')) {
      this.nextDueAt = this.readNextDue();
    }
  }

  private settleInTransaction(batch: Batch, outcomes: readonly DeliveryOutcome[]): void {
    const { stmt, retryBaseMs, retryMaxMs } = this.groups;
    const { group, maxRetries } = this.settings;
    const now = Date.now();
    batch.events.forEach((delivered, i) => {
      const position = Number(delivered.event.position);
      const pending = i < batch.fromPending;
      const outcome: DeliveryOutcome = outcomes[i] ?? { action: 'retry', reason: 'no outcome' };
      switch (outcome.action) {
        case 'ack':
          if (pending) stmt.deletePending.run(group, position);
          return;
        case 'retry': {
          const next = delivered.retryCount + 1;
          if (next > maxRetries) {
            stmt.park.run(group, position, outcome.reason, delivered.retryCount, now);
            if (pending) stmt.deletePending.run(group, position);
          } else {
            const dueAt = now + retryDelayMs(delivered.retryCount, retryBaseMs, retryMaxMs);
            stmt.upsertPending.run(group, position, next, dueAt);
          }
          return;
        }
        case 'park':
          stmt.park.run(group, position, outcome.reason, delivered.retryCount, now);
          if (pending) stmt.deletePending.run(group, position);
          return;
        default: {
          const unknown: never = outcome;
          throw new Error(`unknown delivery outcome ${JSON.stringify(unknown)}`);
        }
      }
    });
    if (batch.scannedTo > (this.checkpoint ?? 0)) stmt.setCheckpoint.run(batch.scannedTo, group);
  }

  /** Sleeps until an append, the next due redelivery or a stop: no timer ticks, no reads while idle. */
  private idle(): Promise<void> {
    const wakeAt = this.nextWakeAt();
    if (this.stopping || this.head > this.cursor || Date.now() >= wakeAt) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (wakeAt !== Number.POSITIVE_INFINITY) {
        this.wakeTimer = setTimeout(() => this.notify(), Math.max(0, wakeAt - Date.now()));
        // The application's servers keep the process alive, not an idle consumer's retry timer.
        this.wakeTimer.unref();
      }
    });
  }

  private notify(): void {
    this.clearWakeTimer();
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private clearWakeTimer(): void {
    if (this.wakeTimer !== undefined) {
      clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
    }
  }

  /** A backoff after a failure of the loop: only a stop cuts it short (appends do not). */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.interruptSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.interruptSleep = null;
    });
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((value) => right.has(value));
}
