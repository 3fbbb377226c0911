import { Injectable } from '@nestjs/common';
import { EventStore } from '../../event-store/event-store.port.js';
import { ReadStore } from '../../read-side/read-store.port.js';

/** A store that does not answer within this time is down. */
export const PROBE_TIMEOUT_MS = 2000;

/** The stores a probe reads, by the name `/health/ready` gives them. */
export type ProbedStore = 'eventStore' | 'readStore';

/**
 * One real read per store — what `/health/ready` asks, and what `/metrics` reports as
 * `ordertrail_store_up`: the event store's revision of a stream that never exists, a meta value of the read
 * store. Called by a probe or a scrape, never on a command's path.
 */
@Injectable()
export class StoreProbes {
  constructor(
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
  ) {}

  /** Resolves when the store answered (whatever it answered); rejects with why not. */
  probe(store: ProbedStore): Promise<unknown> {
    return store === 'eventStore'
      ? this.events.streamRevision('$health-probe')
      : this.readStore.getMeta('health-probe');
  }

  /** Whether the store answers within PROBE_TIMEOUT_MS. */
  async up(store: ProbedStore, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([
        this.probe(store).then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
