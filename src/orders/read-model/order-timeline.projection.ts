import { orderAggregate } from '../order.aggregate.js';
import { ORDER_EVENT_TYPES, type OrderEvent } from '../domain/order.events.js';
import { assertNever } from '../../shared/domain/index.js';
import type { ProjectedEvent, Projection } from '../../read-side/runtime/projection.js';

/** Per order stream: what later entries need to know (the customer is only named by OrderPlaced). */
export interface OrderTimelineStream {
  readonly orderId: string;
  readonly customerId: string;
}

/** One human-readable line of an order's history; entry id = event id. */
export interface OrderTimelineEntry {
  readonly orderId: string;
  readonly customerId: string;
  readonly type: OrderEvent['type'];
  readonly summary: string;
  /** The event's store time, UTC ISO-8601 with ms. Entries are ordered by position, never by this. */
  readonly at: string;
  readonly revision: number;
  readonly actor: string | null;
}

const minorDigits = new Map<string, number>();

/** Amounts are integer minor units; how many of them make a major unit depends on the currency (JPY: 0). */
function money(amount: number, currency: string): string {
  let digits = minorDigits.get(currency);
  if (digits === undefined) {
    try {
      const format = new Intl.NumberFormat('en', { style: 'currency', currency });
      digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    minorDigits.set(currency, digits);
  }
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency}`;
}

export function summarize(event: OrderEvent, currency: string): string {
  switch (event.type) {
    case 'OrderPlaced': {
      const units = event.data.lines.reduce((sum, line) => sum + line.quantity, 0);
      return `Order placed: ${event.data.lines.length} line(s), ${units} unit(s), total ${money(event.data.total, currency)}`;
    }
    case 'OrderPaid':
      return `Paid ${money(event.data.amount, currency)} (payment ${event.data.paymentId})`;
    case 'OrderShipped':
      return `Shipped with ${event.data.carrier}, tracking ${event.data.trackingNumber}`;
    case 'OrderDelivered':
      return 'Delivered';
    case 'OrderCancelled':
      return `Cancelled: ${event.data.reason}`;
    case 'OrderRefunded':
      return `Refunded ${money(event.data.amount, currency)}`;
    case 'PaymentExceptionRecorded': {
      const { amount, paymentId, reason } = event.data;
      return `Payment ${paymentId} of ${money(amount, event.data.currency)} not applied (${reason}): for an operator`;
    }
    case 'PaymentFailed':
      return `Payment ${event.data.paymentId} failed: ${event.data.reason}`;
    case 'RefundSettled':
      return `Refund of ${money(event.data.amount, currency)} settled by the payment provider`;
    default:
      return assertNever(event);
  }
}

/** The currency is needed to print amounts; it is carried on the stream document. */
type StreamDoc = OrderTimelineStream & { readonly currency: string };

export const orderTimelineProjection: Projection<StreamDoc, OrderEvent> = {
  name: 'order_timeline',
  category: orderAggregate.category,
  // Histories, read after the fact, an entry per event: 5 s (docs/consistency.md#freshness-budgets).
  freshnessBudgetMs: 5000,
  eventTypes: ORDER_EVENT_TYPES,
  documents: { name: 'order_timeline_streams', indexes: [] },
  entries: {
    name: 'order_timeline',
    indexes: [
      ['orderId', 'position'],
      ['customerId', 'position'],
    ],
  },
  readEvent: (recorded) => orderAggregate.toDomainEvent(recorded),
  evolve(doc, { event }) {
    if (event.type === 'OrderPlaced') {
      const { orderId, customerId, currency } = event.data;
      return { orderId, customerId, currency };
    }
    if (!doc) throw new Error(`${event.type} before OrderPlaced`);
    return doc;
  },
  entriesFor(doc, projected: ProjectedEvent<OrderEvent>) {
    const { event, created, revision, metadata } = projected;
    const entry: OrderTimelineEntry = {
      orderId: doc.orderId,
      customerId: doc.customerId,
      type: event.type,
      summary: summarize(event, doc.currency),
      at: created.toISOString(),
      revision: Number(revision),
      actor: typeof metadata.actor === 'string' ? metadata.actor : null,
    };
    return [{ data: { ...entry } }];
  },
};
