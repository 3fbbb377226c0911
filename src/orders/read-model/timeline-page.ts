import { orderTimelineProjection, type OrderTimelineEntry } from './order-timeline.projection.js';
import type { ReadStore } from '../../read-side/read-store.port.js';
import type { LiveGenerations } from '../../read-side/runtime/live-generations.js';
import type { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../shared/application/cursor.js';

export interface TimelineItem extends OrderTimelineEntry {
  /** The event the entry restates. */
  readonly eventId: string;
  readonly position: number;
}

export interface TimelinePage {
  readonly items: readonly TimelineItem[];
  readonly nextCursor: string | null;
  /** Milliseconds the read model trails the event store (its lag in time; docs/consistency.md#staleness). */
  readonly staleness: number;
}

/**
 * A page of `order_timeline` entries of one order or one customer, in global position order, with the read
 * model's staleness (measured first: past `maxStaleMs` the page is refused, see ReadModelReader.listStaleness).
 */
export async function timelinePage(
  reader: ReadModelReader,
  generations: LiveGenerations,
  store: ReadStore,
  by: { readonly orderId: string } | { readonly customerId: string },
  page: { readonly limit: number; readonly cursor: string | null; readonly maxStaleMs: number | null },
): Promise<TimelinePage> {
  const { limit, cursor } = page;
  const staleness = await reader.listStaleness(orderTimelineProjection, page.maxStaleMs);
  const [field, value] = 'orderId' in by ? ['orderId', by.orderId] : ['customerId', by.customerId];
  const where = { [field]: { eq: value } };
  const orderBy = { field: 'position', direction: 'asc' } as const;
  const fingerprint = queryFingerprint({ where, orderBy });
  const docs = await store.find(await generations.collection(orderTimelineProjection, 'entries'), {
    where,
    orderBy,
    limit: limit + 1,
    ...(cursor !== null && { after: decodeCursor(cursor, fingerprint) }),
  });
  const items = docs.slice(0, limit).map((doc): TimelineItem => ({
    eventId: doc.id,
    position: Number(doc.position),
    ...(doc.data as unknown as OrderTimelineEntry),
  }));
  const last = items[items.length - 1];
  const nextCursor =
    docs.length > limit && last
      ? encodeCursor({ value: last.position, id: last.eventId }, fingerprint)
      : null;
  return { items, nextCursor, staleness };
}
