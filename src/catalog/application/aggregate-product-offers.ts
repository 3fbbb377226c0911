import { Injectable } from '@nestjs/common';
import { SKU_PATTERN } from '../../shared/domain/index.js';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { productAggregate } from '../product.aggregate.js';
import { ProductOffers, type ProductOffer } from '../product-offers.js';

/**
 * The catalog's offers folded from each product's stream (QP-1: strongly consistent, whoever wrote last; the
 * aggregate cache answers when it is provably current, so a hot sku costs one revision lookup).
 */
@Injectable()
export class AggregateProductOffers extends ProductOffers {
  constructor(private readonly aggregates: AggregateStore) {
    super();
  }

  async offer(sku: string, currency: string): Promise<ProductOffer> {
    // A malformed sku names no stream: never let it reach the store.
    if (!SKU_PATTERN.test(sku)) return { sku, available: false, reason: 'not-listed' };
    const { state } = await this.aggregates.loadConsistent(productAggregate, sku);
    if (state.status === 'none') return { sku, available: false, reason: 'not-listed' };
    if (state.status === 'withdrawn') return { sku, available: false, reason: 'withdrawn' };
    const unitPrice = Object.hasOwn(state.prices, currency) ? state.prices[currency] : undefined;
    if (unitPrice === undefined || state.name === null) {
      return { sku, available: false, reason: 'not-priced' };
    }
    return { sku, available: true, name: state.name, unitPrice };
  }
}
