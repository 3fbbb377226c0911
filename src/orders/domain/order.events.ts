import type { DomainEvent } from '../../shared/domain/index.js';

export const ORDER_EVENT_SCHEMA_VERSION = 1;

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPrice: number;
  /** quantity × unitPrice, integer minor units. */
  readonly lineTotal: number;
}

/** Why a payment the provider captured did not settle the order. */
export type PaymentExceptionReason =
  | 'amount-mismatch'
  | 'currency-mismatch'
  | 'already-paid'
  /** A refund the provider reports settled that the shop never made (or more than it made). */
  | 'refund-not-made';

export type OrderPlaced = DomainEvent<
  'OrderPlaced',
  { orderId: string; cartId: string; customerId: string; lines: OrderLine[]; total: number; currency: string }
>;
/**
 * Money was captured for the order. It settles a placed order; on a cancelled one it is recorded all the
 * same (the money exists) and the refund process gives it back.
 */
export type OrderPaid = DomainEvent<'OrderPaid', { paymentId: string; amount: number }>;
export type OrderShipped = DomainEvent<'OrderShipped', { carrier: string; trackingNumber: string }>;
export type OrderDelivered = DomainEvent<'OrderDelivered', Record<string, never>>;
export type OrderCancelled = DomainEvent<'OrderCancelled', { reason: string }>;
/** The shop refunded this much (an operator, or the refund process after a cancellation). */
export type OrderRefunded = DomainEvent<'OrderRefunded', { amount: number }>;
/** The provider captured a payment that does not settle the order: kept for an operator, never dropped. */
export type PaymentExceptionRecorded = DomainEvent<
  'PaymentExceptionRecorded',
  { paymentId: string; amount: number; currency: string; reason: PaymentExceptionReason }
>;
/** The provider reports that a payment attempt failed (the order stays as it was). */
export type PaymentFailed = DomainEvent<'PaymentFailed', { paymentId: string; reason: string }>;
/** The provider reports that a refund reached the customer. */
export type RefundSettled = DomainEvent<'RefundSettled', { paymentId: string; amount: number }>;

export type OrderEvent =
  | OrderPlaced
  | OrderPaid
  | OrderShipped
  | OrderDelivered
  | OrderCancelled
  | OrderRefunded
  | PaymentExceptionRecorded
  | PaymentFailed
  | RefundSettled;

export const ORDER_EVENT_TYPES: readonly OrderEvent['type'][] = [
  'OrderPlaced',
  'OrderPaid',
  'OrderShipped',
  'OrderDelivered',
  'OrderCancelled',
  'OrderRefunded',
  'PaymentExceptionRecorded',
  'PaymentFailed',
  'RefundSettled',
];
