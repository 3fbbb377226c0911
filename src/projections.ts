import type { AnyProjection } from './read-side/runtime/projection.js';
import { cartsProjection } from './carts/read-model/carts.projection.js';
import { productsProjection } from './catalog/read-model/products.projection.js';
import { orderSearchProjection } from './orders/read-model/order-search.projection.js';
import { orderTimelineProjection } from './orders/read-model/order-timeline.projection.js';
import { ordersProjection } from './orders/read-model/orders.projection.js';

/** Every projection the service runs, by name. */
export const PROJECTIONS: readonly AnyProjection[] = [
  cartsProjection,
  ordersProjection,
  orderSearchProjection,
  orderTimelineProjection,
  productsProjection,
];
