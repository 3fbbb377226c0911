import { Query } from '@nestjs/cqrs';
import type { AuditEvent } from '../../audit-event.js';
import type { AuditedKind } from '../../audited-aggregates.js';

export interface ReplayFilters {
  /** Only these event types (null: every cart and order event type). Checked against the known types. */
  readonly types: readonly string[] | null;
  /** Only `cart-…` or `order-…` streams. */
  readonly category: AuditedKind | null;
  /** Only this one stream (`cart-<uuid>` or `order-<uuid>`). */
  readonly streamId: string | null;
  /** Only events recorded at or after / at or before these instants. */
  readonly from: Date | null;
  readonly to: Date | null;
  /** Resume: only events strictly after this global position. */
  readonly afterPosition: bigint | null;
  /** At most this many events. */
  readonly limit: number | null;
}

/** Pages of events in global position order; pulled one at a time, so the caller sets the pace. */
export type ReplayPages = AsyncGenerator<AuditEvent[], void, undefined>;

/**
 * A global replay of cart and order events in position order. The answer is a lazy sequence of bounded
 * pages, so a million events never sit in memory: the HTTP layer streams each page as it is pulled.
 */
export class ReplayEventsQuery extends Query<ReplayPages> {
  constructor(readonly filters: ReplayFilters) {
    super();
  }
}
