import { orderAggregate } from '../order.aggregate.js';
import { ORDER_EVENT_TYPES, type OrderEvent } from '../domain/order.events.js';
import { assertNever } from '../../shared/domain/index.js';
import { initialOrderState, refundDue } from '../domain/order.decider.js';
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
  readonly paid: number;
  readonly refunded: number;
  /** `due`: money held that the order may not keep (the refund process owes it); `done`: refunded, none due. */
  readonly refund: RefundState;
  /** A capture that did not settle the order waits for an operator. */
  readonly paymentException: boolean;
}

export const REFUND_STATES = ['none', 'due', 'done'] as const;
export type RefundState = (typeof REFUND_STATES)[number];

function withMoney(row: Omit<OrderSearchRow, 'refund'>): OrderSearchRow {
  const due = refundDue({ ...initialOrderState, ...row });
  return { ...row, refund: due > 0 ? 'due' : row.refunded > 0 ? 'done' : 'none' };
}

/** The fields `GET /orders` may filter and sort on; every one is indexed. */
export const ORDER_SEARCH_SORT_FIELDS = ['createdAt', 'updatedAt', 'total'] as const;

export const orderSearchProjection: Projection<OrderSearchRow, OrderEvent> = {
  name: 'order_search',
  category: orderAggregate.category,
  // Searched and browsed, ten indexes per write: 5 s (docs/consistency.md#freshness-budgets).
  freshnessBudgetMs: 5000,
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
      ['refund', 'createdAt'],
      ['paymentException', 'createdAt'],
    ],
    multiValued: ['skus'],
  },
  readEvent: (recorded) => orderAggregate.toDomainEvent(recorded),
  evolve(doc, { event, created }) {
    const at = created.toISOString();
    if (event.type === 'OrderPlaced') {
      const { orderId, customerId, currency, total, lines } = event.data;
      return withMoney({
        orderId,
        customerId,
        status: 'placed',
        currency,
        total,
        skus: [...new Set(lines.map((line) => line.sku))],
        createdAt: at,
        updatedAt: at,
        paid: 0,
        refunded: 0,
        paymentException: false,
      });
    }
    if (!doc) throw new Error(`${event.type} before OrderPlaced`);
    // Rows projected before the money fields existed read as none (a rebuild fills them in).
    const row = {
      ...doc,
      paid: doc.paid ?? 0,
      refunded: doc.refunded ?? 0,
      paymentException: doc.paymentException ?? false,
      updatedAt: at,
    };
    switch (event.type) {
      case 'OrderPaid':
        return withMoney({
          ...row,
          status: row.status === 'placed' ? 'paid' : row.status,
          paid: row.paid + event.data.amount,
        });
      case 'OrderShipped':
        return withMoney({ ...row, status: 'shipped' });
      case 'OrderDelivered':
        return withMoney({ ...row, status: 'delivered' });
      case 'OrderCancelled':
        return withMoney({ ...row, status: 'cancelled' });
      case 'OrderRefunded':
        return withMoney({ ...row, refunded: row.refunded + event.data.amount });
      case 'PaymentExceptionRecorded':
        return withMoney({ ...row, paymentException: true });
      case 'PaymentFailed':
      case 'RefundSettled':
        return withMoney(row);
      default:
        return assertNever(event);
    }
  },
};
