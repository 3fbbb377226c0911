import { Query } from '@nestjs/cqrs';
import type { AuditEvent } from '../../audit-event.js';
import type { AuditedKind } from '../../audited-aggregates.js';

export interface ReplayFilters {
  /** Only these event types (null: every audited event type). Checked against the known types. */
  readonly types: readonly string[] | null;
  /** Only the streams of one kind (`cart-…`, `order-…` or `product-…`). */
  readonly category: AuditedKind | null;
  /** Only this one stream (`cart-<uuid>`, `order-<uuid>` or `product-<sku>`). */
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
 * A global replay of cart, order and product events in position order. The answer is a lazy sequence of bounded
 * pages, so a million events never sit in memory: the HTTP layer streams each page as it is pulled.
 */
export class ReplayEventsQuery extends Query<ReplayPages> {
  constructor(readonly filters: ReplayFilters) {
    super();
  }
}
