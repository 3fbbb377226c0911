import type { OrderLine } from './order.events.js';

export type OrderStatus = 'none' | 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';

/** Plain JSON so that it can be snapshotted as is. */
export interface OrderState {
  readonly status: OrderStatus;
  readonly orderId: string | null;
  readonly cartId: string | null;
  readonly customerId: string | null;
  readonly currency: string | null;
  readonly lines: readonly OrderLine[];
  readonly total: number;
  /** Amount captured by the payment (0 until paid). */
  readonly paid: number;
  /** Sum of all refunds so far; never more than `paid`. */
  readonly refunded: number;
  readonly paymentId: string | null;
  readonly shipment: { readonly carrier: string; readonly trackingNumber: string } | null;
  readonly cancellationReason: string | null;
}
