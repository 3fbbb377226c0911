import { initialProductState } from '../domain/product.decider.js';
import type { Prices } from '../domain/product.events.js';
import type { ProductState } from '../domain/product.state.js';

/** A product as its state says: what time travel shows (`GET /catalog/products/:sku/state`) and diffs. */
export interface ProductStateView {
  readonly sku: string;
  readonly name: string;
  readonly status: 'listed' | 'withdrawn';
  readonly prices: Prices;
}

/**
 * What `GET /catalog/products/:sku` and the list answer, whether folded from the stream or read from the
 * `products` read model: the state's view with the instants of the stream's first and last events.
 */
export interface ProductView extends ProductStateView {
  /** When the sku was first listed (its stream's first event was recorded), UTC ISO-8601 with ms. */
  readonly listedAt: string;
  /** When its last event was recorded. */
  readonly updatedAt: string;
}

/** A `products` document: the view plus its search key. */
export interface ProductDocument extends ProductView {
  /** The name in lower case, for case-insensitive prefix search. */
  readonly nameKey: string;
}

/** The view of a product that exists (status other than `none`). */
export function productStateView(sku: string, state: ProductState): ProductStateView {
  if (state.status === 'none') throw new Error(`product ${sku} does not exist`);
  return { sku, name: state.name ?? '', status: state.status, prices: state.prices };
}

/** The view with its instants (given as Dates: the `created` of the stream's first and last events). */
export function productView(sku: string, state: ProductState, listedAt: Date, updatedAt: Date): ProductView {
  return {
    ...productStateView(sku, state),
    listedAt: listedAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

/** What a client sees of a document (the search key is the read model's own business). */
export function productViewOf({ nameKey: _nameKey, ...view }: ProductDocument): ProductView {
  return view;
}

/** The state a document was made from, so that the projection can fold the next event with the domain's evolve. */
export function productStateOf(doc: ProductStateView): ProductState {
  return { ...initialProductState, status: doc.status, sku: doc.sku, name: doc.name, prices: doc.prices };
}
