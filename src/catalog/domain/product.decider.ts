import {
  assertCurrency,
  assertItemName,
  assertMinorUnits,
  assertNever,
  assertSku,
  type Decider,
} from '../../shared/domain/index.js';
import { MAX_PRODUCT_PRICES, MAX_WITHDRAWAL_REASON_LENGTH, type ProductCommand } from './product.commands.js';
import { ProductErrors } from './product.errors.js';
import type { PriceChanges, Prices, ProductEvent } from './product.events.js';
import type { ProductState } from './product.state.js';

export const initialProductState: ProductState = { status: 'none', sku: null, name: null, prices: {} };

/** Prices keyed in currency-code order, so that equal prices are equal JSON. */
function inCodeOrder<V>(entries: readonly (readonly [string, V])[]): Record<string, V> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every currency a code, every amount (but a removal's null) integer minor units; at most MAX_PRODUCT_PRICES. */
function assertPrices(prices: PriceChanges): void {
  const entries = Object.entries(prices);
  if (entries.length === 0) throw ProductErrors.priceRequired();
  if (entries.length > MAX_PRODUCT_PRICES) throw ProductErrors.tooManyPrices('invalid');
  for (const [currency, amount] of entries) {
    assertCurrency(currency);
    if (amount !== null) assertMinorUnits(`prices.${currency}`, amount);
  }
}

/** The prices after `changes` (a null amount removes that currency). */
function applyPrices(prices: Prices, changes: PriceChanges): Prices {
  const next = new Map(Object.entries(prices));
  for (const [currency, amount] of Object.entries(changes)) {
    if (amount === null) next.delete(currency);
    else next.set(currency, amount);
  }
  return inCodeOrder([...next]);
}

/** Every command but ListProduct needs a product that is listed. */
function assertListed(state: ProductState): void {
  if (state.status === 'none') throw ProductErrors.notFound();
  if (state.status === 'withdrawn') throw ProductErrors.withdrawn();
}

export function decideProduct(command: ProductCommand, state: ProductState): ProductEvent[] {
  switch (command.type) {
    case 'ListProduct': {
      if (state.status === 'listed') throw ProductErrors.alreadyListed();
      const { sku, name, prices } = command.data;
      assertSku(sku);
      assertItemName(name);
      assertPrices(prices);
      return [{ type: 'ProductListed', data: { sku, name, prices: inCodeOrder(Object.entries(prices)) } }];
    }
    case 'ChangeProductPrices': {
      assertListed(state);
      const { prices } = command.data;
      assertPrices(prices);
      const current = state.prices;
      // Only what changes: a price set to what it is, or a removal of a price there is not, changes nothing.
      const changes = Object.entries(prices).filter(([currency, amount]) =>
        amount === null ? Object.hasOwn(current, currency) : current[currency] !== amount,
      );
      if (changes.length === 0) return [];
      const next = Object.keys(applyPrices(current, Object.fromEntries(changes))).length;
      if (next === 0) throw ProductErrors.lastPrice();
      if (next > MAX_PRODUCT_PRICES) throw ProductErrors.tooManyPrices('conflict');
      return [{ type: 'ProductPriceChanged', data: { sku: state.sku ?? '', prices: inCodeOrder(changes) } }];
    }
    case 'WithdrawProduct': {
      assertListed(state);
      const { reason } = command.data;
      if (reason !== null && (reason.trim().length === 0 || reason.length > MAX_WITHDRAWAL_REASON_LENGTH)) {
        throw ProductErrors.invalidReason();
      }
      return [{ type: 'ProductWithdrawn', data: { sku: state.sku ?? '', reason } }];
    }
    default:
      return assertNever(command);
  }
}

export function evolveProduct(state: ProductState, event: ProductEvent): ProductState {
  switch (event.type) {
    case 'ProductListed': {
      const { sku, name, prices } = event.data;
      return { status: 'listed', sku, name, prices: inCodeOrder(Object.entries(prices)) };
    }
    case 'ProductPriceChanged':
      return { ...state, prices: applyPrices(state.prices, event.data.prices) };
    case 'ProductWithdrawn':
      return { ...state, status: 'withdrawn' };
    default:
      return assertNever(event);
  }
}

export const productDecider: Decider<ProductCommand, ProductState, ProductEvent> = {
  decide: decideProduct,
  evolve: evolveProduct,
  initialState: initialProductState,
};
