import type { DomainEvent } from '../../shared/domain/index.js';

/** Schema version of every product event type below; bump a type's version only together with an upcaster. */
export const PRODUCT_EVENT_SCHEMA_VERSION = 1;

/** Unit prices by ISO 4217 currency code, in integer minor units (cents) of that currency. */
export type Prices = Readonly<Record<string, number>>;

/** Prices to set by currency; `null` removes that currency's price. */
export type PriceChanges = Readonly<Record<string, number | null>>;

/** The sku is offered under this name at these prices (again, after a withdrawal: both are replaced). */
export type ProductListed = DomainEvent<'ProductListed', { sku: string; name: string; prices: Prices }>;
/** Only the currencies whose price changed: a new amount, or `null` for a price removed. */
export type ProductPriceChanged = DomainEvent<'ProductPriceChanged', { sku: string; prices: PriceChanges }>;
/** No longer offered; it may be listed again later. */
export type ProductWithdrawn = DomainEvent<'ProductWithdrawn', { sku: string; reason: string | null }>;

export type ProductEvent = ProductListed | ProductPriceChanged | ProductWithdrawn;

export const PRODUCT_EVENT_TYPES: readonly ProductEvent['type'][] = [
  'ProductListed',
  'ProductPriceChanged',
  'ProductWithdrawn',
];
