import type { CartEvent } from '../../src/carts/domain/cart.events.js';
import type { OrderEvent } from '../../src/orders/domain/order.events.js';
import { cartsProjection } from '../../src/carts/read-model/carts.projection.js';
import { orderSearchProjection } from '../../src/orders/read-model/order-search.projection.js';
import { orderTimelineProjection, summarize } from '../../src/orders/read-model/order-timeline.projection.js';
import { ordersProjection } from '../../src/orders/read-model/orders.projection.js';
import { projected, projectionSpec } from '../support/projection-spec.js';

const CART = '11111111-1111-4111-8111-111111111111';
const ORDER = '22222222-2222-4222-8222-222222222222';
const cart = (revision: number, event: CartEvent) => projected(`cart-${CART}`, revision, event);
const order = (revision: number, event: OrderEvent) => projected(`order-${ORDER}`, revision, event);

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId: ORDER,
    cartId: CART,
    customerId: 'c-1',
    currency: 'EUR',
    total: 1250,
    lines: [
      { sku: 'a', name: 'Apple', quantity: 2, unitPrice: 500, lineTotal: 1000 },
      { sku: 'b', name: 'Banana', quantity: 1, unitPrice: 250, lineTotal: 250 },
    ],
  },
};

describe('carts projection', () => {
  it('folds a cart into the same view the strong read gives', () => {
    projectionSpec(cartsProjection)
      .given([
        cart(0, { type: 'CartOpened', data: { cartId: CART, customerId: 'c-1', currency: 'EUR' } }),
        cart(1, { type: 'ItemAdded', data: { sku: 'a', name: 'Apple', quantity: 2, unitPrice: 500 } }),
        cart(2, { type: 'ItemAdded', data: { sku: 'b', name: 'Banana', quantity: 1, unitPrice: 250 } }),
        cart(3, { type: 'ItemAdded', data: { sku: 'a', name: 'Apple', quantity: 1, unitPrice: 500 } }),
        cart(4, { type: 'ItemQuantityChanged', data: { sku: 'b', quantity: 4 } }),
        cart(5, { type: 'ItemRemoved', data: { sku: 'a' } }),
        cart(6, { type: 'CartCheckedOut', data: { orderId: ORDER } }),
      ])
      .then({
        id: CART,
        customerId: 'c-1',
        currency: 'EUR',
        status: 'checked-out',
        lines: [{ sku: 'b', name: 'Banana', quantity: 4, unitPrice: 250, lineTotal: 1000 }],
        total: 1000,
        orderId: ORDER,
      });
  });

  it('records an abandoned cart', () => {
    const doc = projectionSpec(cartsProjection).given([
      cart(0, { type: 'CartOpened', data: { cartId: CART, customerId: 'c-1', currency: 'JPY' } }),
      cart(1, { type: 'CartAbandoned', data: { reason: 'changed my mind' } }),
    ]).document;
    expect(doc).toMatchObject({ status: 'abandoned', currency: 'JPY', lines: [], total: 0 });
  });
});

describe('orders projection', () => {
  it('follows an order through payment, shipping, delivery and a refund', () => {
    projectionSpec(ordersProjection)
      .given([
        order(0, placed),
        order(1, { type: 'OrderPaid', data: { paymentId: 'pay-1', amount: 1250 } }),
        order(2, { type: 'OrderShipped', data: { carrier: 'DHL', trackingNumber: 'T-1' } }),
        order(3, { type: 'OrderDelivered', data: {} }),
        order(4, { type: 'OrderRefunded', data: { amount: 250 } }),
      ])
      .then({
        id: ORDER,
        cartId: CART,
        customerId: 'c-1',
        currency: 'EUR',
        status: 'delivered',
        lines: placed.type === 'OrderPlaced' ? placed.data.lines : [],
        total: 1250,
        paid: 1250,
        refunded: 250,
        refundDue: 0,
        refundsSettled: 0,
        paymentId: 'pay-1',
        paymentExceptions: [],
        failedPayments: 0,
        shipment: { carrier: 'DHL', trackingNumber: 'T-1' },
        cancellationReason: null,
      });
  });
});

describe('order_search projection', () => {
  it('keeps the filterable fields, with created and updated instants from the store', () => {
    const created = new Date('2026-05-02T14:03:00.000Z');
    const paidAt = new Date('2026-05-02T15:00:00.123Z');
    projectionSpec(orderSearchProjection)
      .given([
        projected(`order-${ORDER}`, 0, placed, created),
        projected(`order-${ORDER}`, 1, { type: 'OrderPaid', data: { paymentId: 'p', amount: 1250 } }, paidAt),
      ])
      .then({
        orderId: ORDER,
        customerId: 'c-1',
        status: 'paid',
        currency: 'EUR',
        total: 1250,
        skus: ['a', 'b'],
        createdAt: '2026-05-02T14:03:00.000Z',
        updatedAt: '2026-05-02T15:00:00.123Z',
        paid: 1250,
        refunded: 0,
        refund: 'none',
        paymentException: false,
      });
  });

  it('says when a refund is due (a cancelled order paid) and when it is done', () => {
    const at = new Date('2026-05-02T14:03:00.000Z');
    const stream = `order-${ORDER}`;
    const paidEvent: OrderEvent = { type: 'OrderPaid', data: { paymentId: 'p', amount: 1250 } };
    const cancelledEvent: OrderEvent = { type: 'OrderCancelled', data: { reason: 'no' } };
    const events = [
      projected(stream, 0, placed, at),
      projected(stream, 1, paidEvent, at),
      projected(stream, 2, cancelledEvent, at),
    ];
    const refundedEvent: OrderEvent = { type: 'OrderRefunded', data: { amount: 1250 } };
    projectionSpec(orderSearchProjection)
      .given(events)
      .then(expect.objectContaining({ status: 'cancelled', refund: 'due', paid: 1250 }));
    projectionSpec(orderSearchProjection)
      .given([...events, projected(stream, 3, refundedEvent, at)])
      .then(expect.objectContaining({ refund: 'done', refunded: 1250 }));
  });

  it('flags a payment exception', () => {
    const at = new Date('2026-05-02T14:03:00.000Z');
    const exception = {
      type: 'PaymentExceptionRecorded',
      data: { paymentId: 'p', amount: 1, currency: 'EUR', reason: 'amount-mismatch' },
    } as const;
    projectionSpec(orderSearchProjection)
      .given([projected(`order-${ORDER}`, 0, placed, at), projected(`order-${ORDER}`, 1, exception, at)])
      .then(expect.objectContaining({ status: 'placed', paymentException: true, refund: 'none' }));
  });

  it('refuses an order event without its OrderPlaced (the runtime never lets that happen)', () => {
    expect(() =>
      projectionSpec(orderSearchProjection).given([order(0, { type: 'OrderDelivered', data: {} })]),
    ).toThrow('OrderDelivered before OrderPlaced');
  });
});

describe('order_timeline projection', () => {
  it('writes one human-readable entry per event, naming the customer of the order', () => {
    const at = new Date('2026-05-02T14:03:00.000Z');
    projectionSpec(orderTimelineProjection)
      .given([
        projected(`order-${ORDER}`, 0, placed, at),
        projected(`order-${ORDER}`, 1, { type: 'OrderCancelled', data: { reason: 'too slow' } }, at, {
          actor: 'operator-7',
        }),
      ])
      .thenEntries([
        {
          orderId: ORDER,
          customerId: 'c-1',
          type: 'OrderPlaced',
          summary: 'Order placed: 2 line(s), 3 unit(s), total 12.50 EUR',
          at: '2026-05-02T14:03:00.000Z',
          revision: 0,
          actor: 'c-1',
        },
        {
          orderId: ORDER,
          customerId: 'c-1',
          type: 'OrderCancelled',
          summary: 'Cancelled: too slow',
          at: '2026-05-02T14:03:00.000Z',
          revision: 1,
          actor: 'operator-7',
        },
      ]);
  });

  it('prints amounts in the currency’s own minor unit', () => {
    expect(summarize({ type: 'OrderRefunded', data: { amount: 1500 } }, 'JPY')).toBe('Refunded 1500 JPY');
    expect(summarize({ type: 'OrderPaid', data: { paymentId: 'p', amount: 12345 } }, 'KWD')).toBe(
      'Paid 12.345 KWD (payment p)',
    );
    expect(summarize({ type: 'OrderPaid', data: { paymentId: 'p', amount: 5 } }, 'EUR')).toBe(
      'Paid 0.05 EUR (payment p)',
    );
  });
});
