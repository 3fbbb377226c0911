/**
 * How a read says where its answer came from and how fresh it is: the contract between the query handlers
 * (QP-1 folded from the event store, QP-2 from a read model; docs/architecture.md#read-patterns) and the
 * HTTP edge, which turns it into `meta` and headers.
 */

export interface ReadOptions {
  /** `strong`: fold the stream (QP-1); `cached`: the read model (QP-2, the default over HTTP). */
  readonly consistency: 'strong' | 'cached';
  /** For a cached read: wait (bounded) until the read model has reached this revision. */
  readonly minRevision: bigint | null;
}

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
}
