import { cartAggregate } from '../../carts/cart.aggregate.js';
import { CART_EVENT_TYPES } from '../../carts/domain/cart.events.js';
import type { CartState } from '../../carts/domain/cart.state.js';
import { cartView, type CartView } from '../../carts/read-model/cart.view.js';
import { PRODUCT_EVENT_TYPES } from '../../catalog/domain/product.events.js';
import type { ProductState } from '../../catalog/domain/product.state.js';
import { productAggregate } from '../../catalog/product.aggregate.js';
import { productStateView, type ProductStateView } from '../../catalog/read-model/product.view.js';
import { ORDER_EVENT_TYPES } from '../../orders/domain/order.events.js';
import type { OrderState } from '../../orders/domain/order.state.js';
import { orderAggregate } from '../../orders/order.aggregate.js';
import { orderView, type OrderView } from '../../orders/read-model/order.view.js';
import { UUID_PATTERN } from '../../shared/application/ids.js';
import { idInCategory, SKU_PATTERN, type DomainEvent } from '../../shared/domain/index.js';
import type { AggregateType } from '../../write-path/aggregate-type.js';

export const AUDITED_KINDS = ['cart', 'order', 'product'] as const;
export type AuditedKind = (typeof AUDITED_KINDS)[number];

/**
 * A view as the audit endpoints handle it: a plain JSON object. A cart's or an order's has `lines` keyed by
 * sku (see view-diff.ts); a product's has none.
 */
export type AuditView = object;

/**
 * What the audit context needs to know about one aggregate kind: the write side's own AggregateType (same
 * fold, same upcasting, same access policy), the view a state is shown as (the same as `GET /carts/:id`),
 * and which ids can name one. Audit has no domain of its own.
 */
export interface AuditedAggregate<State, View extends AuditView> {
  readonly kind: AuditedKind;
  readonly type: AggregateType<State, DomainEvent>;
  readonly eventTypes: readonly string[];
  view(id: string, state: State): View;
  /** Whether `id` is an id of this kind as stored (the form the path pipes pass on). */
  isId(id: string): boolean;
}

/** Cart and order ids are UUIDs, stored lower-case (the id pipes lower-case them): another spelling names none. */
const isStoredUuid = (id: string): boolean => UUID_PATTERN.test(id) && id === id.toLowerCase();

export const auditedCart: AuditedAggregate<CartState, CartView> = {
  kind: 'cart',
  type: cartAggregate,
  eventTypes: CART_EVENT_TYPES,
  view: cartView,
  isId: isStoredUuid,
};

export const auditedOrder: AuditedAggregate<OrderState, OrderView> = {
  kind: 'order',
  type: orderAggregate,
  eventTypes: ORDER_EVENT_TYPES,
  view: orderView,
  isId: isStoredUuid,
};

/** Products are named by their sku (case-sensitive). The view is the state's, without the read model's instants. */
export const auditedProduct: AuditedAggregate<ProductState, ProductStateView> = {
  kind: 'product',
  type: productAggregate,
  eventTypes: PRODUCT_EVENT_TYPES,
  view: productStateView,
  isId: (id) => SKU_PATTERN.test(id),
};

/** Any kind: the methods take `unknown` state (method parameters are bivariant, so every kind fits). */
export type AnyAuditedAggregate = AuditedAggregate<unknown, AuditView>;

export const AUDITED: Readonly<Record<AuditedKind, AnyAuditedAggregate>> = {
  cart: auditedCart,
  order: auditedOrder,
  product: auditedProduct,
};

export function isAuditedKind(value: string): value is AuditedKind {
  return (AUDITED_KINDS as readonly string[]).includes(value);
}

/** Every domain event type (snapshot events are not among them, so a filter by these never shows one). */
export const AUDITED_EVENT_TYPES: readonly string[] = AUDITED_KINDS.flatMap(
  (kind) => AUDITED[kind].eventTypes,
);

/**
 * `cart-<uuid>`, `order-<uuid>` or `product-<sku>`: the only streams the audit endpoints show, each id
 * checked by its own kind. Snapshot streams (`cartsnapshot-…`), system streams and anything else are not
 * found.
 */
export function auditedStream(streamId: string): { kind: AuditedKind; id: string } | null {
  for (const audited of Object.values(AUDITED)) {
    const id = idInCategory(audited.type.category, streamId);
    if (id !== null) return audited.isId(id) ? { kind: audited.kind, id } : null;
  }
  return null;
}
