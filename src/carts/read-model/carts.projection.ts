import { idInCategory } from '../../shared/domain/index.js';
import { cartAggregate } from '../cart.aggregate.js';
import { cartStateOf, cartView, type CartView } from './cart.view.js';
import { evolveCart, initialCartState } from '../domain/cart.decider.js';
import { CART_EVENT_TYPES, type CartEvent } from '../domain/cart.events.js';
import type { Projection } from '../../read-side/runtime/projection.js';

/**
 * `carts`: the current view of every cart, the same shape `GET /carts/:id?consistency=strong` folds from
 * the stream — both fold with the domain's own `evolveCart`, so the two reads can never disagree.
 */
export const cartsProjection: Projection<CartView, CartEvent> = {
  name: 'carts',
  category: cartAggregate.category,
  // What a shopper reads right after changing the cart: 1 s (docs/consistency.md#freshness-budgets).
  freshnessBudgetMs: 1000,
  eventTypes: CART_EVENT_TYPES,
  documents: { name: 'carts', indexes: [['customerId']] },
  readEvent: (recorded) => cartAggregate.toDomainEvent(recorded),
  evolve(doc, { event, streamId }) {
    const id = idInCategory(cartAggregate.category, streamId) ?? streamId;
    return cartView(id, evolveCart(doc ? cartStateOf(doc) : initialCartState, event));
  },
};
