import { EventStoreUnavailableError } from '../event-store.port.js';

/**
 * Reading from @eventstore/db-client 6.2.1 without wedging the connection (docs/eventstoredb.md, findings 1
 * and 10):
 * - Leaving a `for await` early destroys the client's Readable but never cancels the gRPC call under it (the
 *   client pipes the call into the Readable, and unpiping does not end it). The server keeps the stream open,
 *   and Kestrel allows 100 concurrent streams per connection: the 101st call waits forever. So every read
 *   that stops before the server ended it is cancelled here.
 * - Streaming reads and subscriptions run with `deadline: Infinity` (the client overrides any deadline given),
 *   and a batch append waits for an answer that may never come. So they get a deadline of our own.
 */

/** The part of the client's streaming read used here (its `StreamingRead`). */
export interface CancellableRead<T> extends AsyncIterable<T> {
  cancel(): Promise<void>;
}

/** How long a call may go without any answer before it is given up. */
export interface Deadline {
  readonly ms: number;
  /** What is waited for, for the error message. */
  readonly what: string;
}

export function deadlineError({ ms, what }: Deadline): EventStoreUnavailableError {
  return new EventStoreUnavailableError(`EventStoreDB did not answer ${what} within ${ms} ms`);
}

/** `promise`, or EventStoreUnavailableError after `deadline.ms` without it settling. */
export function withDeadline<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlineError(deadline)), deadline.ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Reads `read` until `visit` answers false ("enough") or the server ends it, with at most `deadline.ms`
 * between two records. Whenever it stops before the end (enough, an error, the deadline), the gRPC call is
 * cancelled so that the server frees its stream. Answers whether the server ended the read (a short page).
 */
export async function drain<T>(
  read: CancellableRead<T>,
  visit: (item: T) => boolean | void,
  deadline: Deadline,
): Promise<{ ended: boolean }> {
  const iterator = read[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = iterator.next();
      // The losing `next` of a deadline rejects once the read is destroyed below: nobody waits for it then.
      next.catch(() => undefined);
      const result = await withDeadline(next, deadline);
      if (result.done) {
        ended = true;
        return { ended };
      }
      if (visit(result.value) === false) return { ended };
    }
  } finally {
    if (!ended) await stop(read, iterator);
  }
}

/** Cancels the call under a read (the server frees its stream), then destroys the read itself. */
async function stop<T>(read: CancellableRead<T>, iterator: AsyncIterator<T>): Promise<void> {
  await read.cancel().catch(() => undefined);
  // Destroys the Readable; a `next` still pending settles and is ignored (see drain).
  void iterator.return?.()?.catch(() => undefined);
}

/**
 * The raw gRPC call under one of the client's Readables (ReadStream, Subscription,
 * PersistentSubscriptionImpl): each pipes the call into itself once it is created, and `pipe` announces the
 * source to its destination. The client keeps the call private; this is the only way to end our side of a
 * call gracefully (see EsdbGroupSubscription's stop). Attach right after the client returned the Readable.
 */
export function onPipedCall(readable: PipeTarget, listener: (call: GrpcDuplexCall) => void): void {
  readable.once('pipe', (source) => {
    if (isDuplexCall(source)) listener(source);
  });
}

/** A stream that announces what is piped into it (any Readable, typed as the client types its own). */
export interface PipeTarget {
  once(event: 'pipe', listener: (...args: unknown[]) => void): unknown;
}

/** What EsdbGroupSubscription needs of grpc-js's ClientDuplexStream. */
export interface GrpcDuplexCall {
  end(callback?: () => void): unknown;
  cancel(): void;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
  removeListener(event: 'finish' | 'close', listener: () => void): unknown;
}

function isDuplexCall(value: unknown): value is GrpcDuplexCall {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { end?: unknown }).end === 'function' &&
    typeof (value as { cancel?: unknown }).cancel === 'function' &&
    'writableFinished' in value
  );
}
