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

export type OrderPlaced = DomainEvent<
  'OrderPlaced',
  { orderId: string; cartId: string; customerId: string; lines: OrderLine[]; total: number; currency: string }
>;
export type OrderPaid = DomainEvent<'OrderPaid', { paymentId: string; amount: number }>;
export type OrderShipped = DomainEvent<'OrderShipped', { carrier: string; trackingNumber: string }>;
export type OrderDelivered = DomainEvent<'OrderDelivered', Record<string, never>>;
export type OrderCancelled = DomainEvent<'OrderCancelled', { reason: string }>;
export type OrderRefunded = DomainEvent<'OrderRefunded', { amount: number }>;

export type OrderEvent =
  OrderPlaced | OrderPaid | OrderShipped | OrderDelivered | OrderCancelled | OrderRefunded;

export const ORDER_EVENT_TYPES: readonly OrderEvent['type'][] = [
  'OrderPlaced',
  'OrderPaid',
  'OrderShipped',
  'OrderDelivered',
  'OrderCancelled',
  'OrderRefunded',
];
