import fc from 'fast-check';
import { cartView, type CartView } from '../../src/carts/read-model/cart.view.js';
import { orderView, type OrderView } from '../../src/orders/read-model/order.view.js';
import { applyDiff, DiffMismatchError, diffViews, sameJson } from '../../src/audit/application/view-diff.js';
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
