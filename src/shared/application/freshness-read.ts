/**
 * How a read says where its answer came from and how fresh it is: the contract between the query handlers
 * (QP-1 folded from the event store, QP-2 from a read model; docs/architecture.md#read-patterns) and the
 * HTTP edge, which turns it into `meta` and headers.
 */
import { ApplicationError } from './errors.js';

export interface ReadOptions {
  /** `strong`: fold the stream (QP-1); `cached`: the read model (QP-2, the default over HTTP). */
  readonly consistency: 'strong' | 'cached';
  /** For a cached read: wait (bounded) until the read model has reached this revision. */
  readonly minRevision: bigint | null;
  /**
   * For a cached read: the most stale (in ms) the caller accepts (`Cache-Control: max-stale`, `?maxStaleMs`);
   * null: any staleness (the answer says how stale it is). See docs/consistency.md#staleness.
   */
  readonly maxStaleMs: number | null;
}

/** The options of a read that must be current: the stream folded (QP-1). */
export const STRONG_READ: ReadOptions = { consistency: 'strong', minRevision: null, maxStaleMs: null };

/** A read that says where it came from and how fresh it is. */
export interface FreshnessRead<View> {
  readonly data: View;
  /** Revision of the source stream the answer reflects. */
  readonly revision: bigint;
  /** Global position of that revision's event (null when folded from the stream). */
  readonly position: bigint | null;
  /** When the read model document was written (null when folded from the stream). */
  readonly projectedAt: Date | null;
  readonly source: 'read-store' | 'event-store';
  /** True when the caller asked for `minRevision` and the read model had not reached it in time. */
  readonly stale: boolean;
  /**
   * Milliseconds the data trails the event store: since the append of the first event of its stream it does
   * not reflect; 0 when it reflects them all (always 0 from the event store). docs/consistency.md#staleness.
   */
  readonly staleness: number;
}

/**
 * Staleness of data whose oldest missing event was appended at `firstMissing` (epoch ms; null: none is
 * missing), as of `now`: 0, or the time since that append (never negative, whatever the clocks say).
 */
export function stalenessAt(now: number, firstMissing: number | null): number {
  return firstMissing === null ? 0 : Math.max(0, Math.round(now - firstMissing));
}

/** HTTP's `Age` of data that is `stalenessMs` stale: whole seconds, rounded down (0 when current). */
export function ageSeconds(stalenessMs: number): number {
  return Math.floor(Math.max(0, stalenessMs) / 1000);
}

/**
 * A list (a bulk read) is staler than the caller accepts (`max-stale`): answered 503 with `Retry-After` — the
 * read model's freshness budget, in whole seconds (a read model within its budget has applied, by then, what
 * is waiting now). Not a fault: nothing is logged.
 */
export class ReadModelTooStaleError extends ApplicationError {
  constructor(
    readonly readModel: string,
    readonly staleness: number,
    readonly maxStale: number,
    readonly budgetMs: number,
  ) {
    const retryAfter = Math.max(1, Math.ceil(budgetMs / 1000));
    super(
      'too-stale',
      'READ_MODEL_TOO_STALE',
      `${readModel} is ${staleness} ms stale, more than the ${maxStale} ms the request accepts (max-stale)`,
      { readModel, staleness, maxStale, retryAfter },
    );
  }
}
