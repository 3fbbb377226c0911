import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ConsumerGroupSettings, DeliveredEvent, DeliveryOutcome } from '../consumer-groups.port.js';
import { retryDelayMs } from '../consumer-group-rules.js';
import {
  GroupSubscribers,
  LOOP_ERROR_BASE_MS,
  LOOP_ERROR_MAX_MS,
  SKIP_CHECKPOINT_EVERY_MS,
  type DeliveryLoop,
} from '../group-loops.js';
import type { ConsumerGroupTables, PendingRow } from './embedded-consumer-group-tables.js';
import { toRecorded, type EventRow } from './embedded-rows.js';
import { Wakeup } from '../wakeup.js';

/** Where a delivery loop hears about new events: the store's post-commit notification. */
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

export interface DeliveryLoopOptions {
  readonly settings: ConsumerGroupSettings;
  /** Told about failures of the loop itself (the file, not the handler); the loop carries on after a backoff. */
  readonly onError: (group: string, error: unknown) => void;
  /** Settled first: a loop of the same group that is still stopping (the new one starts from its checkpoint). */
  readonly previous: Promise<void>;
}

/** One round of the delivery loop: due redeliveries first, then fresh events. */
interface Batch {
  readonly events: readonly DeliveredEvent[];
  /** The first `fromPending` events came from consumer_pending (their row goes once they are settled). */
  readonly fromPending: number;
  /** Every matching event up to here is in this batch or was handed out before. */
  readonly scannedTo: number;
}

/**
 * The delivery loop of one group in this process: it sleeps until an append, a retry's due time or a stop
 * wakes it, then hands out due redeliveries and fresh events in batches and settles each in one transaction.
 *
 * Several subscribers of the group in this process share the loop: batches go to them in turn, one batch at
 * a time (they compete, as the port says, without ever holding the same event). They must agree on the
 * settings. One process per file is the embedded store's rule, so there is no cross-process competition.
 */
export class GroupDeliveryLoop implements DeliveryLoop {
  readonly settings: ConsumerGroupSettings;
  readonly subscribers: GroupSubscribers;
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
  private readonly wakeup = new Wakeup();
  private readonly offAppended: () => void;
  private readonly types: readonly string[];
  private readonly onError: (group: string, error: unknown) => void;
  private readonly counters = { reads: 0, batches: 0, delivered: 0 };
  private lastBatchAt: Date | null = null;
  private lastError: string | null = null;
  stopping = false;
  readonly done: Promise<void>;

  constructor(
    private readonly tables: ConsumerGroupTables,
    notifier: AppendNotifier,
    { settings, onError, previous }: DeliveryLoopOptions,
  ) {
    this.settings = settings;
    this.subscribers = new GroupSubscribers(settings, this);
    this.onError = onError;
    this.types = [...new Set(settings.eventTypes)];
    // Listening from the start: an append between reading the head and sleeping still wakes the loop.
    this.offAppended = notifier.onAppended((lastPosition) => {
      const position = Number(lastPosition);
      if (position > this.head) {
        this.head = position;
        this.wakeup.ring();
      }
    });
    this.done = previous.then(() => this.run()).catch((error: unknown) => onError(settings.group, error));
  }

  /** A pending redelivery is due by `at` (e.g. replayed parked events): wake up for it. */
  dueBy(at: number): void {
    if (at < this.nextDueAt) this.nextDueAt = at;
    this.wakeup.ring();
  }

  /** Every matching event at or below is settled (undefined: not started yet, ask the file). */
  settledCheckpoint(): number | null | undefined {
    if (!this.ready) return undefined;
    return this.cursor > (this.checkpoint ?? 0) ? this.cursor : this.checkpoint;
  }

  snapshot(): ConsumerGroupStats {
    return {
      group: this.settings.group,
      subscribers: this.subscribers.count,
      cursor: BigInt(this.cursor),
      ...this.counters,
      lastBatchAt: this.lastBatchAt,
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopping = true;
    this.wakeup.ring();
    this.wakeup.interrupt();
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
          this.onError(this.settings.group, error);
          // Start again from the durable state: a batch that did not settle is delivered again.
          this.ready = false;
          await this.sleep(retryDelayMs(failures - 1, LOOP_ERROR_BASE_MS, LOOP_ERROR_MAX_MS));
        }
        // Between batches, let appends, I/O and timers run: a catch-up must not starve the process.
        await yieldToEventLoop();
      }
    } finally {
      this.offAppended();
      this.wakeup.clearTimer();
      try {
        this.writeCheckpoint(true);
      } catch (error) {
        this.onError(this.settings.group, error);
      }
    }
  }

  /** Writes a checkpoint that only moved past events of other types: when due, or now (`force`). */
  private writeCheckpoint(force: boolean): void {
    if (!this.ready || this.cursor <= (this.checkpoint ?? 0)) return;
    const now = Date.now();
    if (!force && now < this.lastCheckpointWrite + SKIP_CHECKPOINT_EVERY_MS) return;
    this.tables.setCheckpoint(this.settings.group, this.cursor);
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
    const { group } = this.settings;
    this.tables.ensureGroup(group, Date.now());
    this.checkpoint = this.tables.checkpoint(group);
    this.cursor = this.checkpoint ?? 0;
    this.head = Math.max(this.head, this.tables.head());
    this.nextDueAt = this.tables.nextDue(group);
    this.ready = true;
  }

  private nextBatch(): Batch | null {
    const { group, batchSize } = this.settings;
    const now = Date.now();
    let due: PendingRow[] = [];
    if (now >= this.nextDueAt) {
      this.counters.reads += 1;
      due = this.tables.duePending(group, now, batchSize);
      if (due.length === 0) this.nextDueAt = this.tables.nextDue(group);
    }
    let fresh: EventRow[] = [];
    let scannedTo = this.cursor;
    const room = batchSize - due.length;
    if (room > 0 && this.head > this.cursor) {
      this.counters.reads += 1;
      fresh = this.tables.freshEvents(this.types, this.cursor, this.head, room);
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
    await this.subscribers.deliver(batch.events, (outcomes) => {
      this.settle(batch, outcomes);
      this.counters.batches += 1;
      this.counters.delivered += batch.events.length;
      this.lastBatchAt = new Date();
    });
  }

  /** One transaction: every outcome and the new checkpoint, or nothing (then the batch comes again). */
  private settle(batch: Batch, outcomes: readonly DeliveryOutcome[]): void {
    const { group, maxRetries } = this.settings;
    const advances = batch.scannedTo > (this.checkpoint ?? 0);
    this.tables.settle(group, maxRetries, {
      events: batch.events,
      fromPending: batch.fromPending,
      outcomes,
      checkpoint: advances ? batch.scannedTo : null,
    });
    this.cursor = batch.scannedTo;
    if (advances) {
      this.checkpoint = batch.scannedTo;
      this.lastCheckpointWrite = Date.now();
    }
    if (batch.fromPending > 0 || outcomes.some((outcome) => outcome.action !== 'ack')) {
      this.nextDueAt = this.tables.nextDue(group);
    }
  }

  /** Sleeps until an append, the next due redelivery or a stop: no timer ticks, no reads while idle. */
  private idle(): Promise<void> {
    const wakeAt = this.nextWakeAt();
    if (this.stopping || this.head > this.cursor || Date.now() >= wakeAt) return Promise.resolve();
    return this.wakeup.at(wakeAt);
  }

  /** A backoff after a failure of the loop: only a stop cuts it short (appends do not). */
  private sleep(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.wakeup.backoff(ms);
  }
}
