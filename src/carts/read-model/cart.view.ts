import { cartTotal, initialCartState } from '../domain/cart.decider.js';
import type { CartState } from '../domain/cart.state.js';

export interface CartLineView {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly lineTotal: number;
}

/** What `GET /carts/:id` answers, whether folded from the stream or read from the `carts` read model. */
export interface CartView {
  readonly id: string;
  readonly customerId: string;
  readonly currency: string;
  readonly status: 'open' | 'checked-out' | 'abandoned';
  readonly lines: readonly CartLineView[];
  readonly total: number;
  readonly orderId: string | null;
}

/** The view of a cart that exists (status other than `none`). */
export function cartView(id: string, state: CartState): CartView {
  if (state.status === 'none') throw new Error(`cart ${id} does not exist`);
  return {
    id,
    customerId: state.customerId ?? '',
    currency: state.currency ?? '',
    status: state.status,
    lines: state.lines.map(({ sku, name, quantity, unitPrice }) => ({
      sku,
      name,
      quantity,
      unitPrice,
      lineTotal: quantity * unitPrice,
    })),
    total: cartTotal(state),
    orderId: state.orderId,
  };
}

/** The state a view was made from, so that a projection can fold the next event with the domain's evolve. */
export function cartStateOf(view: CartView): CartState {
  return {
    ...initialCartState,
    status: view.status,
    cartId: view.id,
    customerId: view.customerId,
    currency: view.currency,
    lines: view.lines.map(({ sku, name, quantity, unitPrice }) => ({ sku, name, quantity, unitPrice })),
    orderId: view.orderId,
  };
}
