import fc from 'fast-check';
import { cartView, type CartView } from '../../src/carts/read-model/cart.view.js';
import { orderView, type OrderView } from '../../src/orders/read-model/order.view.js';
import { applyDiff, DiffMismatchError, diffViews, sameJson } from '../../src/audit/application/view-diff.js';
import type { ProductCommand } from '../../src/catalog/domain/product.commands.js';
import { productDecider } from '../../src/catalog/domain/product.decider.js';
import type { ProductState } from '../../src/catalog/domain/product.state.js';
import { productStateView, type ProductStateView } from '../../src/catalog/read-model/product.view.js';
import { DomainError } from '../../src/shared/domain/index.js';
import { cartHistory, orderHistory, stepsArb } from '../support/generated-history.js';

const CART_ID = '0b9f3f7e-8a61-4d3e-9a55-1c2b3d4e5f60';
const ORDER_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** Every view of a generated cart, by revision. */
function cartViews(steps: Parameters<typeof cartHistory>[0]): CartView[] {
  return cartHistory(steps, { cartId: CART_ID }).states.map((state) => cartView(CART_ID, state));
}

function orderViews(steps: Parameters<typeof orderHistory>[0]): OrderView[] {
  return orderHistory(steps, { orderId: ORDER_ID }).states.map((state) => orderView(ORDER_ID, state));
}

/** Two revisions of a history, in either order. */
const pairArb = fc.tuple(fc.nat(), fc.nat());

describe('diff round trip: applyDiff(from, diffViews(from, to)) is exactly to', () => {
  it('for any two revisions of generated carts', () => {
    fc.assert(
      fc.property(stepsArb(0, 60), pairArb, (steps, [i, j]) => {
        const views = cartViews(steps);
        const from = views[i % views.length]!;
        const to = views[j % views.length]!;
        const diff = diffViews(from, to);
        expect(applyDiff(from, diff)).toStrictEqual(to);
        // A diff survives the trip through JSON (what the HTTP answer is).
        expect(applyDiff(from, JSON.parse(JSON.stringify(diff)))).toStrictEqual(to);
      }),
      { numRuns: 500 },
    );
  });

  it('for any two revisions of generated orders', () => {
    fc.assert(
      fc.property(stepsArb(0, 40), pairArb, (steps, [i, j]) => {
        const views = orderViews(steps);
        const from = views[i % views.length]!;
        const to = views[j % views.length]!;
        expect(applyDiff(from, diffViews(from, to))).toStrictEqual(to);
      }),
      { numRuns: 500 },
    );
  });

  it('an empty diff for the same view, and a non-empty one for any two different views', () => {
    fc.assert(
      fc.property(stepsArb(0, 40), pairArb, (steps, [i, j]) => {
        const views = cartViews(steps);
        const from = views[i % views.length]!;
        const to = views[j % views.length]!;
        const diff = diffViews(from, to);
        const empty =
          diff.fields.length === 0 &&
          diff.lines.added.length === 0 &&
          diff.lines.removed.length === 0 &&
          diff.lines.changed.length === 0 &&
          diff.lines.order === undefined;
        expect(empty).toBe(sameJson(from, to));
      }),
    );
  });
});

describe('diffViews', () => {
  const base: CartView = {
    id: CART_ID,
    customerId: 'c-1',
    currency: 'EUR',
    status: 'open',
    lines: [
      { sku: 'a', name: 'A', quantity: 1, unitPrice: 100, lineTotal: 100 },
      { sku: 'b', name: 'B', quantity: 2, unitPrice: 50, lineTotal: 100 },
    ],
    total: 200,
    orderId: null,
  };

  it('reports lines added, removed and changed field by field, status and totals', () => {
    const to: CartView = {
      ...base,
      status: 'checked-out',
      orderId: 'o-1',
      lines: [
        { sku: 'a', name: 'A', quantity: 3, unitPrice: 100, lineTotal: 300 },
        { sku: 'c', name: 'C', quantity: 1, unitPrice: 10, lineTotal: 10 },
      ],
      total: 310,
    };
    expect(diffViews(base, to)).toStrictEqual({
      fields: [
        { field: 'status', from: 'open', to: 'checked-out' },
        { field: 'total', from: 200, to: 310 },
        { field: 'orderId', from: null, to: 'o-1' },
      ],
      lines: {
        added: [{ sku: 'c', name: 'C', quantity: 1, unitPrice: 10, lineTotal: 10 }],
        removed: [{ sku: 'b', name: 'B', quantity: 2, unitPrice: 50, lineTotal: 100 }],
        changed: [
          {
            sku: 'a',
            changes: [
              { field: 'quantity', from: 1, to: 3 },
              { field: 'lineTotal', from: 100, to: 300 },
            ],
          },
        ],
      },
    });
  });

  it('says the new line order when a sku was removed and added again (it moved to the end)', () => {
    const to: CartView = { ...base, lines: [base.lines[1]!, base.lines[0]!] };
    const diff = diffViews(base, to);
    expect(diff.lines).toStrictEqual({ added: [], removed: [], changed: [], order: ['b', 'a'] });
    expect(applyDiff(base, diff)).toStrictEqual(to);
  });

  it('reports an object field (an order shipment) whole', () => {
    const views = orderViews([
      [0, 1, 1],
      [20, 2, 1],
    ]);
    const diff = diffViews(views[1]!, views[2]!);
    expect(diff.fields).toContainEqual({
      field: 'shipment',
      from: null,
      to: { carrier: 'DHL', trackingNumber: 'T-2' },
    });
    expect(diff.fields).toContainEqual({ field: 'status', from: 'paid', to: 'shipped' });
  });

  it('applyDiff refuses a view the diff was not made from', () => {
    const to: CartView = { ...base, total: 999, lines: [...base.lines.slice(1)] };
    const diff = diffViews(base, to);
    expect(() => applyDiff({ ...base, total: 1 }, diff)).toThrow(DiffMismatchError);
    expect(() => applyDiff({ ...base, lines: [base.lines[1]!] }, diff)).toThrow(DiffMismatchError);
  });
});

/** Product commands over a few currencies, amounts and names (many are refused: those change nothing). */
const productCommandArb: fc.Arbitrary<ProductCommand> = fc.oneof(
  fc.record({
    type: fc.constant('ListProduct' as const),
    data: fc.record({
      sku: fc.constant('p-1'),
      name: fc.constantFrom('Kettle', 'Gooseneck kettle', 'Kettle 2'),
      prices: fc.dictionary(fc.constantFrom('EUR', 'USD', 'GBP'), fc.integer({ min: 0, max: 5000 })),
    }),
  }),
  fc.record({
    type: fc.constant('ChangeProductPrices' as const),
    data: fc.record({
      prices: fc.dictionary(
        fc.constantFrom('EUR', 'USD', 'GBP', 'JPY'),
        fc.option(fc.integer({ min: 0, max: 5000 }), { nil: null }),
      ),
    }),
  }),
  fc.record({
    type: fc.constant('WithdrawProduct' as const),
    data: fc.record({ reason: fc.option(fc.constant('gone'), { nil: null }) }),
  }),
);

/** Every view of a product run through the decider, one per event appended. */
function productViews(commands: readonly ProductCommand[]): ProductStateView[] {
  let state: ProductState = productDecider.initialState;
  const views: ProductStateView[] = [];
  for (const command of commands) {
    let events;
    try {
      events = productDecider.decide(command, state);
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    for (const event of events) {
      state = productDecider.evolve(state, event);
      views.push(productStateView('p-1', state));
    }
  }
  return views;
}

describe('views without lines (products)', () => {
  it('any two revisions: fields only (prices whole, no lines), and the diff applies back exactly', () => {
    fc.assert(
      fc.property(fc.array(productCommandArb, { maxLength: 30 }), pairArb, (commands, [i, j]) => {
        const views = productViews(commands);
        fc.pre(views.length > 0);
        const from = views[i % views.length]!;
        const to = views[j % views.length]!;
        const diff = diffViews(from, to);
        expect(Object.keys(diff)).toEqual(['fields']);
        expect(diff.fields.every((change) => ['name', 'status', 'prices'].includes(change.field))).toBe(true);
        expect(diff.fields.length === 0).toBe(sameJson(from, to));
        expect(applyDiff(from, diff)).toStrictEqual(to);
        expect(applyDiff(from, JSON.parse(JSON.stringify(diff)))).toStrictEqual(to);
      }),
      { numRuns: 500 },
    );
  });

  it('reports a price change as the whole prices object, and refuses a view it was not made from', () => {
    const from: ProductStateView = { sku: 'p-1', name: 'Kettle', status: 'listed', prices: { EUR: 100 } };
    const to: ProductStateView = { ...from, prices: { EUR: 90, USD: 110 } };
    const diff = diffViews(from, to);
    expect(diff).toStrictEqual({
      fields: [{ field: 'prices', from: { EUR: 100 }, to: { EUR: 90, USD: 110 } }],
    });
    expect(() => applyDiff({ ...from, prices: { EUR: 1 } }, diff)).toThrow(DiffMismatchError);
  });
});
