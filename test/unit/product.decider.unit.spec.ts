import type { ProductCommand } from '../../src/catalog/domain/product.commands.js';
import {
  MAX_PRODUCT_PRICES,
  MAX_WITHDRAWAL_REASON_LENGTH,
} from '../../src/catalog/domain/product.commands.js';
import { initialProductState, productDecider } from '../../src/catalog/domain/product.decider.js';
import type { PriceChanges, Prices, ProductEvent } from '../../src/catalog/domain/product.events.js';
import { MAX_ITEM_NAME_LENGTH, MAX_MINOR_UNITS } from '../../src/shared/domain/index.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(productDecider);

const SKU = 'espresso-1kg';
const listed = (prices: Prices = { EUR: 1890, USD: 2090 }, name = 'Espresso beans, 1 kg'): ProductEvent => ({
  type: 'ProductListed',
  data: { sku: SKU, name, prices },
});
const priceChanged = (prices: PriceChanges): ProductEvent => ({
  type: 'ProductPriceChanged',
  data: { sku: SKU, prices },
});
const withdrawn = (reason: string | null = null): ProductEvent => ({
  type: 'ProductWithdrawn',
  data: { sku: SKU, reason },
});

const list = (
  prices: Prices = { EUR: 1890, USD: 2090 },
  name = 'Espresso beans, 1 kg',
  sku = SKU,
): ProductCommand => ({ type: 'ListProduct', data: { sku, name, prices } });
const changePrices = (prices: PriceChanges): ProductCommand => ({
  type: 'ChangeProductPrices',
  data: { prices },
});
const withdraw = (reason: string | null = null): ProductCommand => ({
  type: 'WithdrawProduct',
  data: { reason },
});

/** `count` currencies with three-letter codes AAA, AAB, …, each priced 100. */
const manyPrices = (count: number, offset = 0): Record<string, number> =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => {
      const n = i + offset;
      const code = String.fromCharCode(
        65 + Math.floor(n / 676),
        65 + (Math.floor(n / 26) % 26),
        65 + (n % 26),
      );
      return [code, 100];
    }),
  );

describe('product decider', () => {
  describe('ListProduct', () => {
    it('lists a new sku under its name at its prices (in currency-code order)', () => {
      const [event] = spec
        .given([])
        .when(list({ USD: 2090, EUR: 1890 }))
        .then([listed({ EUR: 1890, USD: 2090 })]);
      expect(Object.keys((event as Extract<ProductEvent, { type: 'ProductListed' }>).data.prices)).toEqual([
        'EUR',
        'USD',
      ]);
    });

    it('the state after it: listed, with name and prices', () => {
      spec
        .given([])
        .when(list())
        .thenState({
          status: 'listed',
          sku: SKU,
          name: 'Espresso beans, 1 kg',
          prices: { EUR: 1890, USD: 2090 },
        });
    });

    it('accepts a price of 0 and the largest amount', () => {
      spec
        .given([])
        .when(list({ EUR: 0, USD: MAX_MINOR_UNITS }))
        .then([listed({ EUR: 0, USD: MAX_MINOR_UNITS })]);
    });

    it('refuses a sku that is listed: PRODUCT_ALREADY_LISTED (409)', () => {
      spec.given([listed()]).when(list()).thenThrows('PRODUCT_ALREADY_LISTED', 'conflict');
      spec
        .given([listed(), priceChanged({ EUR: 1 })])
        .when(list({ GBP: 1 }, 'Another name'))
        .thenThrows('PRODUCT_ALREADY_LISTED', 'conflict');
    });

    it('lists a withdrawn product again, replacing its name and prices', () => {
      spec
        .given([listed(), withdrawn('out of stock')])
        .when(list({ GBP: 1700 }, 'Espresso beans, 1 kg (new roast)'))
        .then([listed({ GBP: 1700 }, 'Espresso beans, 1 kg (new roast)')]);
      spec
        .given([listed(), withdrawn(), listed({ GBP: 1700 }, 'New')])
        .thenState({ status: 'listed', sku: SKU, name: 'New', prices: { GBP: 1700 } });
    });

    it('needs at least one price: PRICE_REQUIRED (422)', () => {
      spec.given([]).when(list({})).thenThrows('PRICE_REQUIRED', 'invalid');
    });

    it(`takes at most ${MAX_PRODUCT_PRICES} currencies: TOO_MANY_PRICES`, () => {
      spec
        .given([])
        .when(list(manyPrices(MAX_PRODUCT_PRICES)))
        .then([listed(manyPrices(MAX_PRODUCT_PRICES))]);
      spec
        .given([])
        .when(list(manyPrices(MAX_PRODUCT_PRICES + 1)))
        .thenThrows('TOO_MANY_PRICES', 'invalid');
    });

    it.each(['eur', 'EURO', '', 'E1R', ' EUR', 'ÉUR', '__proto__'])(
      'refuses the currency %j: INVALID_CURRENCY',
      (currency) => {
        spec
          .given([])
          .when(list(JSON.parse(`{${JSON.stringify(currency)}: 100}`) as Prices))
          .thenThrows('INVALID_CURRENCY', 'invalid');
      },
    );

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_MINOR_UNITS + 1])(
      'refuses the amount %p: INVALID_AMOUNT',
      (amount) => {
        spec
          .given([])
          .when(list({ EUR: 100, USD: amount }))
          .thenThrows('INVALID_AMOUNT', 'invalid');
      },
    );

    it.each([
      ['empty', ''],
      ['blank', '   '],
      [`${MAX_ITEM_NAME_LENGTH + 1} characters long`, 'x'.repeat(MAX_ITEM_NAME_LENGTH + 1)],
      ['only NUL', '\u0000'],
      ['a lone surrogate', 'mug \ud83d'],
      [`${MAX_ITEM_NAME_LENGTH + 1} emoji long`, '\u{1F600}'.repeat(MAX_ITEM_NAME_LENGTH + 1)],
    ])('refuses a name that is %s: INVALID_NAME', (_, name) => {
      spec.given([]).when(list(undefined, name)).thenThrows('INVALID_NAME', 'invalid');
    });

    it.each(['', 'a b', `${'x'.repeat(64)}y`, 'sku/1', 'ünï'])('refuses the sku %j: INVALID_SKU', (sku) => {
      spec
        .given([])
        .when(list(undefined, undefined, sku))
        .thenThrows('INVALID_SKU', 'invalid');
    });
  });

  describe('ChangeProductPrices', () => {
    it('sets the currencies given and leaves the others: the event names only what changed', () => {
      spec
        .given([listed({ EUR: 1890, USD: 2090 })])
        .when(changePrices({ EUR: 1790, USD: 2090, GBP: 1600 }))
        .then([priceChanged({ EUR: 1790, GBP: 1600 })]);
      spec.given([listed({ EUR: 1890, USD: 2090 }), priceChanged({ EUR: 1790, GBP: 1600 })]).thenState({
        status: 'listed',
        sku: SKU,
        name: 'Espresso beans, 1 kg',
        prices: { EUR: 1790, GBP: 1600, USD: 2090 },
      });
    });

    it('null removes a price', () => {
      spec
        .given([listed({ EUR: 1890, USD: 2090 })])
        .when(changePrices({ USD: null }))
        .then([priceChanged({ USD: null })]);
      spec
        .given([listed({ EUR: 1890, USD: 2090 }), priceChanged({ USD: null })])
        .thenState({ status: 'listed', sku: SKU, name: 'Espresso beans, 1 kg', prices: { EUR: 1890 } });
    });

    it('prices set to what they are (or a price removed that is not there) yield no event', () => {
      spec
        .given([listed({ EUR: 1890, USD: 2090 })])
        .when(changePrices({ EUR: 1890 }))
        .then([]);
      spec
        .given([listed({ EUR: 1890, USD: 2090 })])
        .when(changePrices({ EUR: 1890, USD: 2090, GBP: null }))
        .then([]);
    });

    it('at least one price must remain: LAST_PRICE (409)', () => {
      spec
        .given([listed({ EUR: 1890 })])
        .when(changePrices({ EUR: null }))
        .thenThrows('LAST_PRICE', 'conflict');
      spec
        .given([listed({ EUR: 1890, USD: 2090 })])
        .when(changePrices({ EUR: null, USD: null }))
        .thenThrows('LAST_PRICE', 'conflict');
      // Removing one and adding another in the same command is fine.
      spec
        .given([listed({ EUR: 1890 })])
        .when(changePrices({ EUR: null, GBP: 1600 }))
        .then([priceChanged({ EUR: null, GBP: 1600 })]);
    });

    it('needs at least one currency: PRICE_REQUIRED (422)', () => {
      spec.given([listed()]).when(changePrices({})).thenThrows('PRICE_REQUIRED', 'invalid');
    });

    it(`never more than ${MAX_PRODUCT_PRICES} currencies: TOO_MANY_PRICES (409 when adding to the current ones)`, () => {
      const full = listed(manyPrices(MAX_PRODUCT_PRICES));
      spec
        .given([full])
        .when(changePrices(manyPrices(1, MAX_PRODUCT_PRICES)))
        .thenThrows('TOO_MANY_PRICES', 'conflict');
      spec
        .given([listed()])
        .when(changePrices(manyPrices(MAX_PRODUCT_PRICES + 1)))
        .thenThrows('TOO_MANY_PRICES', 'invalid');
    });

    it('checks every currency and amount: INVALID_CURRENCY, INVALID_AMOUNT', () => {
      spec
        .given([listed()])
        .when(changePrices({ eur: 1 }))
        .thenThrows('INVALID_CURRENCY', 'invalid');
      spec
        .given([listed()])
        .when(changePrices({ EUR: -5 }))
        .thenThrows('INVALID_AMOUNT', 'invalid');
      spec
        .given([listed()])
        .when(changePrices({ EUR: 0.5 }))
        .thenThrows('INVALID_AMOUNT', 'invalid');
    });

    it('a withdrawn product cannot be repriced: PRODUCT_WITHDRAWN (409)', () => {
      spec
        .given([listed(), withdrawn()])
        .when(changePrices({ EUR: 1 }))
        .thenThrows('PRODUCT_WITHDRAWN', 'conflict');
    });

    it('a product never listed: PRODUCT_NOT_FOUND (404)', () => {
      spec
        .given([])
        .when(changePrices({ EUR: 1 }))
        .thenThrows('PRODUCT_NOT_FOUND', 'not-found');
    });
  });

  describe('WithdrawProduct', () => {
    it('withdraws a listed product, with or without a reason; it keeps its name and last prices', () => {
      spec
        .given([listed()])
        .when(withdraw('discontinued'))
        .then([withdrawn('discontinued')]);
      spec
        .given([listed()])
        .when(withdraw())
        .then([withdrawn(null)]);
      spec
        .given([listed(), priceChanged({ EUR: 1 })])
        .when(withdraw())
        .thenState({
          status: 'withdrawn',
          sku: SKU,
          name: 'Espresso beans, 1 kg',
          prices: { EUR: 1, USD: 2090 },
        });
    });

    it('twice is refused: PRODUCT_WITHDRAWN (409)', () => {
      spec.given([listed(), withdrawn()]).when(withdraw()).thenThrows('PRODUCT_WITHDRAWN', 'conflict');
    });

    it('a product never listed: PRODUCT_NOT_FOUND (404)', () => {
      spec.given([]).when(withdraw()).thenThrows('PRODUCT_NOT_FOUND', 'not-found');
    });

    it.each([
      ['empty', ''],
      ['blank', '  '],
      [`${MAX_WITHDRAWAL_REASON_LENGTH + 1} characters long`, 'r'.repeat(MAX_WITHDRAWAL_REASON_LENGTH + 1)],
    ])('refuses a reason that is %s: INVALID_REASON', (_, reason) => {
      spec.given([listed()]).when(withdraw(reason)).thenThrows('INVALID_REASON', 'invalid');
    });
  });

  it('starts with nothing: no sku, no name, no prices', () => {
    spec.given([]).thenState(initialProductState);
    expect(initialProductState).toEqual({ status: 'none', sku: null, name: null, prices: {} });
  });
});
