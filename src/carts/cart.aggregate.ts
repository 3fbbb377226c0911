import { CUSTOMER_DATA } from '../shared/application/access-policy.js';
import type { AggregateType } from '../write-path/aggregate-type.js';
import { eventReader } from '../write-path/upcasting.js';
import { evolveCart, initialCartState } from './domain/cart.decider.js';
import { CART_EVENT_SCHEMA_VERSION, CART_EVENT_TYPES, type CartEvent } from './domain/cart.events.js';
import type { CartState } from './domain/cart.state.js';

/**
 * Streams `cart-<uuid>`, snapshots in `cartsnapshot-<uuid>`. A cart is its shopper's: only they change it;
 * operators and auditors may look at any.
 */
export const cartAggregate: AggregateType<CartState, CartEvent> = {
  category: 'cart',
  initialState: initialCartState,
  evolve: evolveCart,
  stateSchemaVersion: 1,
  toDomainEvent: eventReader<CartEvent>(CART_EVENT_TYPES, CART_EVENT_SCHEMA_VERSION),
  exists: (state) => state.status !== 'none',
  ownerOf: (state) => state.customerId,
  access: CUSTOMER_DATA,
};
