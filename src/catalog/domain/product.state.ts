import type { Prices } from './product.events.js';

export type ProductStatus = 'none' | 'listed' | 'withdrawn';

/** Plain JSON (no Map, no Date, no bigint) so that it can be snapshotted as is. */
export interface ProductState {
  readonly status: ProductStatus;
  readonly sku: string | null;
  readonly name: string | null;
  /** By currency, in code order. A withdrawn product keeps the prices it had. */
  readonly prices: Prices;
}
