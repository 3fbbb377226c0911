import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerGroupSettings, DeliveredEvent, DeliveryOutcome } from '../consumer-groups.port.js';
import type { RecordedEvent } from '../event-store.port.js';
import { planSettlement, type Backoff } from './esdb-settlement.js';

/** What the server says about a group (getPersistentSubscriptionToAllInfo). */
export interface GroupProgress {
  /** The server's checkpoint: may be past matching events it has not delivered yet (see GroupRecovery). */
  readonly checkpoint: bigint | null;
  /** Nothing buffered, waiting for a retry or in flight: right now, the checkpoint is what was settled. */
  readonly drained: boolean;
  readonly subscribers: number;
}

/** What GroupRecovery needs of the server (the subscription's connector). */
export interface RecoveryConnector {
  progress(serverGroup: string): Promise<GroupProgress | null>;
  /** A position up to which every matching event is known to have been delivered (null: none kept). */
  settledMark(serverGroup: string): Promise<bigint | null>;
  /** Moves the settled mark forward (never back). */
  raiseSettledMark(serverGroup: string, position: bigint): Promise<void>;
  /** The store's `readAll` by event type: what a recovery re-reads. */
  readMatching(after: bigint, types: readonly string[], limit: number): Promise<RecordedEvent[]>;
}

export interface RecoveryOptions {
  /** Hands a batch to the consumer's handler (in turn with the live batches). */
  readonly handle: (batch: readonly DeliveredEvent[]) => Promise<readonly DeliveryOutcome[]>;
  readonly retryBackoff: Backoff;
  /** How often the group's progress is asked while connected. */
  readonly pollMs: number;
  readonly report: (error: unknown) => void;
}

/** How long a stopping subscriber waits for its group to drain and checkpoint what it settled. */
const SETTLE_WAIT_MS = 5_000;
const SETTLE_POLL_MS = 250;

/**
 * Makes a consumer group safe from a server bug it cannot fix (docs/eventstoredb.md, finding 4): a filtered
 * persistent subscription to `$all` moves its checkpoint past the events it filters out (other types, system
 * records such as the links projections write) even while matching events wait in its buffer, unsent — with
 * no subscriber connected, or all of them busy. When the server reloads the group (a restart, a failover) it
 * starts again from that checkpoint and the buffered events are never delivered.
 *
 * So the server's checkpoint is treated as approximate:
 * - while connected, the group's progress is asked every `pollMs`; when the group is drained (nothing
 *   buffered, retried or in flight) its checkpoint is exact at that moment and becomes the group's *settled
 *   mark*, kept on the server (esdb-consumer-groups.ts); a stopping subscriber waits briefly for the same, so
 *   that the mark covers what it settled;
 * - after every (re)connection, the matching events between the mark and the server's checkpoint are read
 *   again (a filtered catch-up read) and handed to the handler — at least once, as ever: after a reload
 *   these are the events that may have been lost, otherwise duplicates the consumers ignore — and the mark
 *   moves to that checkpoint.
 * An event recovered this way that the handler keeps refusing cannot be parked from outside the group: it is
 * retried with the usual backoff and then reported.
 */
export class GroupRecovery {
  /** Bumped by every (re)connection and disconnection: a poll or recovery of an older one stops. */
  private generation = 0;
  private running: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Cuts a retry backoff short at stop. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly connector: RecoveryConnector,
    private readonly settings: ConsumerGroupSettings,
    private readonly options: RecoveryOptions,
  ) {}

  /** The subscription is connected (confirmed) to the group: recover, then keep the mark moving. */
  connected(serverGroup: string): void {
    const generation = ++this.generation;
    clearTimeout(this.pollTimer);
    this.running = this.running.then(() => this.reconcile(serverGroup, generation));
  }

  disconnected(): void {
    this.generation += 1;
    clearTimeout(this.pollTimer);
  }

  /** No recovery or poll after this; resolves once the one under way stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.disconnected();
    await this.running;
  }

  /**
   * For a subscriber that stopped handling: waits (briefly) until the group is drained and its checkpoint
   * covers `settledUpTo` (the newest event this subscriber settled), and raises the mark to it, so that the
   * next connection re-reads nothing this subscriber already handled.
   */
  async settle(serverGroup: string, settledUpTo: bigint): Promise<void> {
    const until = Date.now() + SETTLE_WAIT_MS;
    try {
      for (;;) {
        const progress = await this.connector.progress(serverGroup);
        if (progress === null) return;
        const { checkpoint, drained } = progress;
        if (drained && checkpoint !== null && checkpoint >= settledUpTo) {
          await this.connector.raiseSettledMark(serverGroup, checkpoint);
          return;
        }
        if (Date.now() >= until) return;
        await sleep(SETTLE_POLL_MS);
      }
    } catch (error) {
      this.options.report(error);
    }
  }

  private current(generation: number): boolean {
    return !this.stopped && generation === this.generation;
  }

  private async reconcile(serverGroup: string, generation: number): Promise<void> {
    if (!this.current(generation)) return;
    try {
      const [mark, progress] = await Promise.all([
        this.connector.settledMark(serverGroup),
        this.connector.progress(serverGroup),
      ]);
      const upTo = progress?.checkpoint ?? null;
      if (mark !== null && upTo !== null && upTo > mark) {
        if (!(await this.recover(mark, upTo, generation))) return;
        await this.connector.raiseSettledMark(serverGroup, upTo);
      }
    } catch (error) {
      // Without a reconciled mark, moving it could skip what a reload lost: no polling on this connection.
      this.options.report(error);
      return;
    }
    this.schedulePoll(serverGroup, generation);
  }

  private schedulePoll(serverGroup: string, generation: number): void {
    if (!this.current(generation)) return;
    this.pollTimer = setTimeout(() => {
      this.running = this.running.then(() => this.poll(serverGroup, generation));
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  private async poll(serverGroup: string, generation: number): Promise<void> {
    if (!this.current(generation)) return;
    try {
      const progress = await this.connector.progress(serverGroup);
      if (progress?.drained && progress.checkpoint !== null && this.current(generation)) {
        await this.connector.raiseSettledMark(serverGroup, progress.checkpoint);
      }
    } catch {
      // The connection reports its own trouble; the next poll tries again.
    }
    this.schedulePoll(serverGroup, generation);
  }

  /**
   * Hands the matching events in (after, upTo] to the handler, a batch at a time. False when it stopped before
   * the end (a new connection, a stop): the mark must not move then.
   */
  private async recover(after: bigint, upTo: bigint, generation: number): Promise<boolean> {
    const { eventTypes, batchSize } = this.settings;
    for (let from = after; ;) {
      if (!this.current(generation)) return false;
      const page = await this.connector.readMatching(from, eventTypes, batchSize);
      const batch = page.filter((event) => event.position <= upTo);
      if (batch.length > 0) await this.deliver(batch, generation);
      const last = batch[batch.length - 1];
      if (!last || batch.length < page.length || page.length < batchSize) return this.current(generation);
      from = last.position;
    }
  }

  /** One recovered batch, retried with the usual backoff; what is never acknowledged is reported. */
  private async deliver(events: readonly RecordedEvent[], generation: number): Promise<void> {
    let pending: DeliveredEvent[] = events.map((event) => ({ event, retryCount: 0 }));
    while (pending.length > 0 && this.current(generation)) {
      const outcomes = await this.options.handle(pending);
      const plan = planSettlement(
        pending.map((delivered) => ({ token: delivered, retryCount: delivered.retryCount })),
        outcomes,
        this.settings.maxRetries,
        this.options.retryBackoff,
      );
      for (const { reason, events: refused } of plan.park) {
        for (const { event } of refused) {
          this.options.report(
            new Error(
              `event ${event.id} (${event.streamId}@${event.revision}), delivered again after the server's checkpoint had passed it, was not handled and cannot be parked from outside the group: ${reason}`,
            ),
          );
        }
      }
      pending = plan.retry
        .flatMap((retry) => retry.events)
        .map((d) => ({ ...d, retryCount: d.retryCount + 1 }));
      const delayMs = Math.max(0, ...plan.retry.map((retry) => retry.delayMs));
      if (pending.length > 0) {
        await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }
}
