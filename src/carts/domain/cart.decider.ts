import {
  assertCurrency,
  assertMinorUnits,
  assertNever,
  isItemName,
  MAX_QUANTITY,
  MIN_QUANTITY,
  SKU_PATTERN,
  type Decider,
} from '../../shared/domain/index.js';
import type { CartCommand, CatalogOffer } from './cart.commands.js';
import { CartErrors, type PriceChange } from './cart.errors.js';
import type { CartEvent } from './cart.events.js';
import { MAX_LINES_PER_CART, type CartLine, type CartState } from './cart.state.js';

export const initialCartState: CartState = {
  status: 'none',
  cartId: null,
  customerId: null,
  currency: null,
  lines: [],
  orderId: null,
};

export function cartTotal(state: CartState): number {
  return state.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
}

function assertQuantity(sku: string, quantity: number): void {
  if (!Number.isInteger(quantity) || quantity < MIN_QUANTITY || quantity > MAX_QUANTITY) {
    throw CartErrors.invalidQuantity(sku, quantity);
  }
}

/** Every command but OpenCart needs a cart that exists and is still open. */
function assertOpen(state: CartState): void {
  if (state.status === 'none') throw CartErrors.notFound();
  if (state.status !== 'open') throw CartErrors.closed(state.status);
}

function lineOf(state: CartState, sku: string): CartLine | undefined {
  return state.lines.find((line) => line.sku === sku);
}

/**
 * Each line against the catalog's offer for its sku: the lines whose price is no longer the catalog's.
 * A line the offers do not cover means the cart changed after they were asked for (CART_CHANGED).
 */
function priceChanges(state: CartState, offers: readonly CatalogOffer[]): PriceChange[] {
  const bySku = new Map(offers.map((offer) => [offer.sku, offer]));
  const changes: PriceChange[] = [];
  for (const { sku, unitPrice } of state.lines) {
    const offer = bySku.get(sku);
    if (!offer) throw CartErrors.changedMeanwhile();
    if (!offer.available) changes.push({ sku, unitPrice, currentPrice: null, reason: offer.reason });
    else if (offer.unitPrice !== unitPrice) {
      changes.push({ sku, unitPrice, currentPrice: offer.unitPrice, reason: null });
    }
  }
  return changes;
}

export function decideCart(command: CartCommand, state: CartState): CartEvent[] {
  switch (command.type) {
    case 'OpenCart': {
      if (state.status !== 'none') throw CartErrors.alreadyOpened();
      assertCurrency(command.data.currency);
      return [{ type: 'CartOpened', data: { ...command.data } }];
    }
    case 'AddItem': {
      assertOpen(state);
      const { sku, quantity, offer } = command.data;
      if (!SKU_PATTERN.test(sku)) throw CartErrors.invalidSku(sku);
      assertQuantity(sku, quantity);
      if (!offer.available) throw CartErrors.notAvailable(sku, offer.reason);
      const { name, unitPrice } = offer;
      if (!isItemName(name)) throw CartErrors.invalidName();
      assertMinorUnits('unitPrice', unitPrice);
      const existing = lineOf(state, sku);
      if (existing) {
        if (existing.unitPrice !== unitPrice)
          throw CartErrors.priceChanged(sku, existing.unitPrice, unitPrice);
        assertQuantity(sku, existing.quantity + quantity);
      } else if (state.lines.length >= MAX_LINES_PER_CART) {
        throw CartErrors.tooManyLines(MAX_LINES_PER_CART);
      }
      // The total must stay within what an order accepts, or checkout would yield an order that cannot be placed.
      assertMinorUnits('total', cartTotal(state) + quantity * unitPrice);
      return [{ type: 'ItemAdded', data: { sku, name, quantity, unitPrice } }];
    }
    case 'ChangeItemQuantity': {
      assertOpen(state);
      const { sku, quantity } = command.data;
      const line = lineOf(state, sku);
      if (!line) throw CartErrors.itemNotInCart(sku);
      assertQuantity(sku, quantity);
      if (quantity > line.quantity) {
        assertMinorUnits('total', cartTotal(state) + (quantity - line.quantity) * line.unitPrice);
      }
      return [{ type: 'ItemQuantityChanged', data: { sku, quantity } }];
    }
    case 'RemoveItem': {
      assertOpen(state);
      if (!lineOf(state, command.data.sku)) throw CartErrors.itemNotInCart(command.data.sku);
      return [{ type: 'ItemRemoved', data: { sku: command.data.sku } }];
    }
    case 'RepriceCart': {
      assertOpen(state);
      const changes = priceChanges(state, command.data.offers);
      const gone = changes.filter((change) => change.currentPrice === null);
      if (gone.length > 0) throw CartErrors.notAvailableAnyMore(gone);
      const repriced = changes.map(({ sku, currentPrice }) => ({ sku, unitPrice: currentPrice! }));
      const total = state.lines.reduce(
        (sum, line) =>
          sum + line.quantity * (repriced.find((r) => r.sku === line.sku)?.unitPrice ?? line.unitPrice),
        0,
      );
      assertMinorUnits('total', total);
      return repriced.map((data) => ({ type: 'ItemRepriced', data }));
    }
    case 'CheckOutCart': {
      assertOpen(state);
      if (state.lines.length === 0) throw CartErrors.empty();
      // The order is placed at the prices the shopper saw; if the catalog moved on since, the shopper decides.
      const changes = priceChanges(state, command.data.offers);
      if (changes.length > 0) throw CartErrors.pricesChanged(changes);
      return [{ type: 'CartCheckedOut', data: { orderId: command.data.orderId } }];
    }
    case 'AbandonCart': {
      assertOpen(state);
      return [{ type: 'CartAbandoned', data: { reason: command.data.reason } }];
    }
    default:
      return assertNever(command);
  }
}

export function evolveCart(state: CartState, event: CartEvent): CartState {
  switch (event.type) {
    case 'CartOpened':
      return {
        ...state,
        status: 'open',
        cartId: event.data.cartId,
        customerId: event.data.customerId,
        currency: event.data.currency,
      };
    case 'ItemAdded': {
      const { sku, name, quantity, unitPrice } = event.data;
      const existing = lineOf(state, sku);
      const lines = existing
        ? state.lines.map((line) =>
            line.sku === sku ? { ...line, quantity: line.quantity + quantity } : line,
          )
        : [...state.lines, { sku, name, quantity, unitPrice }];
      return { ...state, lines };
    }
    case 'ItemQuantityChanged': {
      const { sku, quantity } = event.data;
      return {
        ...state,
        lines: state.lines.map((line) => (line.sku === sku ? { ...line, quantity } : line)),
      };
    }
    case 'ItemRemoved':
      return { ...state, lines: state.lines.filter((line) => line.sku !== event.data.sku) };
    case 'ItemRepriced': {
      const { sku, unitPrice } = event.data;
      return {
        ...state,
        lines: state.lines.map((line) => (line.sku === sku ? { ...line, unitPrice } : line)),
      };
    }
    case 'CartCheckedOut':
      return { ...state, status: 'checked-out', orderId: event.data.orderId };
    case 'CartAbandoned':
      return { ...state, status: 'abandoned' };
    default:
      return assertNever(event);
  }
}

export const cartDecider: Decider<CartCommand, CartState, CartEvent> = {
  decide: decideCart,
  evolve: evolveCart,
  initialState: initialCartState,
};
