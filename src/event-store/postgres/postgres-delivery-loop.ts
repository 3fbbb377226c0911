import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ConsumerGroupSettings, DeliveredEvent, DeliveryOutcome } from '../consumer-groups.port.js';
import { planSettlement, retryDelayMs, type RetrySchedule } from '../consumer-group-rules.js';
import {
  GroupSubscribers,
  LOOP_ERROR_BASE_MS,
  LOOP_ERROR_MAX_MS,
  SKIP_CHECKPOINT_EVERY_MS,
  type DeliveryLoop,
} from '../group-loops.js';
import { Wakeup } from '../wakeup.js';
import type { PostgresConsumerGroupTables } from './postgres-consumer-group-tables.js';
import type { GroupLeases } from './postgres-leases.js';
import { toRecorded } from './postgres-rows.js';

/** What wakes a loop besides its own timers: appends (LISTEN), replayed parked events, reconnections. */
export interface GroupSignals {
  /** Called at every append's commit. */
  onAppended(listener: () => void): () => void;
  /** Called when parked events of `group` were replayed (by any instance). */
  onReplayed(group: string, listener: () => void): () => void;
  /** Called after the notifications reconnected (some may have been missed). */
  onReconnected(listener: () => void): () => void;
}

export interface PostgresDeliveryLoopOptions {
  readonly settings: ConsumerGroupSettings;
  readonly retry: RetrySchedule;
  /** Fallback poll when no notification comes (PROJECTION_HEARTBEAT_MS), and how often a non-owner looks. */
  readonly pollMs: number;
  readonly onError: (group: string, error: unknown) => void;
  /** Settled first: a loop of the same group that is still stopping (the new one starts from its checkpoint). */
  readonly previous: Promise<void>;
}

/** One round: due redeliveries first, then fresh events. */
interface Batch {
  readonly events: readonly DeliveredEvent[];
  readonly fromPending: number;
  /** Every matching event up to here is in this batch or was handed out before (a position the store gave). */
  readonly scannedTo: bigint;
}

/** Waiting for an open transaction below committed events: look again after this, doubling. */
const BLOCKED_BASE_MS = 5;
const BLOCKED_MAX_MS = 100;

/**
 * The delivery loop of one group in this instance. It delivers only while this instance holds the group's
 * lease (postgres-leases.ts); otherwise it waits, looking again on lease changes and every poll period. As
 * owner it sleeps until an append's notification, a replayed parked event, a retry's due time or the poll
 * wakes it, then hands out due redeliveries and fresh events (below the visibility horizon) in batches and
 * settles each in one statement that also checks the lease.
 *
 * Several subscribers of the group in this process share the loop: batches go to them in turn, one batch at
 * a time (the port's competing subscribers, as in the embedded store).
 */
export class PostgresDeliveryLoop implements DeliveryLoop {
  readonly settings: ConsumerGroupSettings;
  readonly subscribers: GroupSubscribers;
  /** Started as owner: cursor and checkpoint are known. */
  private ready = false;
  /** Every matching event at or below it was handed out (and settled when nothing is in flight); -1: none. */
  private cursor = -1n;
  private checkpoint: bigint | null = null;
  private lastCheckpointWrite = 0;
  private nextDueAt = Number.POSITIVE_INFINITY;
  /** Something may be waiting past the cursor (a notification, a full page, a poll): read before sleeping. */
  private stale = true;
  private blockedDelay = 0;
  private readonly wakeup = new Wakeup();
  private readonly off: (() => void)[] = [];
  private readonly types: readonly string[];
  stopping = false;
  readonly done: Promise<void>;

  constructor(
    private readonly tables: PostgresConsumerGroupTables,
    private readonly leases: GroupLeases,
    signals: GroupSignals,
    private readonly options: PostgresDeliveryLoopOptions,
  ) {
    this.settings = options.settings;
    this.subscribers = new GroupSubscribers(options.settings, this);
    this.types = [...new Set(options.settings.eventTypes)];
    const { group } = options.settings;
    this.off.push(
      signals.onAppended(() => this.poke()),
      signals.onReplayed(group, () => {
        this.nextDueAt = 0;
        this.poke();
      }),
      signals.onReconnected(() => {
        this.nextDueAt = 0;
        this.poke();
      }),
    );
    this.done = options.previous
      .then(() => this.run())
      .catch((error: unknown) => options.onError(group, error));
  }

  /** Parked events of this group were replayed here: they are due now. */
  dueNow(): void {
    this.nextDueAt = 0;
    this.poke();
  }

  /** Every matching event at or below is settled (undefined: not delivering here, ask the database). */
  settledCheckpoint(): bigint | null | undefined {
    if (!this.ready) return undefined;
    if (this.checkpoint === null) return this.cursor >= 0n ? this.cursor : null;
    return this.cursor > this.checkpoint ? this.cursor : this.checkpoint;
  }

  private poke(): void {
    this.stale = true;
    this.wakeup.ring();
  }

  stop(): void {
    this.stopping = true;
    this.wakeup.ring();
    this.wakeup.interrupt();
  }

  private async run(): Promise<void> {
    const { group } = this.settings;
    this.leases.join(group, () => this.wakeup.ring());
    let failures = 0;
    try {
      while (!this.stopping) {
        try {
          if (!this.leases.owns(group)) {
            await this.standBy();
            continue;
          }
          if (!this.ready) await this.init();
          const batch = await this.nextBatch();
          if (batch === null) {
            await this.writeCheckpoint(false);
            await this.idle();
          } else if (batch.events.length === 0) {
            // Only events of other types up to the visible head: move past them, write later.
            this.cursor = batch.scannedTo;
            await this.writeCheckpoint(false);
          } else {
            await this.deliver(batch);
          }
          failures = 0;
        } catch (error) {
          failures += 1;
          this.options.onError(group, error);
          // Start again from the durable state: a batch that did not settle is delivered again.
          this.ready = false;
          await this.sleep(retryDelayMs(failures - 1, LOOP_ERROR_BASE_MS, LOOP_ERROR_MAX_MS));
        }
        // Between batches, let appends, I/O and timers run: a catch-up must not starve the process.
        await yieldToEventLoop();
      }
    } finally {
      for (const off of this.off) off();
      this.wakeup.clearTimer();
      try {
        await this.writeCheckpoint(true);
      } catch (error) {
        this.options.onError(group, error);
      }
      await this.leases.leave(group).catch((error: unknown) => this.options.onError(group, error));
    }
  }

  /** Not the owner (any more): deliver nothing, hand a lease being handed over on, and wait for a change. */
  private async standBy(): Promise<void> {
    this.ready = false;
    await this.leases.stoppedDelivering(this.settings.group);
    if (!this.stopping) await this.wakeup.at(Date.now() + this.options.pollMs);
  }

  private async init(): Promise<void> {
    const { group } = this.settings;
    await this.tables.ensureGroup(group);
    this.checkpoint = await this.tables.checkpoint(group);
    this.cursor = this.checkpoint ?? -1n;
    this.nextDueAt = await this.tables.nextDue(group);
    this.lastCheckpointWrite = Date.now();
    this.stale = true;
    this.ready = true;
  }

  private async nextBatch(): Promise<Batch | null> {
    const { group, batchSize } = this.settings;
    let due: Awaited<ReturnType<PostgresConsumerGroupTables['duePending']>> = [];
    if (Date.now() >= this.nextDueAt) {
      due = await this.tables.duePending(group, batchSize);
      if (due.length === 0) this.nextDueAt = await this.tables.nextDue(group);
    }
    let fresh: Awaited<ReturnType<PostgresConsumerGroupTables['freshEvents']>>['events'] = [];
    let scannedTo = this.cursor;
    const room = batchSize - due.length;
    if (room > 0 && this.stale) {
      this.stale = false;
      const page = await this.tables.freshEvents(this.types, this.cursor, room);
      fresh = page.events;
      if (fresh.length === room) {
        scannedTo = BigInt(fresh[fresh.length - 1]!.position);
        this.stale = true; // a full page: more may follow
      } else {
        // Every matching event up to the visible head was in the page.
        if (page.visibleHead !== null && page.visibleHead > scannedTo) scannedTo = page.visibleHead;
        if (page.blocked) this.stale = true;
      }
      this.blockedDelay = page.blocked
        ? Math.min(BLOCKED_MAX_MS, this.blockedDelay * 2 || BLOCKED_BASE_MS)
        : 0;
    }
    if (due.length === 0 && fresh.length === 0 && scannedTo === this.cursor) return null;
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
    const { group } = this.settings;
    // Never start a batch on a lease that may have run out (a pause, a slow database): renew it first.
    if (!(await this.leases.confirm(group))) {
      this.ready = false;
      return;
    }
    await this.subscribers.deliver(batch.events, (outcomes) => this.settle(batch, outcomes));
  }

  /** One statement: every outcome and the new checkpoint — or nothing, when the lease was taken over. */
  private async settle(batch: Batch, outcomes: readonly DeliveryOutcome[]): Promise<void> {
    const { group, maxRetries } = this.settings;
    const advances = this.checkpoint === null || batch.scannedTo > this.checkpoint;
    const plan = planSettlement(batch.events, batch.fromPending, outcomes, maxRetries, this.options.retry);
    const owned = await this.tables.settle(
      group,
      this.leases.instanceId,
      plan,
      advances ? batch.scannedTo : null,
    );
    if (!owned) {
      // Taken over while the batch was in flight: not settled, the new owner delivers it again.
      this.leases.lost(group);
      this.ready = false;
      return;
    }
    this.cursor = batch.scannedTo;
    if (advances) {
      this.checkpoint = batch.scannedTo;
      this.lastCheckpointWrite = Date.now();
    }
    if (batch.fromPending > 0 || outcomes.some((outcome) => outcome.action !== 'ack')) {
      this.nextDueAt = await this.tables.nextDue(group);
    }
  }

  /** Writes a checkpoint that only moved past events of other types: when due, or now (`force`). */
  private async writeCheckpoint(force: boolean): Promise<void> {
    if (!this.ready || (this.checkpoint !== null && this.cursor <= this.checkpoint) || this.cursor < 0n)
      return;
    const now = Date.now();
    if (!force && now < this.lastCheckpointWrite + SKIP_CHECKPOINT_EVERY_MS) return;
    const { group } = this.settings;
    const empty = { retries: [], parks: [], unpend: [] };
    if (!(await this.tables.settle(group, this.leases.instanceId, empty, this.cursor))) {
      this.leases.lost(group);
      this.ready = false;
      return;
    }
    this.checkpoint = this.cursor;
    this.lastCheckpointWrite = now;
  }

  /**
   * Sleeps until a notification, the next due redelivery, a lazy checkpoint write or the poll; only briefly
   * while committed events wait behind an open transaction.
   */
  private idle(): Promise<void> {
    if (this.stopping || (this.stale && this.blockedDelay === 0)) return Promise.resolve();
    const now = Date.now();
    const checkpointDue =
      this.cursor >= 0n && (this.checkpoint === null || this.cursor > this.checkpoint)
        ? this.lastCheckpointWrite + SKIP_CHECKPOINT_EVERY_MS
        : Number.POSITIVE_INFINITY;
    const pollAt = now + (this.blockedDelay > 0 ? this.blockedDelay : this.options.pollMs);
    const wakeAt = Math.min(this.nextDueAt, checkpointDue, pollAt);
    if (now >= wakeAt) return Promise.resolve();
    // Whatever wakes it (the poll included), look for fresh events once more.
    return this.wakeup.at(wakeAt).then(() => {
      this.stale = true;
    });
  }

  private sleep(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.wakeup.backoff(ms);
  }
}
