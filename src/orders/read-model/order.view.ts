import { initialOrderState, refundDue } from '../domain/order.decider.js';
import type { OrderLine } from '../domain/order.events.js';
import type { OrderState, PaymentException } from '../domain/order.state.js';

/** What `GET /orders/:id` answers, whether folded from the stream or read from the `orders` read model. */
export interface OrderView {
  readonly id: string;
  readonly cartId: string;
  readonly customerId: string;
  readonly currency: string;
  readonly status: 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';
  readonly lines: readonly OrderLine[];
  readonly total: number;
  readonly paid: number;
  readonly refunded: number;
  /** Held and not to be kept (a cancelled order's payment): the refund process gives it back. */
  readonly refundDue: number;
  /** Refunds the payment provider has confirmed. */
  readonly refundsSettled: number;
  readonly paymentId: string | null;
  /** Captures that did not settle the order, for an operator to resolve. */
  readonly paymentExceptions: readonly PaymentException[];
  readonly failedPayments: number;
  readonly shipment: { readonly carrier: string; readonly trackingNumber: string } | null;
  readonly cancellationReason: string | null;
}

/** The view of an order that exists (status other than `none`). */
export function orderView(id: string, state: OrderState): OrderView {
  if (state.status === 'none') throw new Error(`order ${id} does not exist`);
  return {
    id,
    cartId: state.cartId ?? '',
    customerId: state.customerId ?? '',
    currency: state.currency ?? '',
    status: state.status,
    lines: state.lines,
    total: state.total,
    paid: state.paid,
    refunded: state.refunded,
    refundDue: refundDue(state),
    refundsSettled: state.refundsSettled,
    paymentId: state.paymentId,
    paymentExceptions: state.paymentExceptions,
    failedPayments: state.failedPayments,
    shipment: state.shipment,
    cancellationReason: state.cancellationReason,
  };
}

/** The state a view was made from, so that a projection can fold the next event with the domain's evolve. */
export function orderStateOf(view: OrderView): OrderState {
  return {
    ...initialOrderState,
    status: view.status,
    orderId: view.id,
    cartId: view.cartId,
    customerId: view.customerId,
    currency: view.currency,
    lines: view.lines,
    total: view.total,
    paid: view.paid,
    refunded: view.refunded,
    // Documents projected before these fields existed read as none (a rebuild fills them in).
    refundsSettled: view.refundsSettled ?? 0,
    paymentId: view.paymentId,
    paymentExceptions: view.paymentExceptions ?? [],
    failedPayments: view.failedPayments ?? 0,
    shipment: view.shipment,
    cancellationReason: view.cancellationReason,
  };
}
