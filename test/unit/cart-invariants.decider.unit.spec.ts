import type { CartCommand } from '../../src/carts/domain/cart.commands.js';
import { cartDecider, cartTotal } from '../../src/carts/domain/cart.decider.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';
import { orderDecider } from '../../src/orders/domain/order.decider.js';
import { DomainError, MAX_MINOR_UNITS } from '../../src/shared/domain/index.js';
import { addItem, offersAsInCart } from '../support/cart-commands.js';
import { seeded } from '../support/random.js';

/**
 * Property-based check without a library (fast-check is not a dependency): seeded pseudo-random sequences of
 * cart commands, valid and invalid, run through decide + evolve. After every step the state must keep every
 * invariant and agree with an independent model; every refusal must be a DomainError that leaves the state as
 * it was. A failure names its seed and step, so it can be replayed.
 */

const random = seeded;

const SKUS = 130;
const SEEDS = 300;
const STEPS = 400;

function generator(next: () => number) {
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(choices: readonly T[]): T => choices[int(0, choices.length - 1)]!;
  // Each run has its own profile, so that some carts fill up to 100 lines and others churn.
  const addShare = 0.5 + next() * 0.4;
  const hugePrices = next() < 0.3;
  const closeShare = next() < 0.5 ? 0.005 : 0.2;
  /** Each sku has one usual price per run, so re-adds mostly match; in some runs a few prices are huge. */
  const prices = Array.from({ length: SKUS }, () =>
    hugePrices && next() < 0.05 ? int(1, MAX_MINOR_UNITS) : int(0, 10_000),
  );
  const skuIndex = (): number => int(0, SKUS - 1);
  const quantity = (): number =>
    next() < 0.85 ? (next() < 0.7 ? int(1, 20) : int(900, 999)) : pick([0, 1000, 1.5, -1]);

  /** The catalog's offers for the cart's lines: mostly its own prices, sometimes one moved or withdrawn. */
  const catalog = (state: CartState) =>
    offersAsInCart(state).map((offer) => {
      const roll = next();
      if (roll < 0.03) return { sku: offer.sku, available: false as const, reason: 'withdrawn' };
      if (roll < 0.1 && offer.available) return { ...offer, unitPrice: int(0, 10_000) };
      return offer;
    });

  return (state: CartState): CartCommand => {
    const roll = next();
    if (roll < addShare) {
      const i = skuIndex();
      const sku = next() < 0.02 ? 'not a sku' : `sku-${i}`;
      const unitPrice =
        next() < 0.95 ? prices[i]! : pick([prices[i]! + 1, -1, 0.5, MAX_MINOR_UNITS + 1, MAX_MINOR_UNITS]);
      const name = next() < 0.02 ? ' ' : `Item ${i}`;
      if (next() < 0.02) {
        return {
          type: 'AddItem',
          data: { sku, quantity: quantity(), offer: { sku, available: false, reason: 'withdrawn' } },
        };
      }
      return addItem(sku, name, quantity(), unitPrice);
    }
    const rest = (roll - addShare) / (1 - addShare);
    if (rest < closeShare * 0.7) {
      return { type: 'CheckOutCart', data: { orderId: `order-${int(1, 9)}`, offers: catalog(state) } };
    }
    if (rest < closeShare * 0.7 + 0.05) return { type: 'RepriceCart', data: { offers: catalog(state) } };
    if (rest < closeShare) return { type: 'AbandonCart', data: { reason: next() < 0.5 ? null : 'gone' } };
    if (rest < closeShare + 0.03) {
      return { type: 'OpenCart', data: { cartId: 'cart-1', customerId: 'c-1', currency: 'EUR' } };
    }
    if (rest < 0.7)
      return { type: 'ChangeItemQuantity', data: { sku: `sku-${skuIndex()}`, quantity: quantity() } };
    return { type: 'RemoveItem', data: { sku: `sku-${skuIndex()}` } };
  };
}

type Model = Map<string, { quantity: number; unitPrice: number }>;

/** The expected effect of an accepted command, written independently of `evolve`. */
function applyToModel(model: Model, command: CartCommand): void {
  switch (command.type) {
    case 'AddItem': {
      const { sku, quantity, offer } = command.data;
      const line = model.get(sku);
      if (!offer.available) throw new Error('an unavailable product was added');
      model.set(sku, { quantity: (line?.quantity ?? 0) + quantity, unitPrice: offer.unitPrice });
      return;
    }
    case 'RepriceCart':
      for (const offer of command.data.offers) {
        const line = model.get(offer.sku);
        if (line && offer.available) model.set(offer.sku, { ...line, unitPrice: offer.unitPrice });
      }
      return;
    case 'ChangeItemQuantity':
      model.set(command.data.sku, { ...model.get(command.data.sku)!, quantity: command.data.quantity });
      return;
    case 'RemoveItem':
      model.delete(command.data.sku);
      return;
    default:
      return;
  }
}

/** Returns the broken invariants (plain checks: `expect` in a loop of 100 000 steps is slow). */
function brokenInvariants(state: CartState, model: Model, previous: CartState): string[] {
  const broken: string[] = [];
  const fail = (why: string): number => broken.push(why);
  if (state.lines.length > 100) fail(`${state.lines.length} lines`);
  if (new Set(state.lines.map((line) => line.sku)).size !== state.lines.length) fail('duplicate skus');
  let total = 0;
  for (const { sku, quantity, unitPrice } of state.lines) {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 999) fail(`${sku} quantity ${quantity}`);
    if (!Number.isSafeInteger(unitPrice) || unitPrice < 0 || unitPrice > MAX_MINOR_UNITS) {
      fail(`${sku} unit price ${unitPrice}`);
    }
    const expected = model.get(sku);
    if (expected?.quantity !== quantity || expected.unitPrice !== unitPrice) {
      fail(`${sku} is ${quantity} × ${unitPrice}, model says ${JSON.stringify(expected)}`);
    }
    total += quantity * unitPrice;
  }
  if (model.size !== state.lines.length) fail(`${state.lines.length} lines, model has ${model.size}`);
  if (cartTotal(state) !== total) fail(`cartTotal ${cartTotal(state)} ≠ Σ quantity × unit price ${total}`);
  if (!Number.isSafeInteger(total) || total > MAX_MINOR_UNITS) fail(`total ${total} above the maximum`);
  if ((previous.status === 'checked-out' || previous.status === 'abandoned') && state !== previous) {
    fail(`a ${previous.status} cart changed`);
  }
  if (state.status === 'checked-out' && (state.lines.length === 0 || state.orderId === null)) {
    fail('checked out without lines or order id');
  }
  return broken;
}

/** The order the checkout process manager would place must be accepted, with the same total. */
function checkOrderCanBePlaced(cart: CartState): void {
  const [placed] = orderDecider.decide(
    {
      type: 'PlaceOrder',
      data: {
        orderId: cart.orderId!,
        cartId: cart.cartId!,
        customerId: cart.customerId!,
        currency: cart.currency!,
        lines: cart.lines.map((line) => ({ ...line })),
      },
    },
    orderDecider.initialState,
  );
  expect(placed?.type === 'OrderPlaced' && placed.data.total).toBe(cartTotal(cart));
}

describe('cart decider invariants over random command sequences', () => {
  it(`holds for ${SEEDS} seeded sequences of ${STEPS} commands`, () => {
    const accepted = new Map<string, number>();
    const refused = new Map<string, number>();
    let maxLines = 0;
    let maxQuantity = 0;

    for (let seed = 1; seed <= SEEDS; seed++) {
      const next = random(seed);
      const nextCommand = generator(next);
      const model: Model = new Map();
      let state = cartDecider.initialState;
      const commands: CartCommand[] =
        next() < 0.95
          ? [{ type: 'OpenCart', data: { cartId: 'cart-1', customerId: 'c-1', currency: 'EUR' } }]
          : [];
      let stepsLeft = STEPS;
      for (let step = 0; step < STEPS && stepsLeft > 0; step++, stepsLeft--) {
        const command = commands[step] ?? nextCommand(state);
        commands[step] = command;
        try {
          let events;
          try {
            events = cartDecider.decide(command, state);
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            refused.set(error.code, (refused.get(error.code) ?? 0) + 1);
            continue;
          }
          accepted.set(command.type, (accepted.get(command.type) ?? 0) + 1);
          applyToModel(model, command);
          const previous = state;
          state = events.reduce(cartDecider.evolve, state);
          const broken = brokenInvariants(state, model, previous);
          if (broken.length > 0) throw new Error(broken.join('; '));
          if (command.type === 'CheckOutCart') checkOrderCanBePlaced(state);
          if (state.status !== 'open') stepsLeft = Math.min(stepsLeft, 5);
          maxLines = Math.max(maxLines, state.lines.length);
          maxQuantity = Math.max(maxQuantity, ...state.lines.map((line) => line.quantity));
        } catch (failure) {
          const replay = JSON.stringify(commands.slice(Math.max(0, step - 5), step + 1));
          throw new Error(`seed ${seed}, step ${step}: ${String(failure)}\nlast commands: ${replay}`, {
            cause: failure,
          });
        }
      }
    }

    // The generator must actually reach the interesting rules, or the property proves little.
    expect([...accepted.keys()].sort()).toEqual([
      'AbandonCart',
      'AddItem',
      'ChangeItemQuantity',
      'CheckOutCart',
      'OpenCart',
      'RemoveItem',
      'RepriceCart',
    ]);
    expect([...refused.keys()].sort()).toEqual([
      'CART_ALREADY_OPENED',
      'CART_CLOSED',
      'CART_EMPTY',
      'CART_NOT_FOUND',
      'INVALID_AMOUNT',
      'INVALID_NAME',
      'INVALID_QUANTITY',
      'INVALID_SKU',
      'ITEM_NOT_IN_CART',
      'PRICES_CHANGED',
      'PRICE_CHANGED',
      'PRODUCTS_NOT_AVAILABLE',
      'PRODUCT_NOT_AVAILABLE',
      'TOO_MANY_LINES',
    ]);
    expect(maxLines).toBe(100);
    expect(maxQuantity).toBe(999);
  });
});
