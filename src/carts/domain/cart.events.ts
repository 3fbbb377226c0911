import type { DomainEvent } from '../../shared/domain/index.js';

/** Schema version of every cart event type below; bump a type's version only together with an upcaster. */
export const CART_EVENT_SCHEMA_VERSION = 1;

export type CartOpened = DomainEvent<'CartOpened', { cartId: string; customerId: string; currency: string }>;
/** Adds `quantity` units of `sku`; if the sku is already in the cart its line grows by that quantity. */
export type ItemAdded = DomainEvent<
  'ItemAdded',
  { sku: string; name: string; quantity: number; unitPrice: number }
>;
/** Sets the line's quantity to the new absolute value. */
export type ItemQuantityChanged = DomainEvent<'ItemQuantityChanged', { sku: string; quantity: number }>;
export type ItemRemoved = DomainEvent<'ItemRemoved', { sku: string }>;
/** The shopper took the catalog's new unit price for a line (the line keeps its quantity). */
export type ItemRepriced = DomainEvent<'ItemRepriced', { sku: string; unitPrice: number }>;
/** The order id is chosen at checkout, so placing the order can be retried without creating a second one. */
export type CartCheckedOut = DomainEvent<'CartCheckedOut', { orderId: string }>;
export type CartAbandoned = DomainEvent<'CartAbandoned', { reason: string | null }>;

export type CartEvent =
  CartOpened | ItemAdded | ItemQuantityChanged | ItemRemoved | ItemRepriced | CartCheckedOut | CartAbandoned;

export const CART_EVENT_TYPES: readonly CartEvent['type'][] = [
  'CartOpened',
  'ItemAdded',
  'ItemQuantityChanged',
  'ItemRemoved',
  'ItemRepriced',
  'CartCheckedOut',
  'CartAbandoned',
];
