import { addItem, checkOutAsPriced } from './cart-commands.js';
import fc from 'fast-check';
import type { CartCommand } from '../../src/carts/domain/cart.commands.js';
import { decideCart, evolveCart, initialCartState } from '../../src/carts/domain/cart.decider.js';
import type { CartEvent } from '../../src/carts/domain/cart.events.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';
import type { OrderCommand } from '../../src/orders/domain/order.commands.js';
import { decideOrder, evolveOrder, initialOrderState } from '../../src/orders/domain/order.decider.js';
import type { OrderEvent } from '../../src/orders/domain/order.events.js';
import type { OrderState } from '../../src/orders/domain/order.state.js';
import { DomainError } from '../../src/shared/domain/index.js';

/**
 * Generated histories for property-based tests: fast-check draws a list of steps, each step is read as a
 * command, and only what the pure deciders accept becomes an event — so every history is one the service
 * could really have written, and fast-check can shrink a failing one to a short example.
 */

/** [roll 0..99, pick 0..9, amount 1..9]: which command, which sku/line, how many. */
export type Step = readonly [number, number, number];

export function stepsArb(minLength: number, maxLength: number): fc.Arbitrary<Step[]> {
  return fc.array(fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: 9 }), fc.integer({ min: 1, max: 9 })), {
    minLength,
    maxLength,
  });
}

const SKUS = ['sku-a', 'sku-b', 'sku-c', 'sku-d', 'sku-e', 'sku-f'];

function decideAll<C, S, E>(
  initial: S,
  commands: Iterable<C | null>,
  decide: (command: C, state: S) => E[],
  evolve: (state: S, event: E) => S,
): { events: E[]; states: S[] } {
  const events: E[] = [];
  const states: S[] = [];
  let state = initial;
  for (const command of commands) {
    if (command === null) continue;
    let decided: E[];
    try {
      decided = decide(command, state);
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    for (const event of decided) {
      state = evolve(state, event);
      events.push(event);
      states.push(state);
    }
  }
  return { events, states };
}

/**
 * A cart stream: opened, then items added, changed and removed (a sku removed and added again moves to the
 * end); rarely checked out or abandoned, after which nothing more is accepted. `states[r]` is the state
 * right after the event at revision r.
 */
export function cartHistory(
  steps: readonly Step[],
  { cartId, customerId = 'customer-1' }: { cartId: string; customerId?: string },
): { events: CartEvent[]; states: CartState[] } {
  function* commands(): Generator<CartCommand | null> {
    yield { type: 'OpenCart', data: { cartId, customerId, currency: 'EUR' } };
    for (const [roll, pick, amount] of steps) {
      const skuIndex = pick % SKUS.length;
      const sku = SKUS[skuIndex]!;
      if (roll < 50) {
        const unitPrice = 100 + skuIndex * 7;
        yield addItem(sku, `Item ${sku}`, amount, unitPrice);
      } else if (roll < 72) yield { type: 'ChangeItemQuantity', data: { sku, quantity: amount * 3 } };
      else if (roll < 96) yield { type: 'RemoveItem', data: { sku } };
      else if (roll < 98) yield { type: 'CheckOutCart', data: { orderId: `order-of-${cartId}`, offers: [] } };
      else yield { type: 'AbandonCart', data: { reason: roll === 98 ? null : 'changed mind' } };
    }
  }
  // The catalog never changes here: a checkout is offered the prices its lines hold.
  const decide = (command: CartCommand, state: CartState) =>
    decideCart(
      command.type === 'CheckOutCart' ? checkOutAsPriced(command.data.orderId, state) : command,
      state,
    );
  return decideAll(initialCartState, commands(), decide, evolveCart);
}

/** An order stream: placed, then paid, shipped, delivered or cancelled, with any number of small refunds. */
export function orderHistory(
  steps: readonly Step[],
  { orderId, customerId = 'customer-1' }: { orderId: string; customerId?: string },
): { events: OrderEvent[]; states: OrderState[] } {
  let state: OrderState = initialOrderState;
  function* commands(): Generator<OrderCommand | null> {
    const lines = SKUS.slice(0, 1 + ((steps[0]?.[1] ?? 0) % 3)).map((sku, i) => ({
      sku,
      name: `Item ${sku}`,
      quantity: 1 + i,
      unitPrice: 250 * (i + 1),
    }));
    yield {
      type: 'PlaceOrder',
      data: { orderId, cartId: `cart-of-${orderId}`, customerId, currency: 'EUR', lines },
    };
    for (const [roll, pick, amount] of steps) {
      if (roll < 15)
        yield {
          type: 'RecordPayment',
          data: { paymentId: `pay-${pick}`, amount: state.total, currency: 'EUR' },
        };
      else if (roll < 25) yield { type: 'ShipOrder', data: { carrier: 'DHL', trackingNumber: `T-${pick}` } };
      else if (roll < 32) yield { type: 'DeliverOrder', data: {} };
      else if (roll < 35) yield { type: 'CancelOrder', data: { reason: `reason ${pick}` } };
      else yield { type: 'RefundOrder', data: { amount } };
    }
  }
  // The commands read the state as it is when each one is decided.
  return decideAll(initialOrderState, commands(), decideOrder, (current: OrderState, event: OrderEvent) => {
    state = evolveOrder(current, event);
    return state;
  });
}
