import { orderAggregate } from '../order.aggregate.js';
import { ORDER_EVENT_TYPES, type OrderEvent } from '../domain/order.events.js';
import { assertNever } from '../../shared/domain/index.js';
import type { Projection } from '../../read-side/runtime/projection.js';

/** One row per order, shaped for `GET /orders` filters and sorts. Instants are UTC ISO-8601 with ms. */
export interface OrderSearchRow {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';
  readonly currency: string;
  readonly total: number;
  /** Distinct skus of the order's lines. */
  readonly skus: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The fields `GET /orders` may filter and sort on; every one is indexed. */
export const ORDER_SEARCH_SORT_FIELDS = ['createdAt', 'updatedAt', 'total'] as const;

export const orderSearchProjection: Projection<OrderSearchRow, OrderEvent> = {
  name: 'order_search',
  category: orderAggregate.category,
  eventTypes: ORDER_EVENT_TYPES,
  documents: {
    name: 'order_search',
    // Equality fields first, then the sort field; the adapters add the id tie-break.
    indexes: [
      ['createdAt'],
      ['updatedAt'],
      ['total'],
      ['customerId', 'createdAt'],
      ['customerId', 'updatedAt'],
      ['customerId', 'total'],
      ['status', 'createdAt'],
      ['customerId', 'status', 'createdAt'],
    ],
    multiValued: ['skus'],
  },
  readEvent: (recorded) => orderAggregate.toDomainEvent(recorded),
  evolve(doc, { event, created }) {
    const at = created.toISOString();
    if (event.type === 'OrderPlaced') {
      const { orderId, customerId, currency, total, lines } = event.data;
      return {
        orderId,
        customerId,
        status: 'placed',
        currency,
        total,
        skus: [...new Set(lines.map((line) => line.sku))],
        createdAt: at,
        updatedAt: at,
      };
    }
    if (!doc) throw new Error(`${event.type} before OrderPlaced`);
    switch (event.type) {
      case 'OrderPaid':
        return { ...doc, status: 'paid', updatedAt: at };
      case 'OrderShipped':
        return { ...doc, status: 'shipped', updatedAt: at };
      case 'OrderDelivered':
        return { ...doc, status: 'delivered', updatedAt: at };
      case 'OrderCancelled':
        return { ...doc, status: 'cancelled', updatedAt: at };
      case 'OrderRefunded':
        return { ...doc, updatedAt: at };
      default:
        return assertNever(event);
    }
  },
};
