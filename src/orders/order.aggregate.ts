import { CUSTOMER_DATA, type AccessPolicy } from '../shared/application/access-policy.js';
import type { AggregateType } from '../write-path/aggregate-type.js';
import { eventReader } from '../write-path/upcasting.js';
import { evolveOrder, initialOrderState } from './domain/order.decider.js';
import { ORDER_EVENT_SCHEMA_VERSION, ORDER_EVENT_TYPES, type OrderEvent } from './domain/order.events.js';
import type { OrderState } from './domain/order.state.js';

/**
 * Its customer and operators act on an order (which of them may send which command is the routes' roles), and
 * so do the system's processes: the payment provider's webhook and the refund process.
 */
const ORDER_ACCESS: AccessPolicy = { ...CUSTOMER_DATA, changedBy: ['operator', 'system'] };

/** Streams `order-<uuid>`, snapshots in `ordersnapshot-<uuid>`. */
export const orderAggregate: AggregateType<OrderState, OrderEvent> = {
  category: 'order',
  initialState: initialOrderState,
  evolve: evolveOrder,
  stateSchemaVersion: 2,
  toDomainEvent: eventReader<OrderEvent>(ORDER_EVENT_TYPES, ORDER_EVENT_SCHEMA_VERSION),
  exists: (state) => state.status !== 'none',
  ownerOf: (state) => state.customerId,
  access: ORDER_ACCESS,
};
