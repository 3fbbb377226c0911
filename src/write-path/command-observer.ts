/** What one command did, reported once when it ends (successfully or not). */
export interface CommandReport {
  /** The use case, e.g. `AddItem` (a fixed set: never an id). */
  readonly command: string;
  /** The aggregate's stream category, e.g. `cart`. */
  readonly category: string;
  /** The aggregate's stream (for logs only: never a metric label). */
  readonly streamId: string;
  /** Revision of the stream's last event after the append (null: nothing appended). */
  readonly revision: bigint | null;
  /** Ids of the appended events (empty: nothing appended). */
  readonly eventIds: readonly string[];
  /** From the call to the answer, including the wait for the stream's lock. */
  readonly seconds: number;
  /** Events appended (0 for an idempotent replay or a failure). */
  readonly appended: number;
  /** True when a retried request was answered from the idempotency memory. */
  readonly replayed: boolean;
  /** Appends that lost an optimistic-concurrency race (each one re-decided, or ended in 409/412). */
  readonly conflicts: number;
  /** What the command threw, if it failed (a domain rejection or an unexpected failure). */
  readonly error?: unknown;
}

/**
 * Port: hears about every command the write path runs (metrics, debug log). Called synchronously on the command's hot
 * path, so an implementation must be cheap (no I/O, no awaiting) and must never throw.
 */
export abstract class CommandObserver {
  abstract commandEnded(report: CommandReport): void;
}
