import type { CartCommand, CatalogOffer } from '../../src/carts/domain/cart.commands.js';
import { cartDecider, cartTotal, initialCartState } from '../../src/carts/domain/cart.decider.js';
import type { CartEvent } from '../../src/carts/domain/cart.events.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';
import { orderDecider } from '../../src/orders/domain/order.decider.js';
import { MAX_MINOR_UNITS } from '../../src/shared/domain/index.js';
import { addItem as addOffered, offered, offersAsInCart } from '../support/cart-commands.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(cartDecider);

const opened: CartEvent = {
  type: 'CartOpened',
  data: { cartId: 'cart-1', customerId: 'customer-1', currency: 'EUR' },
};
const itemAdded = (sku: string, quantity = 1, unitPrice = 100, name = `Item ${sku}`): CartEvent => ({
  type: 'ItemAdded',
  data: { sku, name, quantity, unitPrice },
});
const quantityChanged = (sku: string, quantity: number): CartEvent => ({
  type: 'ItemQuantityChanged',
  data: { sku, quantity },
});
const removed = (sku: string): CartEvent => ({ type: 'ItemRemoved', data: { sku } });
const checkedOut: CartEvent = { type: 'CartCheckedOut', data: { orderId: 'order-1' } };
const abandoned: CartEvent = { type: 'CartAbandoned', data: { reason: null } };

const openCart = (currency = 'EUR'): CartCommand => ({
  type: 'OpenCart',
  data: { cartId: 'cart-1', customerId: 'customer-1', currency },
});
const addItem = (sku: string, quantity = 1, unitPrice = 100, name = `Item ${sku}`): CartCommand =>
  addOffered(sku, name, quantity, unitPrice);
const repriced = (sku: string, unitPrice: number): CartEvent => ({
  type: 'ItemRepriced',
  data: { sku, unitPrice },
});
const withdrawn = (sku: string): CatalogOffer => ({ sku, available: false, reason: 'withdrawn' });
const changeQuantity = (sku: string, quantity: number): CartCommand => ({
  type: 'ChangeItemQuantity',
  data: { sku, quantity },
});
const removeItem = (sku: string): CartCommand => ({ type: 'RemoveItem', data: { sku } });
/** A checkout whose catalog still offers `offers` (default: sku `a` at 100, what most carts below hold). */
const checkOut = (
  orderId = 'order-1',
  offers: CatalogOffer[] = [offered('a', 'Item a', 100)],
): CartCommand => ({
  type: 'CheckOutCart',
  data: { orderId, offers },
});
const reprice = (...offers: CatalogOffer[]): CartCommand => ({ type: 'RepriceCart', data: { offers } });
const abandon = (reason: string | null = null): CartCommand => ({ type: 'AbandonCart', data: { reason } });

/** A cart holding `count` lines sku-1 … sku-<count>, one unit at 100 each. */
const fullCart = (count: number): CartEvent[] => [
  opened,
  ...Array.from({ length: count }, (_, i) => itemAdded(`sku-${i + 1}`)),
];

/** The closed carts every mutating command must refuse, with the status reported in the error. */
const closedCarts: [string, CartEvent[]][] = [
  ['checked-out', [opened, itemAdded('a'), checkedOut]],
  ['abandoned', [opened, itemAdded('a'), abandoned]],
];

describe('cart decider', () => {
  describe('OpenCart', () => {
    it('opens a new cart in the given currency', () => {
      spec
        .given([])
        .when(openCart('EUR'))
        .then([
          { type: 'CartOpened', data: { cartId: 'cart-1', customerId: 'customer-1', currency: 'EUR' } },
        ]);
    });

    it('refuses to open a cart twice: CART_ALREADY_OPENED', () => {
      spec.given([opened]).when(openCart()).thenThrows('CART_ALREADY_OPENED', 'conflict');
      spec
        .given([opened, itemAdded('a'), checkedOut])
        .when(openCart())
        .thenThrows('CART_ALREADY_OPENED');
      spec.given([opened, abandoned]).when(openCart('USD')).thenThrows('CART_ALREADY_OPENED');
    });

    it.each(['eur', 'EURO', '', 'EU', 'E1R', ' EUR', 'EUR ', 'ÉUR'])(
      'refuses the currency %j: INVALID_CURRENCY',
      (currency) => {
        spec.given([]).when(openCart(currency)).thenThrows('INVALID_CURRENCY', 'invalid');
      },
    );
  });

  describe('AddItem', () => {
    it('adds a new line', () => {
      spec
        .given([opened])
        .when(addItem('sku-1', 2, 1250, 'Blue mug'))
        .then([
          { type: 'ItemAdded', data: { sku: 'sku-1', name: 'Blue mug', quantity: 2, unitPrice: 1250 } },
        ]);
    });

    it('refuses a cart that was never opened: CART_NOT_FOUND', () => {
      spec.given([]).when(addItem('a')).thenThrows('CART_NOT_FOUND', 'not-found');
    });

    it.each(closedCarts)('refuses a %s cart: CART_CLOSED', (status, events) => {
      const error = spec.given(events).when(addItem('b')).thenThrows('CART_CLOSED', 'conflict');
      expect(error.details).toEqual({ status });
    });

    it('checks the cart state before the request itself', () => {
      spec
        .given([])
        .when(addItem('not a sku', 0, -1))
        .thenThrows('CART_NOT_FOUND');
      spec
        .given([opened, abandoned])
        .when(addItem('not a sku', 0, -1))
        .thenThrows('CART_CLOSED');
    });

    it.each([0, 1000, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY])(
      'refuses the quantity %p: INVALID_QUANTITY',
      (quantity) => {
        const error = spec
          .given([opened])
          .when(addItem('a', quantity))
          .thenThrows('INVALID_QUANTITY', 'invalid');
        expect(error.details).toMatchObject({ sku: 'a' });
      },
    );

    it.each([1, 999])('accepts the quantity %p', (quantity) => {
      spec
        .given([opened])
        .when(addItem('a', quantity))
        .then([itemAdded('a', quantity)]);
    });

    it.each(['', 'has space', 'a/b', 'ü', 'x'.repeat(65), 'tab\t'])(
      'refuses the sku %j: INVALID_SKU',
      (sku) => {
        spec.given([opened]).when(addItem(sku)).thenThrows('INVALID_SKU', 'invalid');
      },
    );

    it.each(['A-z_0.9', 'x'.repeat(64)])('accepts the sku %j', (sku) => {
      spec
        .given([opened])
        .when(addItem(sku))
        .then([itemAdded(sku)]);
    });

    it.each([
      ['empty', ''],
      ['blank', ' \t\n '],
      ['201 characters long', 'n'.repeat(201)],
      ['only control characters', '\u0000\u001f'],
      ['a lone surrogate', '\ud83d'],
    ])('refuses a name that is %s: INVALID_NAME', (_label, name) => {
      spec
        .given([opened])
        .when(addItem('a', 1, 100, name))
        .thenThrows('INVALID_NAME', 'invalid');
    });

    it.each([
      ['200 characters', 'n'.repeat(200)],
      ['200 emoji (400 UTF-16 units: names count code points)', '\u{1F600}'.repeat(200)],
    ])('accepts a name of %s', (_label, name) => {
      spec
        .given([opened])
        .when(addItem('a', 1, 100, name))
        .then([itemAdded('a', 1, 100, name)]);
    });

    it.each([
      ['negative', -1],
      ['fractional', 10.5],
      ['above the maximum', MAX_MINOR_UNITS + 1],
      ['unsafe', Number.MAX_SAFE_INTEGER + 2],
      ['not a number', Number.NaN],
      ['infinite', Number.POSITIVE_INFINITY],
    ])('refuses a unit price that is %s: INVALID_AMOUNT', (_label, unitPrice) => {
      const error = spec
        .given([opened])
        .when(addItem('a', 1, unitPrice))
        .thenThrows('INVALID_AMOUNT', 'invalid');
      expect(error.details).toEqual({ field: 'unitPrice' });
    });

    it('accepts a free item and an item at the maximum unit price', () => {
      spec
        .given([opened])
        .when(addItem('free', 3, 0))
        .then([itemAdded('free', 3, 0)]);
      spec
        .given([opened])
        .when(addItem('dear', 1, MAX_MINOR_UNITS))
        .then([itemAdded('dear', 1, MAX_MINOR_UNITS)]);
    });

    it('refuses to re-add a sku the catalog now prices differently: PRICE_CHANGED (reprice first)', () => {
      const error = spec
        .given([opened, itemAdded('a', 1, 100)])
        .when(addItem('a', 1, 120))
        .thenThrows('PRICE_CHANGED', 'conflict');
      expect(error.details).toEqual({ sku: 'a', unitPrice: 100, currentPrice: 120 });
    });

    it('records the name and unit price the catalog offered, not anything else', () => {
      spec
        .given([opened])
        .when(addOffered('beans', 'Espresso beans 1 kg', 2, 1890))
        .then([
          {
            type: 'ItemAdded',
            data: { sku: 'beans', name: 'Espresso beans 1 kg', quantity: 2, unitPrice: 1890 },
          },
        ]);
    });

    it.each(['not-listed', 'withdrawn', 'not-priced'])(
      'refuses a product the catalog does not sell (%s): PRODUCT_NOT_AVAILABLE',
      (reason) => {
        const error = spec
          .given([opened])
          .when({
            type: 'AddItem',
            data: { sku: 'gone', quantity: 1, offer: { sku: 'gone', available: false, reason } },
          })
          .thenThrows('PRODUCT_NOT_AVAILABLE', 'invalid');
        expect(error.details).toEqual({ sku: 'gone', reason });
      },
    );

    it('grows the line when a sku is re-added at the same price', () => {
      const given = spec.given([opened, itemAdded('a', 2, 100)]);
      given.when(addItem('a', 3, 100)).then([itemAdded('a', 3, 100)]);
      given.when(addItem('a', 3, 100)).thenState({
        ...given.state,
        lines: [{ sku: 'a', name: 'Item a', quantity: 5, unitPrice: 100 }],
      });
    });

    it('refuses a re-add that takes the line past 999: INVALID_QUANTITY', () => {
      const given = spec.given([opened, itemAdded('a', 500)]);
      given.when(addItem('a', 499)).then([itemAdded('a', 499)]);
      const error = given.when(addItem('a', 500)).thenThrows('INVALID_QUANTITY', 'invalid');
      expect(error.details).toEqual({ sku: 'a', quantity: 1000 });
    });

    it('refuses a 101st line but still grows an existing one: TOO_MANY_LINES', () => {
      const given = spec.given(fullCart(100));
      expect(given.state.lines).toHaveLength(100);
      const error = given.when(addItem('sku-101')).thenThrows('TOO_MANY_LINES', 'conflict');
      expect(error.details).toEqual({ max: 100 });
      given.when(addItem('sku-100')).then([itemAdded('sku-100')]);
      given.when(addItem('sku-1', 5)).then([itemAdded('sku-1', 5)]);
    });

    it('accepts a new line again once a line has been removed from a full cart', () => {
      spec
        .given([...fullCart(100), removed('sku-42')])
        .when(addItem('sku-101'))
        .then([itemAdded('sku-101')]);
    });

    it('accepts a 100th line', () => {
      spec
        .given(fullCart(99))
        .when(addItem('sku-100'))
        .then([itemAdded('sku-100')]);
    });

    // The cart total must stay within what an order accepts: otherwise checkout succeeds and the order it
    // must place is refused with INVALID_AMOUNT, leaving a checked-out cart without an order.
    it('refuses an item that takes the cart total past the maximum: INVALID_AMOUNT', () => {
      const error = spec
        .given([opened])
        .when(addItem('dear', 2, MAX_MINOR_UNITS))
        .thenThrows('INVALID_AMOUNT', 'invalid');
      expect(error.details).toEqual({ field: 'total' });
      spec
        .given([opened, itemAdded('a', 1, MAX_MINOR_UNITS - 10)])
        .when(addItem('b', 11, 1))
        .thenThrows('INVALID_AMOUNT', 'invalid');
      spec
        .given([opened, itemAdded('a', 1, MAX_MINOR_UNITS - 10)])
        .when(addItem('b', 10, 1))
        .then([itemAdded('b', 10, 1)]);
    });
  });

  describe('ChangeItemQuantity', () => {
    it('sets the quantity of a line', () => {
      spec
        .given([opened, itemAdded('a', 2)])
        .when(changeQuantity('a', 7))
        .then([quantityChanged('a', 7)]);
    });

    it.each([1, 999])('accepts the quantity %p', (quantity) => {
      spec
        .given([opened, itemAdded('a', 2)])
        .when(changeQuantity('a', quantity))
        .then([quantityChanged('a', quantity)]);
    });

    it('refuses a sku that is not in the cart: ITEM_NOT_IN_CART', () => {
      const error = spec
        .given([opened, itemAdded('a')])
        .when(changeQuantity('b', 1))
        .thenThrows('ITEM_NOT_IN_CART', 'not-found');
      expect(error.details).toEqual({ sku: 'b' });
      spec
        .given([opened, itemAdded('a'), removed('a')])
        .when(changeQuantity('a', 1))
        .thenThrows('ITEM_NOT_IN_CART');
    });

    it.each([0, 1000, 2.5, -3])('refuses the quantity %p: INVALID_QUANTITY', (quantity) => {
      spec
        .given([opened, itemAdded('a', 2)])
        .when(changeQuantity('a', quantity))
        .thenThrows('INVALID_QUANTITY', 'invalid');
    });

    it('refuses a cart that was never opened: CART_NOT_FOUND', () => {
      spec.given([]).when(changeQuantity('a', 1)).thenThrows('CART_NOT_FOUND', 'not-found');
    });

    it.each(closedCarts)('refuses a %s cart: CART_CLOSED', (_status, events) => {
      spec.given(events).when(changeQuantity('a', 2)).thenThrows('CART_CLOSED', 'conflict');
    });

    it('refuses a quantity that takes the cart total past the maximum: INVALID_AMOUNT', () => {
      const given = spec.given([opened, itemAdded('a', 1, MAX_MINOR_UNITS / 4), itemAdded('b', 1, 5)]);
      given.when(changeQuantity('a', 4)).thenThrows('INVALID_AMOUNT', 'invalid');
      given.when(changeQuantity('a', 3)).then([quantityChanged('a', 3)]);
      spec
        .given([opened, itemAdded('a', 1, MAX_MINOR_UNITS / 4)])
        .when(changeQuantity('a', 4))
        .then([quantityChanged('a', 4)]);
    });

    it('always lets a quantity go down, even in a cart recorded over the maximum before the total rule', () => {
      spec
        .given([opened, itemAdded('a', 5, MAX_MINOR_UNITS)])
        .when(changeQuantity('a', 3))
        .then([quantityChanged('a', 3)]);
    });
  });

  describe('RemoveItem', () => {
    it('removes a line', () => {
      spec
        .given([opened, itemAdded('a'), itemAdded('b')])
        .when(removeItem('a'))
        .then([removed('a')]);
    });

    it('refuses a sku that is not in the cart: ITEM_NOT_IN_CART', () => {
      spec.given([opened]).when(removeItem('a')).thenThrows('ITEM_NOT_IN_CART', 'not-found');
      spec
        .given([opened, itemAdded('a'), removed('a')])
        .when(removeItem('a'))
        .thenThrows('ITEM_NOT_IN_CART', 'not-found');
    });

    it('refuses a cart that was never opened: CART_NOT_FOUND', () => {
      spec.given([]).when(removeItem('a')).thenThrows('CART_NOT_FOUND', 'not-found');
    });

    it.each(closedCarts)('refuses a %s cart: CART_CLOSED', (_status, events) => {
      spec.given(events).when(removeItem('a')).thenThrows('CART_CLOSED', 'conflict');
    });
  });

  describe('CheckOutCart', () => {
    it('checks out a cart with lines, carrying the order id chosen by the caller', () => {
      spec
        .given([opened, itemAdded('a')])
        .when(checkOut('order-42'))
        .then([{ type: 'CartCheckedOut', data: { orderId: 'order-42' } }]);
    });

    it('refuses when the catalog changed since the items were added: PRICES_CHANGED, naming each line', () => {
      const error = spec
        .given([opened, itemAdded('a', 1, 100), itemAdded('b', 2, 50), itemAdded('c', 1, 10)])
        .when(checkOut('order-1', [offered('a', 'Item a', 120), withdrawn('b'), offered('c', 'Item c', 10)]))
        .thenThrows('PRICES_CHANGED', 'conflict');
      expect(error.details).toEqual({
        changes: [
          { sku: 'a', unitPrice: 100, currentPrice: 120, reason: null },
          { sku: 'b', unitPrice: 50, currentPrice: null, reason: 'withdrawn' },
        ],
      });
    });

    it('refuses offers that do not cover every line (the cart changed meanwhile): CART_CHANGED', () => {
      spec
        .given([opened, itemAdded('a'), itemAdded('b')])
        .when(checkOut('order-1', [offered('a', 'Item a', 100)]))
        .thenThrows('CART_CHANGED', 'conflict');
    });

    it('refuses an empty cart: CART_EMPTY', () => {
      spec.given([opened]).when(checkOut()).thenThrows('CART_EMPTY', 'conflict');
      spec
        .given([opened, itemAdded('a'), removed('a')])
        .when(checkOut())
        .thenThrows('CART_EMPTY', 'conflict');
    });

    it('refuses a second checkout: CART_CLOSED', () => {
      const error = spec
        .given([opened, itemAdded('a'), checkedOut])
        .when(checkOut('order-2'))
        .thenThrows('CART_CLOSED', 'conflict');
      expect(error.details).toEqual({ status: 'checked-out' });
    });

    it('refuses an abandoned cart: CART_CLOSED', () => {
      spec
        .given([opened, itemAdded('a'), abandoned])
        .when(checkOut())
        .thenThrows('CART_CLOSED', 'conflict');
    });

    it('refuses a cart that was never opened: CART_NOT_FOUND', () => {
      spec.given([]).when(checkOut()).thenThrows('CART_NOT_FOUND', 'not-found');
    });

    it('hands the order decider lines it accepts, even at the maximum total', () => {
      const cart = spec.given([
        opened,
        itemAdded('a', 3, (MAX_MINOR_UNITS - 1) / 3),
        itemAdded('b', 1, 1),
        checkedOut,
      ]).state;
      expect(cartTotal(cart)).toBe(MAX_MINOR_UNITS);
      const placed = orderDecider.decide(
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
      expect(placed).toMatchObject([{ type: 'OrderPlaced', data: { total: MAX_MINOR_UNITS } }]);
    });
  });

  describe('RepriceCart', () => {
    it('takes the catalog’s new price for each line whose price moved, and only those', () => {
      spec
        .given([opened, itemAdded('a', 1, 100), itemAdded('b', 2, 50)])
        .when(reprice(offered('a', 'Item a', 90), offered('b', 'Item b', 50)))
        .then([repriced('a', 90)]);
    });

    it('changes nothing when the prices are still the catalog’s (no event)', () => {
      spec
        .given([opened, itemAdded('a', 1, 100)])
        .when(reprice(offered('a', 'Item a', 100)))
        .then([]);
    });

    it('refuses while a line is no longer sold: PRODUCTS_NOT_AVAILABLE (remove it first)', () => {
      const error = spec
        .given([opened, itemAdded('a', 1, 100), itemAdded('b', 1, 5)])
        .when(reprice(offered('a', 'Item a', 90), withdrawn('b')))
        .thenThrows('PRODUCTS_NOT_AVAILABLE', 'invalid');
      expect(error.details).toEqual({
        changes: [{ sku: 'b', unitPrice: 5, currentPrice: null, reason: 'withdrawn' }],
      });
    });

    it('lets the checkout through at the new prices', () => {
      const given = spec.given([opened, itemAdded('a', 3, 100), repriced('a', 90)]);
      expect(given.state.lines).toEqual([{ sku: 'a', name: 'Item a', quantity: 3, unitPrice: 90 }]);
      given
        .when(checkOut('order-7', [offered('a', 'Item a', 90)]))
        .then([{ type: 'CartCheckedOut', data: { orderId: 'order-7' } }]);
    });

    it('refuses new prices that take the total past the maximum: INVALID_AMOUNT', () => {
      spec
        .given([opened, itemAdded('a', 10, 1)])
        .when(reprice(offered('a', 'Item a', MAX_MINOR_UNITS)))
        .thenThrows('INVALID_AMOUNT', 'invalid');
    });

    it.each(closedCarts)('refuses a %s cart: CART_CLOSED', (_status, events) => {
      spec
        .given(events)
        .when(reprice(offered('a', 'Item a', 1)))
        .thenThrows('CART_CLOSED', 'conflict');
    });
  });

  describe('AbandonCart', () => {
    it('abandons an open cart, carrying the reason', () => {
      spec
        .given([opened, itemAdded('a')])
        .when(abandon('changed my mind'))
        .then([{ type: 'CartAbandoned', data: { reason: 'changed my mind' } }]);
      spec.given([opened]).when(abandon(null)).then([abandoned]);
    });

    it('refuses a cart already abandoned or checked out: CART_CLOSED', () => {
      const error = spec
        .given([opened, abandoned])
        .when(abandon('again'))
        .thenThrows('CART_CLOSED', 'conflict');
      expect(error.details).toEqual({ status: 'abandoned' });
      spec
        .given([opened, itemAdded('a'), checkedOut])
        .when(abandon())
        .thenThrows('CART_CLOSED', 'conflict');
    });

    it('refuses a cart that was never opened: CART_NOT_FOUND', () => {
      spec.given([]).when(abandon()).thenThrows('CART_NOT_FOUND', 'not-found');
    });
  });

  describe('evolve', () => {
    it('starts from an empty, unopened cart', () => {
      spec.given([]).thenState(initialCartState);
      expect(cartTotal(initialCartState)).toBe(0);
    });

    it('folds a sequence into lines kept in first-added order', () => {
      const events = [
        opened,
        itemAdded('a', 2, 500, 'Apple'),
        itemAdded('b', 1, 250, 'Banana'),
        itemAdded('a', 3, 500, 'Apple'),
        quantityChanged('b', 4),
        itemAdded('c', 1, 1999, 'Cherry'),
        removed('a'),
        itemAdded('a', 1, 450, 'Apple'),
      ];
      const expected: CartState = {
        status: 'open',
        cartId: 'cart-1',
        customerId: 'customer-1',
        currency: 'EUR',
        lines: [
          { sku: 'b', name: 'Banana', quantity: 4, unitPrice: 250 },
          { sku: 'c', name: 'Cherry', quantity: 1, unitPrice: 1999 },
          { sku: 'a', name: 'Apple', quantity: 1, unitPrice: 450 },
        ],
        orderId: null,
      };
      const given = spec.given(events);
      given.thenState(expected);
      expect(cartTotal(given.state)).toBe(4 * 250 + 1999 + 450);

      given
        .when(checkOut('order-7', offersAsInCart(expected)))
        .thenState({ ...expected, status: 'checked-out', orderId: 'order-7' });
      given.when(abandon('too dear')).thenState({ ...expected, status: 'abandoned' });
    });

    it('keeps the first name of a line when the sku is re-added', () => {
      expect(
        spec.given([opened, itemAdded('a', 1, 100, 'Old'), itemAdded('a', 1, 100, 'New')]).state.lines,
      ).toEqual([{ sku: 'a', name: 'Old', quantity: 2, unitPrice: 100 }]);
    });

    it('computes the total as the sum of quantity × unit price', () => {
      const state = spec.given([
        opened,
        itemAdded('a', 3, 333),
        itemAdded('b', 999, 1),
        itemAdded('c', 5, 0),
      ]).state;
      expect(cartTotal(state)).toBe(3 * 333 + 999);
    });
  });
});
