import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveredEvent } from '../../../event-store/consumer-groups.port.js';
import type { EventStore, RecordedEvent } from '../../../event-store/event-store.port.js';
import type { ProjectionRunner } from '../projection-runner.js';
import type { SkippedStream } from './job.js';

/** What one page of a catch-up did (after it is durably applied). */
export interface CatchUpPage {
  readonly count: number;
  /** Position of the page's last event: everything matching up to it is applied. */
  readonly position: bigint;
  /** Streams the runner could not fold in this page (poison events): they stop before it. */
  readonly failures: readonly SkippedStream[];
}

export interface CatchUpOptions {
  readonly events: EventStore;
  /** The runner of the generation to fill (its documents are written conditionally: re-applying is safe). */
  readonly runner: ProjectionRunner;
  /** Start strictly after this position (-1n: from the very first event). */
  readonly after: bigint;
  readonly pageSize: number;
  /** Called after each page; throwing stops the catch-up (a cancel, a lost job). */
  readonly onPage: (page: CatchUpPage) => Promise<void>;
  /** Aborts between pages and during retry back-offs (a shutdown). */
  readonly signal?: AbortSignal;
  /** Attempts of a page whose read or write fails (e.g. a store briefly unreachable). Default 5. */
  readonly attempts?: number;
}

/**
 * A filtered catch-up read through a ProjectionRunner: pages of `readAll({after, limit, eventTypes})` in
 * position order, each applied as one batch, until a page comes back short (the head as of that read).
 * The next page is read while the current one is applied. A page that fails as a whole is retried with a
 * back-off, then the error is thrown; a stream that fails (a poison event) is reported in `failures` and
 * left behind, exactly as the live group leaves it (parked), while every other stream goes on.
 */
export async function catchUp(options: CatchUpOptions): Promise<{ position: bigint; applied: number }> {
  const { events, runner, pageSize, signal } = options;
  const attempts = options.attempts ?? 5;
  const eventTypes = runner.projection.eventTypes;
  const read = (after: bigint): Promise<RecordedEvent[]> => {
    const reading = retrying(() => events.readAll({ after, limit: pageSize, eventTypes }), attempts, signal);
    // Read ahead while the previous page is applied: mark it handled now, it is awaited later.
    reading.catch(() => undefined);
    return reading;
  };
  let position = options.after;
  let applied = 0;
  let next: Promise<RecordedEvent[]> | null = read(position);
  while (next) {
    signal?.throwIfAborted();
    const page: RecordedEvent[] = await next;
    const last = page[page.length - 1];
    if (!last) break;
    next = page.length < pageSize ? null : read(last.position);
    const batch: DeliveredEvent[] = page.map((event) => ({ event, retryCount: 0 }));
    const { outcomes } = await retrying(() => runner.handleWithReport(batch), attempts, signal);
    const failures = new Map<string, string>();
    outcomes.forEach((outcome, i) => {
      const streamId = batch[i]!.event.streamId;
      if (outcome.action !== 'ack' && !failures.has(streamId)) failures.set(streamId, outcome.reason);
    });
    position = last.position;
    applied += page.length;
    await options.onPage({
      count: page.length,
      position,
      failures: [...failures].map(([streamId, reason]) => ({ streamId, reason })),
    });
  }
  return { position, applied };
}

async function retrying<T>(work: () => Promise<T>, attempts: number, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || signal?.aborted) throw error;
      await sleep(Math.min(5_000, 200 * 2 ** (attempt - 1)), undefined, { signal });
    }
  }
}
