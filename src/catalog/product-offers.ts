/**
 * What the catalog offers for one sku in one currency, at the moment it is asked: the name and the unit price
 * a cart records, or why it cannot be sold. Carts ask through this port (bound by the catalog module), never
 * from the client's request: the shop sets the prices.
 */
export type ProductOffer =
  | { readonly sku: string; readonly available: true; readonly name: string; readonly unitPrice: number }
  | {
      readonly sku: string;
      readonly available: false;
      readonly reason: 'not-listed' | 'withdrawn' | 'not-priced';
    };

/** Port: the catalog's current offers (strongly consistent: read from the event store, never a read model). */
export abstract class ProductOffers {
  /** The offer for `sku` in `currency` (an ISO 4217 code) right now. */
  abstract offer(sku: string, currency: string): Promise<ProductOffer>;
}
