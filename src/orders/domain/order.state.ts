import type { OrderLine, PaymentExceptionReason } from './order.events.js';

export type OrderStatus = 'none' | 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';

export interface PaymentException {
  readonly paymentId: string;
  readonly amount: number;
  readonly currency: string;
  readonly reason: PaymentExceptionReason;
}

/** Plain JSON so that it can be snapshotted as is. */
export interface OrderState {
  readonly status: OrderStatus;
  readonly orderId: string | null;
  readonly cartId: string | null;
  readonly customerId: string | null;
  readonly currency: string | null;
  readonly lines: readonly OrderLine[];
  readonly total: number;
  /** Money captured for the order, in its currency (0 until paid; more than the total only by mistake). */
  readonly paid: number;
  /** Sum of all refunds so far; never more than `paid`. */
  readonly refunded: number;
  /** Refunds the payment provider has confirmed. */
  readonly refundsSettled: number;
  readonly paymentId: string | null;
  /** Captures that did not settle the order, for an operator to resolve. */
  readonly paymentExceptions: readonly PaymentException[];
  /** Payment attempts the provider reported failed. */
  readonly failedPayments: number;
  readonly shipment: { readonly carrier: string; readonly trackingNumber: string } | null;
  readonly cancellationReason: string | null;
}
