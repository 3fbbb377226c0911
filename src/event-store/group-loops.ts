import type {
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryHandler,
  DeliveryOutcome,
  GroupSubscription,
} from './consumer-groups.port.js';
import { hostname } from 'node:os';
import { outcomesOf, sameSettings, type RetrySchedule } from './consumer-group-rules.js';

/**
 * What the adapters that run consumer groups themselves (embedded, PostgreSQL) share: one delivery loop per
 * group in a process, and the subscribers of that group sharing it.
 */

/**
 * How often a checkpoint that only moved past events of other types is written. Such a move needs no
 * durability (lost, it costs a rescan of events nobody wants, never a delivery), and writing it on every
 * append of an unwanted type cost 8% of append throughput with four idle groups (embedded store).
 */
export const SKIP_CHECKPOINT_EVERY_MS = 1_000;
/** Backoff of a delivery loop whose store access failed (not a handler failure), doubling up to the max. */
export const LOOP_ERROR_BASE_MS = 200;
export const LOOP_ERROR_MAX_MS = 10_000;

/** The options of an adapter's consumer groups that run their own delivery loops. */
export interface GroupLoopOptions {
  /** This process's INSTANCE_ID (default `<hostname>:<pid>`): the owner it names for the groups it delivers. */
  readonly instanceId?: string;
  /** Delay before the first redelivery of a retried event; doubles with every further retry. Default 100 ms. */
  readonly retryBaseMs?: number;
  /** Longest delay before a redelivery. Default 10 s. */
  readonly retryMaxMs?: number;
  /**
   * Told about failures of a delivery loop itself (the store, not the handler: a handler's failure is a
   * `retry`). The loop carries on after a backoff. Default: a process warning.
   */
  readonly onError?: (group: string, error: unknown) => void;
}

/** GroupLoopOptions with their defaults filled in. */
export interface ResolvedGroupLoopOptions {
  readonly instanceId: string;
  readonly retry: RetrySchedule;
  readonly onError: (group: string, error: unknown) => void;
}

export function resolveGroupLoopOptions(options: GroupLoopOptions): ResolvedGroupLoopOptions {
  return {
    instanceId: options.instanceId ?? `${hostname()}:${process.pid}`,
    retry: { baseMs: options.retryBaseMs ?? 100, maxMs: options.retryMaxMs ?? 10_000 },
    onError:
      options.onError ??
      ((group, error) =>
        process.emitWarning(
          `consumer group ${group}: ${error instanceof Error ? error.message : String(error)}`,
          'ConsumerGroupWarning',
        )),
  };
}

/** A group's delivery loop in this process, as its adapter and its subscribers see it. */
export interface DeliveryLoop {
  readonly settings: ConsumerGroupSettings;
  /** Stopping: its last batch settles, then `done` resolves; a new subscriber gets a new loop. */
  readonly stopping: boolean;
  readonly done: Promise<void>;
  readonly subscribers: GroupSubscribers;
}

/**
 * The subscribers of one group in this process. They share its loop and compete, as the port says: batches go
 * to them in turn, one batch at a time, so no two of them ever hold the same event. They must agree on the
 * settings. The last one out stops the loop.
 */
export class GroupSubscribers {
  private readonly list: Subscriber[] = [];
  private turn = 0;
  private inFlight: { readonly subscriber: Subscriber; readonly settled: Promise<void> } | null = null;

  constructor(
    private readonly settings: ConsumerGroupSettings,
    /** Stops the loop (it settles its batch in flight); `done` resolves once it has. */
    private readonly loop: { stop(): void; readonly done: Promise<void> },
  ) {}

  get count(): number {
    return this.list.length;
  }

  add(handler: DeliveryHandler): GroupSubscription {
    const subscriber = new Subscriber(this, handler);
    this.list.push(subscriber);
    return subscriber;
  }

  /** Resolves once this subscriber's batch in flight (if any) is settled; the last one out stops the loop. */
  async remove(subscriber: Subscriber): Promise<void> {
    const index = this.list.indexOf(subscriber);
    if (index >= 0) this.list.splice(index, 1);
    if (this.list.length === 0) {
      this.loop.stop();
      await this.loop.done;
    } else if (this.inFlight?.subscriber === subscriber) {
      await this.inFlight.settled;
    }
  }

  /** Every subscriber leaves: the loop stops once its batch in flight is settled. */
  async removeAll(): Promise<void> {
    this.list.splice(0);
    this.loop.stop();
    await this.loop.done;
  }

  assertSameSettings(settings: ConsumerGroupSettings): void {
    if (!sameSettings(settings, this.settings)) {
      throw new Error(
        `consumer group ${settings.group} is already subscribed in this process with other settings`,
      );
    }
  }

  /**
   * Hands the batch to the next subscriber in turn and `settle`s its outcomes (a handler that throws gets the
   * whole batch retried); a subscriber leaving meanwhile waits for the settle. False: nobody to deliver to.
   */
  async deliver(
    events: readonly DeliveredEvent[],
    settle: (outcomes: readonly DeliveryOutcome[]) => void | Promise<void>,
  ): Promise<boolean> {
    const subscriber = this.list[this.turn++ % this.list.length];
    if (!subscriber) return false;
    let settled!: () => void;
    this.inFlight = { subscriber, settled: new Promise<void>((resolve) => (settled = resolve)) };
    try {
      await settle(await outcomesOf(subscriber.handler, events));
      return true;
    } finally {
      this.inFlight = null;
      settled();
    }
  }
}

/** One subscriber's handle: stopping it removes its handler from the group's loop. */
class Subscriber implements GroupSubscription {
  constructor(
    private readonly group: GroupSubscribers,
    readonly handler: DeliveryHandler,
  ) {}

  stop(): Promise<void> {
    return this.group.remove(this);
  }
}

/**
 * The delivery loops of an adapter's groups in this process, one per group: a subscriber joins the running
 * loop of its group, or starts a new one — after a loop of the same group that is still stopping has settled
 * its last batch, so that the new one starts from its checkpoint.
 */
export class DeliveryLoops<Loop extends DeliveryLoop> {
  private readonly loops = new Map<string, Loop>();

  subscribe(
    settings: ConsumerGroupSettings,
    handler: DeliveryHandler,
    start: (previous: Promise<void>) => Loop,
  ): GroupSubscription {
    let loop = this.loops.get(settings.group);
    if (loop && !loop.stopping) {
      loop.subscribers.assertSameSettings(settings);
    } else {
      const created = start(loop?.done ?? Promise.resolve());
      loop = created;
      this.loops.set(settings.group, created);
      void created.done.then(() => {
        if (this.loops.get(settings.group) === created) this.loops.delete(settings.group);
      });
    }
    return loop.subscribers.add(handler);
  }

  get(group: string): Loop | undefined {
    return this.loops.get(group);
  }

  /** Stops every loop (each settles its batch in flight). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.loops.values()].map((loop) => loop.subscribers.removeAll()));
  }
}
