import { cartAggregate } from '../../carts/cart.aggregate.js';
import { CART_EVENT_TYPES } from '../../carts/domain/cart.events.js';
import type { CartState } from '../../carts/domain/cart.state.js';
import { cartView, type CartView } from '../../carts/read-model/cart.view.js';
import { ORDER_EVENT_TYPES } from '../../orders/domain/order.events.js';
import type { OrderState } from '../../orders/domain/order.state.js';
import { orderAggregate } from '../../orders/order.aggregate.js';
import { orderView, type OrderView } from '../../orders/read-model/order.view.js';
import { UUID_PATTERN } from '../../shared/application/ids.js';
import { idInCategory, type DomainEvent } from '../../shared/domain/index.js';
import type { AggregateType } from '../../write-path/aggregate-type.js';

export type AuditedKind = 'cart' | 'order';

/** A view as the audit endpoints handle it: plain JSON whose `lines` are keyed by sku. */
export interface AuditView {
  readonly lines: readonly { readonly sku: string }[];
}

/**
 * What the audit context needs to know about one aggregate kind: the write side's own AggregateType (same
 * fold, same upcasting, same access policy) and the view a state is shown as (the same as
 * `GET /carts/:id`). Audit has no domain of its own.
 */
export interface AuditedAggregate<State, View extends AuditView> {
  readonly kind: AuditedKind;
  readonly type: AggregateType<State, DomainEvent>;
  readonly eventTypes: readonly string[];
  view(id: string, state: State): View;
}

export const auditedCart: AuditedAggregate<CartState, CartView> = {
  kind: 'cart',
  type: cartAggregate,
  eventTypes: CART_EVENT_TYPES,
  view: cartView,
};

export const auditedOrder: AuditedAggregate<OrderState, OrderView> = {
  kind: 'order',
  type: orderAggregate,
  eventTypes: ORDER_EVENT_TYPES,
  view: orderView,
};

/** Any kind: the methods take `unknown` state (method parameters are bivariant, so both kinds fit). */
export type AnyAuditedAggregate = AuditedAggregate<unknown, AuditView>;

export const AUDITED: Readonly<Record<AuditedKind, AnyAuditedAggregate>> = {
  cart: auditedCart,
  order: auditedOrder,
};

/** Every domain event type (snapshot events are not among them, so a filter by these never shows one). */
export const AUDITED_EVENT_TYPES: readonly string[] = [...CART_EVENT_TYPES, ...ORDER_EVENT_TYPES];

/**
 * `cart-<uuid>` or `order-<uuid>`: the only streams the audit endpoints show. Snapshot streams
 * (`cartsnapshot-…`), system streams and anything else are not found.
 */
export function auditedStream(streamId: string): { kind: AuditedKind; id: string } | null {
  for (const audited of Object.values(AUDITED)) {
    const id = idInCategory(audited.type.category, streamId);
    // Ids are stored lower-case (the id pipes lower-case them): another spelling names no stream.
    if (id !== null)
      return UUID_PATTERN.test(id) && id === id.toLowerCase() ? { kind: audited.kind, id } : null;
  }
  return null;
}
