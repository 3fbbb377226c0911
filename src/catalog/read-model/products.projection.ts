import type { Projection } from '../../read-side/runtime/projection.js';
import { idInCategory } from '../../shared/domain/index.js';
import { evolveProduct, initialProductState } from '../domain/product.decider.js';
import { PRODUCT_EVENT_TYPES, type ProductEvent } from '../domain/product.events.js';
import { productAggregate } from '../product.aggregate.js';
import { productStateOf, productView, type ProductDocument } from './product.view.js';

/**
 * `products`: the current view of every product, folded with the domain's own `evolveProduct` (so the
 * cached and the strong read can never disagree), with a lower-cased name for prefix search. Listed by sku
 * (ranges on `sku` give sku prefixes), optionally by status, or by name prefix (a range on `nameKey`).
 */
export const productsProjection: Projection<ProductDocument, ProductEvent> = {
  name: 'products',
  category: productAggregate.category,
  // A price an operator just changed, as shoppers see it: 1 s (docs/consistency.md#freshness-budgets).
  freshnessBudgetMs: 1000,
  eventTypes: PRODUCT_EVENT_TYPES,
  documents: {
    name: 'products',
    // Equality fields first, then the sort field (sku); the adapters add the id tie-break.
    indexes: [['sku'], ['status', 'sku'], ['nameKey', 'sku'], ['status', 'nameKey', 'sku']],
  },
  readEvent: (recorded) => productAggregate.toDomainEvent(recorded),
  evolve(doc, { event, streamId, created }) {
    const sku = idInCategory(productAggregate.category, streamId) ?? streamId;
    const state = evolveProduct(doc ? productStateOf(doc) : initialProductState, event);
    const view = productView(sku, state, doc ? new Date(doc.listedAt) : created, created);
    return { ...view, nameKey: view.name.toLowerCase() };
  },
};
