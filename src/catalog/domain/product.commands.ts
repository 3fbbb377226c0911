import type { PriceChanges, Prices } from './product.events.js';

/** Currencies one product may be priced in. */
export const MAX_PRODUCT_PRICES = 50;
/** A withdrawal's reason: 1 to this many characters, not blank. */
export const MAX_WITHDRAWAL_REASON_LENGTH = 500;

/** Lists a sku that is not listed (never was, or was withdrawn). */
export type ListProduct = { type: 'ListProduct'; data: { sku: string; name: string; prices: Prices } };
/** Sets (or, with `null`, removes) the price of each currency given; the others stay as they are. */
export type ChangeProductPrices = { type: 'ChangeProductPrices'; data: { prices: PriceChanges } };
export type WithdrawProduct = { type: 'WithdrawProduct'; data: { reason: string | null } };

export type ProductCommand = ListProduct | ChangeProductPrices | WithdrawProduct;
