import { eventually } from '../support/eventually.js';
import { RefundOnCancellation } from '../../src/orders/refunds/refund-on-cancellation.process-manager.js';
import { placeOrder } from '../support/cart-fixtures.js';
import { payOrder } from '../support/payments.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Money {
  status: string;
  paid: number;
  refunded: number;
  refunds: number;
}

describe('refunds follow cancellations', () => {
  let t: TestApp;
  let shopper: string;
  let operator: string;
  beforeAll(async () => {
    t = await startTestApp();
    shopper = t.bearer('refund-shopper', 'shopper');
    operator = t.bearer('refund-op', 'operator');
  });
  afterAll(async () => {
    await t.close();
  });

  /** What the order's own events say about its money. */
  async function money(orderId: string): Promise<Money> {
    const order = await t.http.get(`/orders/${orderId}?consistency=strong`).set('authorization', operator);
    const refunds = (await t.readStream(`order-${orderId}`)).filter((e) => e.type === 'OrderRefunded').length;
    const { status, paid, refunded } = order.body.data as Money;
    return { status, paid, refunded, refunds };
  }

  const cancel = (orderId: string, reason = 'changed my mind') =>
    t.http.post(`/orders/${orderId}/cancellation`).set('authorization', shopper).send({ reason });

  it('cancelling a paid order refunds what was paid, caused by the cancellation, in its correlation', async () => {
    const { orderId, total } = await placeOrder(t, shopper);
    await payOrder(t.http, orderId, total).expect(200);
    await cancel(orderId).set('x-correlation-id', 'cancel-then-refund-1').expect(200);
    const events = await eventually(
      () => t.readStream(`order-${orderId}`),
      (list) => list.some((e) => e.type === 'OrderRefunded'),
    );
    const cancelled = events.find((e) => e.type === 'OrderCancelled')!;
    const refunded = events.find((e) => e.type === 'OrderRefunded')!;
    expect(refunded.data).toEqual({ amount: total });
    expect(refunded.metadata).toMatchObject({
      causationId: cancelled.id,
      correlationId: 'cancel-then-refund-1',
      actor: 'refund-on-cancellation',
      command: 'RefundBalance',
    });
    expect(await money(orderId)).toEqual({ status: 'cancelled', paid: total, refunded: total, refunds: 1 });
  });

  it('cancelling an unpaid order refunds nothing', async () => {
    const { orderId } = await placeOrder(t, shopper);
    await cancel(orderId).expect(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await money(orderId)).toEqual({ status: 'cancelled', paid: 0, refunded: 0, refunds: 0 });
  });

  it('racing payment against cancellation on 50 orders never leaves money held by a cancelled order', async () => {
    const orders = await Promise.all(Array.from({ length: 50 }, () => placeOrder(t, shopper)));
    await Promise.all(
      orders.map(async ({ orderId, total }) => {
        const [paid, cancelled] = await Promise.all([payOrder(t.http, orderId, total), cancel(orderId)]);
        // The provider's payment is always recorded; the cancellation wins as long as nothing shipped.
        expect([paid.status, cancelled.status]).toEqual([200, 200]);
      }),
    );
    const settled = await Promise.all(
      orders.map(({ orderId }) =>
        eventually(
          () => money(orderId),
          (m) => m.paid === m.refunded,
        ),
      ),
    );
    for (const [i, m] of settled.entries()) {
      expect(m).toEqual({
        status: 'cancelled',
        paid: orders[i]!.total,
        refunded: orders[i]!.total,
        refunds: 1,
      });
    }
    // Operators see the refunds done, and none due.
    const due = await eventually(
      () => t.http.get('/orders?refund=due&limit=100').set('authorization', operator),
      (res) => res.body.items.length === 0,
    );
    expect(due.body.items).toEqual([]);
    const done = await eventually(
      () => t.http.get('/orders?refund=done&limit=100').set('authorization', operator),
      (res) => res.body.items.length >= 50,
    );
    const doneIds = new Set(done.body.items.map((i: { id: string }) => i.id));
    expect(orders.every(({ orderId }) => doneIds.has(orderId))).toBe(true);
  }, 60_000);

  it('redelivering the cancellation (also concurrently) refunds exactly once', async () => {
    const { orderId, total } = await placeOrder(t, shopper);
    await payOrder(t.http, orderId, total).expect(200);
    await cancel(orderId).expect(200);
    await eventually(
      () => money(orderId),
      (m) => m.refunds === 1,
    );
    const cancelled = (await t.readStream(`order-${orderId}`)).find((e) => e.type === 'OrderCancelled')!;
    const manager = t.app.get(RefundOnCancellation);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => manager.handle({ event: cancelled, retryCount: i })),
    );
    expect(outcomes).toEqual(Array.from({ length: 6 }, () => ({ action: 'ack' })));
    expect(await money(orderId)).toEqual({ status: 'cancelled', paid: total, refunded: total, refunds: 1 });
  });

  it('an operator sees a refund due while the refund process is paused, and it is done once resumed', async () => {
    await t.http
      .post('/admin/projections/refund-on-cancellation/pause')
      .set('authorization', operator)
      .expect(200);
    try {
      const { orderId, total } = await placeOrder(t, shopper);
      await payOrder(t.http, orderId, total).expect(200);
      await cancel(orderId).expect(200);
      const due = await eventually(
        () => t.http.get('/orders?refund=due&limit=100').set('authorization', operator),
        (res) => res.body.items.some((i: { id: string }) => i.id === orderId),
      );
      expect(due.body.items.find((i: { id: string }) => i.id === orderId)).toMatchObject({ refund: 'due' });
      const view = await t.http.get(`/orders/${orderId}?consistency=strong`).set('authorization', operator);
      expect(view.body.data).toMatchObject({ refundDue: total, refunded: 0 });
      await t.http
        .post('/admin/projections/refund-on-cancellation/resume')
        .set('authorization', operator)
        .expect(200);
      expect(
        await eventually(
          () => money(orderId),
          (m) => m.refunds === 1,
        ),
      ).toEqual({ status: 'cancelled', paid: total, refunded: total, refunds: 1 });
    } finally {
      await t.http.post('/admin/projections/refund-on-cancellation/resume').set('authorization', operator);
    }
  });
});
