import type { AnyProjection } from '../runtime/projection.js';
import { cartsProjection } from './carts/carts.projection.js';
import { orderSearchProjection } from './order-search/order-search.projection.js';
import { orderTimelineProjection } from './order-timeline/order-timeline.projection.js';
import { ordersProjection } from './orders/orders.projection.js';

/** Every projection the service runs, by name. */
export const PROJECTIONS: readonly AnyProjection[] = [
  cartsProjection,
  ordersProjection,
  orderSearchProjection,
  orderTimelineProjection,
];
