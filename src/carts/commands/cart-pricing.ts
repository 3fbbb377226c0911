import { Injectable } from '@nestjs/common';
import { ProductOffers } from '../../catalog/product-offers.js';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { cartAggregate } from '../cart.aggregate.js';
import type { CatalogOffer } from '../domain/cart.commands.js';

/**
 * Asks the catalog what it offers for a cart's skus in the cart's currency, right now: what a cart command
 * records (AddItem) or checks its lines against (RepriceCart, CheckOutCart).
 */
@Injectable()
export class CartPricing {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly offers: ProductOffers,
  ) {}

  /** The offer for one sku. A cart that does not exist has no currency: the command will answer 404. */
  async offerFor(cartId: string, sku: string): Promise<CatalogOffer> {
    // The currency never changes once the cart is open, so a cached cart says it as well as the store.
    const { state } = await this.aggregates.load(cartAggregate, cartId);
    if (state.currency === null) return { sku, available: false, reason: 'no-cart' };
    return this.offers.offer(sku, state.currency);
  }

  /** The offers for every line of the cart as it is now (read from the store, not a cache). */
  async offersForLines(cartId: string): Promise<CatalogOffer[]> {
    const { state } = await this.aggregates.loadConsistent(cartAggregate, cartId);
    const currency = state.currency;
    if (currency === null) return [];
    return Promise.all(state.lines.map(({ sku }) => this.offers.offer(sku, currency)));
  }
}
