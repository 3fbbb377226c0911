import { idInCategory } from '../../shared/domain/index.js';
import { orderAggregate } from '../order.aggregate.js';
import { orderStateOf, orderView, type OrderView } from './order.view.js';
import { evolveOrder, initialOrderState } from '../domain/order.decider.js';
import { ORDER_EVENT_TYPES, type OrderEvent } from '../domain/order.events.js';
import type { Projection } from '../../read-side/runtime/projection.js';

/**
 * `orders`: the current view of every order, the same shape `GET /orders/:id?consistency=strong` folds
 * from the stream (both with the domain's `evolveOrder`).
 */
export const ordersProjection: Projection<OrderView, OrderEvent> = {
  name: 'orders',
  category: orderAggregate.category,
  // What a shopper reads right after checkout or payment: 1 s (docs/consistency.md#freshness-budgets).
  freshnessBudgetMs: 1000,
  eventTypes: ORDER_EVENT_TYPES,
  documents: { name: 'orders', indexes: [['customerId']] },
  readEvent: (recorded) => orderAggregate.toDomainEvent(recorded),
  evolve(doc, { event, streamId }) {
    const id = idInCategory(orderAggregate.category, streamId) ?? streamId;
    return orderView(id, evolveOrder(doc ? orderStateOf(doc) : initialOrderState, event));
  },
};
