import type { OrderCommand, PlaceOrder } from '../../src/orders/domain/order.commands.js';
import { initialOrderState, orderDecider } from '../../src/orders/domain/order.decider.js';
import type { OrderEvent, OrderLine } from '../../src/orders/domain/order.events.js';
import type { OrderState } from '../../src/orders/domain/order.state.js';
import { MAX_MINOR_UNITS } from '../../src/shared/domain/index.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(orderDecider);

type Line = PlaceOrder['data']['lines'][number];
const LINES: Line[] = [
  { sku: 'a', name: 'Apple', quantity: 2, unitPrice: 500 },
  { sku: 'b', name: 'Banana', quantity: 1, unitPrice: 250 },
];
const TOTAL = 2 * 500 + 250;

const placeOrder = (lines: Line[] = LINES, currency = 'EUR'): OrderCommand => ({
  type: 'PlaceOrder',
  data: { orderId: 'order-1', cartId: 'cart-1', customerId: 'customer-1', currency, lines },
});
const pay = (amount = TOTAL, paymentId = 'pay-1', currency = 'EUR'): OrderCommand => ({
  type: 'RecordPayment',
  data: { paymentId, amount, currency },
});
const refundBalance: OrderCommand = { type: 'RefundBalance', data: {} };
const ship: OrderCommand = { type: 'ShipOrder', data: { carrier: 'DHL', trackingNumber: 'TRK-1' } };
const deliver: OrderCommand = { type: 'DeliverOrder', data: {} };
const cancel = (reason = 'customer request'): OrderCommand => ({ type: 'CancelOrder', data: { reason } });
const refund = (amount: number): OrderCommand => ({ type: 'RefundOrder', data: { amount } });

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId: 'order-1',
    cartId: 'cart-1',
    customerId: 'customer-1',
    currency: 'EUR',
    lines: [
      { sku: 'a', name: 'Apple', quantity: 2, unitPrice: 500, lineTotal: 1000 },
      { sku: 'b', name: 'Banana', quantity: 1, unitPrice: 250, lineTotal: 250 },
    ],
    total: TOTAL,
  },
};
const placedWith = (lines: OrderLine[], total: number): OrderEvent => ({
  type: 'OrderPlaced',
  data: { orderId: 'order-1', cartId: 'cart-1', customerId: 'customer-1', currency: 'EUR', lines, total },
});
const paid: OrderEvent = { type: 'OrderPaid', data: { paymentId: 'pay-1', amount: TOTAL } };
const shipped: OrderEvent = { type: 'OrderShipped', data: { carrier: 'DHL', trackingNumber: 'TRK-1' } };
const delivered: OrderEvent = { type: 'OrderDelivered', data: {} };
const cancelled = (reason = 'customer request'): OrderEvent => ({ type: 'OrderCancelled', data: { reason } });
const refunded = (amount: number): OrderEvent => ({ type: 'OrderRefunded', data: { amount } });

/** The order's history at each stage of its life. */
const history = {
  placed: [placed],
  paid: [placed, paid],
  shipped: [placed, paid, shipped],
  delivered: [placed, paid, shipped, delivered],
  'cancelled before payment': [placed, cancelled()],
  'cancelled after payment': [placed, paid, cancelled()],
} satisfies Record<string, OrderEvent[]>;
type Stage = keyof typeof history;
const stages = (...names: Stage[]): [Stage, OrderEvent[]][] => names.map((name) => [name, history[name]]);

describe('order decider', () => {
  describe('PlaceOrder', () => {
    it('places an order, computing each line total and the order total', () => {
      spec.given([]).when(placeOrder()).then([placed]);
    });

    it('accepts an order of free items (total 0) and one at exactly the maximum total', () => {
      spec
        .given([])
        .when(placeOrder([{ sku: 'f', name: 'Free', quantity: 3, unitPrice: 0 }]))
        .then([placedWith([{ sku: 'f', name: 'Free', quantity: 3, unitPrice: 0, lineTotal: 0 }], 0)]);
      const quarter = MAX_MINOR_UNITS / 4;
      spec
        .given([])
        .when(
          placeOrder([
            { sku: 'a', name: 'A', quantity: 4, unitPrice: quarter - 1 },
            { sku: 'b', name: 'B', quantity: 1, unitPrice: 4 },
          ]),
        )
        .then([
          placedWith(
            [
              { sku: 'a', name: 'A', quantity: 4, unitPrice: quarter - 1, lineTotal: MAX_MINOR_UNITS - 4 },
              { sku: 'b', name: 'B', quantity: 1, unitPrice: 4, lineTotal: 4 },
            ],
            MAX_MINOR_UNITS,
          ),
        ]);
    });

    it.each([
      ['quantity 0', { sku: 'a', name: 'A', quantity: 0, unitPrice: 1 }, 'INVALID_ORDER_LINE'],
      ['quantity 1000', { sku: 'a', name: 'A', quantity: 1000, unitPrice: 1 }, 'INVALID_ORDER_LINE'],
      ['fractional quantity', { sku: 'a', name: 'A', quantity: 1.5, unitPrice: 1 }, 'INVALID_ORDER_LINE'],
      ['empty sku', { sku: '', name: 'A', quantity: 1, unitPrice: 1 }, 'INVALID_ORDER_LINE'],
      ['negative price', { sku: 'a', name: 'A', quantity: 1, unitPrice: -5 }, 'INVALID_AMOUNT'],
      ['fractional price', { sku: 'a', name: 'A', quantity: 1, unitPrice: 0.5 }, 'INVALID_AMOUNT'],
    ] as const)('refuses a line with %s: %s', (_what, line, code) => {
      spec
        .given([])
        .when(placeOrder([{ sku: 'b', name: 'B', quantity: 1, unitPrice: 10_000 }, { ...line }]))
        .thenThrows(code, 'invalid');
    });

    it.each(stages('placed', 'paid', 'delivered', 'cancelled before payment'))(
      'refuses to place an order that is already %s: ORDER_ALREADY_PLACED',
      (_stage, events) => {
        spec.given(events).when(placeOrder()).thenThrows('ORDER_ALREADY_PLACED', 'conflict');
      },
    );

    it('refuses an order without lines: ORDER_EMPTY', () => {
      spec.given([]).when(placeOrder([])).thenThrows('ORDER_EMPTY', 'invalid');
    });

    it.each(['eur', 'EURO', '', 'E$R'])('refuses the currency %j: INVALID_CURRENCY', (currency) => {
      spec.given([]).when(placeOrder(LINES, currency)).thenThrows('INVALID_CURRENCY', 'invalid');
    });

    it('refuses a total above the maximum: INVALID_AMOUNT', () => {
      const error = spec
        .given([])
        .when(
          placeOrder([
            { sku: 'a', name: 'A', quantity: 1, unitPrice: MAX_MINOR_UNITS },
            { sku: 'b', name: 'B', quantity: 1, unitPrice: 1 },
          ]),
        )
        .thenThrows('INVALID_AMOUNT', 'invalid');
      expect(error.details).toEqual({ field: 'total' });
      spec
        .given([])
        .when(placeOrder([{ sku: 'a', name: 'A', quantity: 999, unitPrice: MAX_MINOR_UNITS }]))
        .thenThrows('INVALID_AMOUNT', 'invalid');
    });
  });

  describe('RecordPayment', () => {
    it('pays a placed order with exactly its total', () => {
      spec.given([placed]).when(pay()).then([paid]);
    });

    it('refuses an order that was never placed: ORDER_NOT_FOUND', () => {
      spec.given([]).when(pay()).thenThrows('ORDER_NOT_FOUND', 'not-found');
    });

    it.each([TOTAL - 1, TOTAL + 1])(
      'records another amount (%p) as a payment exception, never as paid',
      (amount) => {
        spec
          .given([placed])
          .when(pay(amount, 'pay-x'))
          .then([
            {
              type: 'PaymentExceptionRecorded',
              data: { paymentId: 'pay-x', amount, currency: 'EUR', reason: 'amount-mismatch' },
            },
          ]);
      },
    );

    it('records another currency as a payment exception', () => {
      spec
        .given([placed])
        .when(pay(TOTAL, 'pay-usd', 'USD'))
        .then([
          {
            type: 'PaymentExceptionRecorded',
            data: { paymentId: 'pay-usd', amount: TOTAL, currency: 'USD', reason: 'currency-mismatch' },
          },
        ]);
    });

    it.each([-1, 0, 1249.5, MAX_MINOR_UNITS + 1])(
      'refuses the malformed amount %p: INVALID_AMOUNT',
      (amount) => {
        spec.given([placed]).when(pay(amount)).thenThrows('INVALID_AMOUNT', 'invalid');
      },
    );

    it.each(stages('paid', 'shipped', 'delivered'))(
      'records a second capture of an order already %s as a payment exception',
      (_stage, events) => {
        spec
          .given(events)
          .when(pay(TOTAL, 'pay-2'))
          .then([
            {
              type: 'PaymentExceptionRecorded',
              data: { paymentId: 'pay-2', amount: TOTAL, currency: 'EUR', reason: 'already-paid' },
            },
          ]);
      },
    );

    it.each(stages('cancelled before payment', 'cancelled after payment'))(
      'records money captured for an order %s as paid (the refund process gives it back)',
      (_stage, events) => {
        const given = spec.given(events);
        given
          .when(pay(TOTAL, 'pay-late'))
          .then([{ type: 'OrderPaid', data: { paymentId: 'pay-late', amount: TOTAL } }]);
        const after = spec.given([
          ...events,
          { type: 'OrderPaid', data: { paymentId: 'pay-late', amount: TOTAL } },
        ]);
        expect(after.state.status).toBe('cancelled');
        expect(after.state.paid).toBe(given.state.paid + TOTAL);
      },
    );

    it('records a failed attempt without changing the order', () => {
      const failure: OrderCommand = {
        type: 'RecordPaymentFailure',
        data: { paymentId: 'p', reason: 'declined' },
      };
      spec
        .given([placed])
        .when(failure)
        .then([{ type: 'PaymentFailed', data: { paymentId: 'p', reason: 'declined' } }]);
      const after = spec.given([
        placed,
        { type: 'PaymentFailed', data: { paymentId: 'p', reason: 'declined' } },
      ]);
      expect(after.state).toMatchObject({ status: 'placed', paid: 0, failedPayments: 1 });
    });
  });

  describe('RecordRefundSettlement', () => {
    const settle = (amount: number, currency = 'EUR'): OrderCommand => ({
      type: 'RecordRefundSettlement',
      data: { paymentId: 'pay-1', amount, currency },
    });

    it('records a refund the shop made as settled by the provider', () => {
      spec
        .given([...history.paid, refunded(300)])
        .when(settle(300))
        .then([{ type: 'RefundSettled', data: { paymentId: 'pay-1', amount: 300 } }]);
    });

    it('records a settlement of more than the shop refunded as a payment exception', () => {
      spec
        .given([...history.paid, refunded(300)])
        .when(settle(301))
        .then([
          {
            type: 'PaymentExceptionRecorded',
            data: { paymentId: 'pay-1', amount: 301, currency: 'EUR', reason: 'refund-not-made' },
          },
        ]);
    });

    it('records a settlement in another currency as a payment exception', () => {
      spec
        .given([...history.paid, refunded(300)])
        .when(settle(300, 'USD'))
        .then([
          {
            type: 'PaymentExceptionRecorded',
            data: { paymentId: 'pay-1', amount: 300, currency: 'USD', reason: 'currency-mismatch' },
          },
        ]);
    });
  });

  describe('RefundBalance', () => {
    it('refunds everything a cancelled order was paid', () => {
      spec
        .given(history['cancelled after payment'])
        .when(refundBalance)
        .then([refunded(TOTAL)]);
    });

    it('refunds only what earlier refunds left', () => {
      spec
        .given([...history['cancelled after payment'], refunded(200)])
        .when(refundBalance)
        .then([refunded(TOTAL - 200)]);
    });

    it('refunds a capture that reached an order already cancelled', () => {
      spec
        .given([...history['cancelled before payment'], paid])
        .when(refundBalance)
        .then([refunded(TOTAL)]);
    });

    it.each(stages('placed', 'paid', 'shipped', 'delivered', 'cancelled before payment'))(
      'finds nothing due on an order %s (no event)',
      (_stage, events) => {
        spec.given(events).when(refundBalance).then([]);
      },
    );

    it('finds nothing due once the balance was refunded (a redelivery decides nothing)', () => {
      spec
        .given([...history['cancelled after payment'], refunded(TOTAL)])
        .when(refundBalance)
        .then([]);
    });

    it('refuses an order that was never placed: ORDER_NOT_FOUND', () => {
      spec.given([]).when(refundBalance).thenThrows('ORDER_NOT_FOUND', 'not-found');
    });
  });

  describe('ShipOrder', () => {
    it('ships a paid order with its carrier and tracking number', () => {
      spec.given([placed, paid]).when(ship).then([shipped]);
    });

    it('refuses an order that was never placed: ORDER_NOT_FOUND', () => {
      spec.given([]).when(ship).thenThrows('ORDER_NOT_FOUND', 'not-found');
    });

    it('refuses an unpaid order: ORDER_NOT_PAID', () => {
      const error = spec.given([placed]).when(ship).thenThrows('ORDER_NOT_PAID', 'conflict');
      expect(error.details).toEqual({ status: 'placed' });
    });

    it.each(stages('shipped', 'delivered'))(
      'refuses an order that is already %s: ORDER_ALREADY_SHIPPED',
      (stage, events) => {
        const error = spec.given(events).when(ship).thenThrows('ORDER_ALREADY_SHIPPED', 'conflict');
        expect(error.details).toEqual({ status: stage });
      },
    );

    it.each(stages('cancelled before payment', 'cancelled after payment'))(
      'refuses an order %s: ORDER_CANCELLED',
      (_stage, events) => {
        spec.given(events).when(ship).thenThrows('ORDER_CANCELLED', 'conflict');
      },
    );
  });

  describe('DeliverOrder', () => {
    it('delivers a shipped order', () => {
      spec.given([placed, paid, shipped]).when(deliver).then([delivered]);
    });

    it('refuses an order that was never placed: ORDER_NOT_FOUND', () => {
      spec.given([]).when(deliver).thenThrows('ORDER_NOT_FOUND', 'not-found');
    });

    it.each(stages('placed', 'paid'))(
      'refuses an order that is only %s: ORDER_NOT_SHIPPED',
      (stage, events) => {
        const error = spec.given(events).when(deliver).thenThrows('ORDER_NOT_SHIPPED', 'conflict');
        expect(error.details).toEqual({ status: stage });
      },
    );

    it('refuses an order already delivered: ORDER_ALREADY_DELIVERED', () => {
      spec.given(history.delivered).when(deliver).thenThrows('ORDER_ALREADY_DELIVERED', 'conflict');
    });

    it.each(stages('cancelled before payment', 'cancelled after payment'))(
      'refuses an order %s: ORDER_CANCELLED',
      (_stage, events) => {
        spec.given(events).when(deliver).thenThrows('ORDER_CANCELLED', 'conflict');
      },
    );
  });

  describe('CancelOrder', () => {
    it.each(stages('placed', 'paid'))(
      'cancels an order that is %s, carrying the reason',
      (_stage, events) => {
        spec
          .given(events)
          .when(cancel('out of stock'))
          .then([cancelled('out of stock')]);
      },
    );

    it('refuses an order that was never placed: ORDER_NOT_FOUND', () => {
      spec.given([]).when(cancel()).thenThrows('ORDER_NOT_FOUND', 'not-found');
    });

    it('refuses a shipped order: ORDER_ALREADY_SHIPPED', () => {
      spec.given(history.shipped).when(cancel()).thenThrows('ORDER_ALREADY_SHIPPED', 'conflict');
    });

    it('refuses a delivered order: ORDER_ALREADY_DELIVERED', () => {
      spec.given(history.delivered).when(cancel()).thenThrows('ORDER_ALREADY_DELIVERED', 'conflict');
    });

    it.each(stages('cancelled before payment', 'cancelled after payment'))(
      'refuses an order %s: ORDER_CANCELLED',
      (_stage, events) => {
        spec.given(events).when(cancel('again')).thenThrows('ORDER_CANCELLED', 'conflict');
      },
    );
  });

  describe('RefundOrder', () => {
    it.each(stages('paid', 'shipped', 'delivered', 'cancelled after payment'))(
      'refunds an order that is %s',
      (_stage, events) => {
        spec
          .given(events)
          .when(refund(TOTAL))
          .then([refunded(TOTAL)]);
      },
    );

    it('refuses an order that was never placed: ORDER_NOT_FOUND', () => {
      spec.given([]).when(refund(1)).thenThrows('ORDER_NOT_FOUND', 'not-found');
    });

    it.each(stages('placed', 'cancelled before payment'))(
      'refuses an order %s and never paid: ORDER_NOT_PAID',
      (_stage, events) => {
        spec.given(events).when(refund(1)).thenThrows('ORDER_NOT_PAID', 'conflict');
      },
    );

    it.each([0, -5, 12.5, MAX_MINOR_UNITS + 1])('refuses the amount %p: INVALID_AMOUNT', (amount) => {
      const error = spec.given(history.paid).when(refund(amount)).thenThrows('INVALID_AMOUNT', 'invalid');
      expect(error.details).toEqual({ field: 'amount' });
    });

    it('refuses more than was paid: REFUND_EXCEEDS_PAID', () => {
      const error = spec
        .given(history.paid)
        .when(refund(TOTAL + 1))
        .thenThrows('REFUND_EXCEEDS_PAID', 'conflict');
      expect(error.details).toEqual({ maxRefundable: TOTAL });
    });

    it('refuses more than what earlier partial refunds left: REFUND_EXCEEDS_PAID', () => {
      const given = spec.given([...history.paid, refunded(1000)]);
      const error = given.when(refund(251)).thenThrows('REFUND_EXCEEDS_PAID', 'conflict');
      expect(error.details).toEqual({ maxRefundable: 250 });
      given.when(refund(250)).then([refunded(250)]);
    });

    it('allows several partial refunds that sum to exactly the amount paid, and nothing after', () => {
      const given = spec.given([...history.paid, refunded(600), refunded(400)]);
      given.when(refund(250)).thenState({ ...given.state, refunded: TOTAL });
      const error = spec
        .given([...history.paid, refunded(600), refunded(400), refunded(250)])
        .when(refund(1))
        .thenThrows('REFUND_EXCEEDS_PAID', 'conflict');
      expect(error.details).toEqual({ maxRefundable: 0 });
    });

    it('keeps the status when refunding: a refund is money back, not a state change', () => {
      const state = spec.given([...history.shipped, refunded(100)]).state;
      expect(state).toMatchObject({ status: 'shipped', paid: TOTAL, refunded: 100 });
    });
  });

  describe('evolve', () => {
    it('starts from an empty, unplaced order', () => {
      spec.given([]).thenState(initialOrderState);
    });

    it('follows the journey placed → paid → shipped → delivered', () => {
      const atPlaced: OrderState = {
        status: 'placed',
        orderId: 'order-1',
        cartId: 'cart-1',
        customerId: 'customer-1',
        currency: 'EUR',
        lines: [
          { sku: 'a', name: 'Apple', quantity: 2, unitPrice: 500, lineTotal: 1000 },
          { sku: 'b', name: 'Banana', quantity: 1, unitPrice: 250, lineTotal: 250 },
        ],
        total: TOTAL,
        paid: 0,
        refunded: 0,
        refundsSettled: 0,
        paymentId: null,
        paymentExceptions: [],
        failedPayments: 0,
        shipment: null,
        cancellationReason: null,
      };
      const atPaid: OrderState = { ...atPlaced, status: 'paid', paid: TOTAL, paymentId: 'pay-1' };
      const atShipped: OrderState = {
        ...atPaid,
        status: 'shipped',
        shipment: { carrier: 'DHL', trackingNumber: 'TRK-1' },
      };
      const atDelivered: OrderState = { ...atShipped, status: 'delivered' };

      spec.given([]).when(placeOrder()).thenState(atPlaced);
      spec.given(history.placed).when(pay()).thenState(atPaid);
      spec.given(history.paid).when(ship).thenState(atShipped);
      spec.given(history.shipped).when(deliver).thenState(atDelivered);
      spec.given(history.delivered).thenState(atDelivered);
    });

    it('runs the whole journey from commands alone', () => {
      const commands: OrderCommand[] = [placeOrder(), pay(), ship, deliver, refund(300), refund(TOTAL - 300)];
      const state = commands.reduce(
        (current, command) => orderDecider.decide(command, current).reduce(orderDecider.evolve, current),
        orderDecider.initialState,
      );
      expect(state).toMatchObject({ status: 'delivered', total: TOTAL, paid: TOTAL, refunded: TOTAL });
    });

    it('records the cancellation reason and keeps what was paid', () => {
      spec.given([...history.paid, cancelled('fraud')]).thenState({
        ...spec.given(history.paid).state,
        status: 'cancelled',
        cancellationReason: 'fraud',
      });
    });
  });
});
