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
  /** Events pushed to subscribers since the server loaded the group (counts from 0 again after a restart). */
  readonly pushed: bigint;
}

/** A position up to which every matching event is known to have been delivered, kept on the server. */
export interface SettledMark {
  readonly position: bigint;
  /** The group's `pushed` count when the mark was taken: a smaller count later means the group was reloaded. */
  readonly pushed: bigint;
}

/** What GroupRecovery needs of the server (the subscription's connector). */
export interface RecoveryConnector {
  progress(serverGroup: string): Promise<GroupProgress | null>;
  settledMark(serverGroup: string): Promise<SettledMark | null>;
  raiseSettledMark(serverGroup: string, mark: SettledMark): Promise<void>;
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

/**
 * Makes a consumer group safe from a server bug it cannot fix (docs/eventstoredb.md, finding 4): a filtered
 * persistent subscription to `$all` moves its checkpoint past the events it filters out (other types, system
 * records such as the links projections write) even while matching events wait in its buffer, unsent — with
 * no subscriber connected, or all of them busy. When the server reloads the group (a restart, a failover) it
 * starts again from that checkpoint and the buffered events are never delivered.
 *
 * So the server's checkpoint is treated as approximate:
 * - while connected, the group's progress is asked every `pollMs`; when it is drained (nothing buffered,
 *   retried or in flight) its checkpoint is exact at that moment and becomes the group's *settled mark*, kept
 *   on the server with the group's push count (esdb-consumer-groups.ts);
 * - after every (re)connection, if the group was reloaded since the mark (its push count is back at or below
 *   the mark's), the matching events between the mark and the server's checkpoint are read again (a filtered
 *   catch-up read) and handed to the handler — at least once, as ever — before the mark moves on.
 * An event recovered this way that the handler keeps refusing cannot be parked from outside the group: it is
 * retried with the usual backoff and then reported.
 */
export class GroupRecovery {
  private serverGroup: string | null = null;
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

  /** The subscription is connected (confirmed) to the group: recover if needed, then keep the mark moving. */
  connected(serverGroup: string): void {
    this.serverGroup = serverGroup;
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
      // Pushed no more than at the mark: reloaded since (or idle; then the re-read costs a few duplicates).
      if (mark !== null && progress !== null && progress.pushed <= mark.pushed) {
        const upTo = progress.checkpoint;
        const behind = upTo !== null && upTo > mark.position;
        if (behind && !(await this.recover(mark.position, upTo, generation))) return;
        await this.connector.raiseSettledMark(serverGroup, {
          position: behind ? upTo : mark.position,
          pushed: progress.pushed,
        });
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
        const mark = await this.connector.settledMark(serverGroup);
        if (mark === null || progress.checkpoint > mark.position) {
          await this.connector.raiseSettledMark(serverGroup, {
            position: progress.checkpoint,
            pushed: progress.pushed,
          });
        }
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
