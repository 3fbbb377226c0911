import { orderTimelineProjection, type OrderTimelineEntry } from './order-timeline.projection.js';
import type { ReadStore } from '../../read-side/read-store.port.js';
import type { LiveGenerations } from '../../read-side/runtime/live-generations.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../shared/application/cursor.js';

export interface TimelineItem extends OrderTimelineEntry {
  /** The event the entry restates. */
  readonly eventId: string;
  readonly position: number;
}

export interface TimelinePage {
  readonly items: readonly TimelineItem[];
  readonly nextCursor: string | null;
}

/** A page of `order_timeline` entries of one order or one customer, in global position order. */
export async function timelinePage(
  generations: LiveGenerations,
  store: ReadStore,
  by: { readonly orderId: string } | { readonly customerId: string },
  limit: number,
  cursor: string | null,
): Promise<TimelinePage> {
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
  return { items, nextCursor };
}
