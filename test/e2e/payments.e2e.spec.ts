import { eventually } from '../support/eventually.js';
import { signatureHeader, signPayload } from '../../src/payments/webhook-signature.js';
import { placeOrder } from '../support/cart-fixtures.js';
import { payOrder, providerEvent, sendWebhook } from '../support/payments.js';
import { TEST_PAYMENT_WEBHOOK_SECRET } from '../support/secrets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('payments are confirmed by the payment provider', () => {
  let t: TestApp;
  let shopper: string;
  let operator: string;
  beforeAll(async () => {
    t = await startTestApp();
    shopper = t.bearer('pay-shopper', 'shopper');
    operator = t.bearer('pay-op', 'operator');
  });
  afterAll(async () => {
    await t.close();
  });

  const orderEvents = async (orderId: string) => t.readStream(`order-${orderId}`);

  describe('the signature', () => {
    it('a signed payment.succeeded pays the order, caused by the provider event, its id in the metadata', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const event = providerEvent(orderId, total, { paymentId: 'pi_ok' });
      const res = await sendWebhook(t.http, event).expect(200);
      expect(res.body).toEqual({ received: true, orderId, revision: 1, replayed: false });
      const [, paid] = await orderEvents(orderId);
      expect(paid).toMatchObject({ type: 'OrderPaid', data: { paymentId: 'pi_ok', amount: total } });
      expect(paid!.metadata).toMatchObject({
        actor: 'payment-provider',
        causationId: event.id,
        providerEventId: event.id,
        providerEventType: 'payment.succeeded',
      });
    });

    it.each([
      ['signed with another secret', { secret: 'not-the-shared-secret-0123456789abcdef' }, 'mismatch'],
      ['without a signature', { signature: null }, 'missing'],
      ['with a malformed signature header', { signature: 'v1=abc' }, 'malformed'],
      ['signed more than 5 minutes ago', { at: Math.floor(Date.now() / 1000) - 400 }, 'stale'],
      ['signed more than 5 minutes ahead', { at: Math.floor(Date.now() / 1000) + 400 }, 'stale'],
    ] as const)('refuses a webhook %s: 401, nothing written', async (_name, options, check) => {
      const { orderId, total } = await placeOrder(t, shopper);
      const res = await sendWebhook(t.http, providerEvent(orderId, total), options).expect(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'INVALID_SIGNATURE', check });
      expect((await orderEvents(orderId)).map((e) => e.type)).toEqual(['OrderPlaced']);
    });

    it('refuses a tampered body (signed, then the amount changed): 401, nothing written', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const signed = JSON.stringify(providerEvent(orderId, total));
      const tampered = signed.replace(`"amount":${total}`, '"amount":1');
      expect(tampered).not.toBe(signed);
      const at = Math.floor(Date.now() / 1000);
      const header = signatureHeader(TEST_PAYMENT_WEBHOOK_SECRET, at, signed);
      await sendWebhook(t.http, tampered, { signature: header }).expect(401);
      expect((await orderEvents(orderId)).map((e) => e.type)).toEqual(['OrderPlaced']);
    });

    it('accepts a second v1 signature (the provider rolling its secret)', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const raw = JSON.stringify(providerEvent(orderId, total));
      const at = Math.floor(Date.now() / 1000);
      const old = signPayload('the-previous-secret-0123456789abcdef', at, raw);
      const current = signPayload(TEST_PAYMENT_WEBHOOK_SECRET, at, raw);
      await sendWebhook(t.http, raw, { signature: `t=${at},v1=${old},v1=${current}` }).expect(200);
    });

    it('a malformed body with a valid signature is 400, nothing written', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const bad = { ...providerEvent(orderId, total), type: 'payment.maybe' };
      const res = await sendWebhook(t.http, JSON.stringify(bad)).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const negative = providerEvent(orderId, -5);
      await sendWebhook(t.http, negative).expect(400);
      expect((await orderEvents(orderId)).map((e) => e.type)).toEqual(['OrderPlaced']);
    });

    it('fields of the provider this service does not know are ignored, not refused', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const event = providerEvent(orderId, total);
      const richer = { ...event, created: 1_800_000_000, livemode: false, data: { ...event.data, fee: 12 } };
      await sendWebhook(t.http, JSON.stringify(richer)).expect(200);
      const [, paid] = await orderEvents(orderId);
      expect(paid).toMatchObject({
        type: 'OrderPaid',
        data: { paymentId: event.data.paymentId, amount: total },
      });
    });

    it('an event for an order that does not exist is 404', async () => {
      const res = await payOrder(t.http, '7d1c3a52-2f54-4f5e-9d2a-4c1b8e6f0a11', 100).expect(404);
      expect(res.body.code).toBe('ORDER_NOT_FOUND');
    });
  });

  describe('exactly once', () => {
    it('the same provider event again is 200, replayed, and writes nothing', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const event = providerEvent(orderId, total);
      await sendWebhook(t.http, event).expect(200);
      // Redelivered later: signed again at another instant, same event.
      const again = await sendWebhook(t.http, event, { at: Math.floor(Date.now() / 1000) - 60 }).expect(200);
      expect(again.body).toMatchObject({ replayed: true, revision: 1 });
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect((await orderEvents(orderId)).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid']);
    });

    it('concurrent deliveries of one event write it once', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const event = providerEvent(orderId, total);
      const answers = await Promise.all(Array.from({ length: 8 }, () => sendWebhook(t.http, event)));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 200));
      expect((await orderEvents(orderId)).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid']);
    });
  });

  describe('what a provider event does', () => {
    it('an amount that is not the total is a payment exception: not paid, visible to operators', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      await payOrder(t.http, orderId, total + 1, { paymentId: 'pi_more' }).expect(200);
      const order = await t.http
        .get(`/orders/${orderId}?consistency=strong`)
        .set('authorization', operator)
        .expect(200);
      expect(order.body.data).toMatchObject({
        status: 'placed',
        paid: 0,
        paymentExceptions: [
          { paymentId: 'pi_more', amount: total + 1, currency: 'EUR', reason: 'amount-mismatch' },
        ],
      });
      const listed = await eventually(
        () => t.http.get('/orders?paymentException=true&limit=100').set('authorization', operator),
        (res) => res.body.items.some((i: { id: string }) => i.id === orderId),
      );
      expect(listed.body.items.find((i: { id: string }) => i.id === orderId)).toMatchObject({
        paymentException: true,
        status: 'placed',
      });
    });

    it('another currency is a payment exception', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      await payOrder(t.http, orderId, total, { currency: 'USD' }).expect(200);
      const [, exception] = await orderEvents(orderId);
      expect(exception).toMatchObject({
        type: 'PaymentExceptionRecorded',
        data: { reason: 'currency-mismatch', currency: 'USD' },
      });
    });

    it('a payment for a cancelled order is recorded, then refunded by the refund process', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      await t.http
        .post(`/orders/${orderId}/cancellation`)
        .set('authorization', shopper)
        .send({ reason: 'changed my mind' })
        .expect(200);
      await payOrder(t.http, orderId, total).expect(200);
      const events = await eventually(
        () => orderEvents(orderId),
        (list) => list.some((e) => e.type === 'OrderRefunded'),
      );
      expect(events.map((e) => e.type)).toEqual([
        'OrderPlaced',
        'OrderCancelled',
        'OrderPaid',
        'OrderRefunded',
      ]);
      const [, , paid, refunded] = events;
      expect(refunded).toMatchObject({ data: { amount: total } });
      expect(refunded!.metadata).toMatchObject({ causationId: paid!.id, command: 'RefundBalance' });
      const order = await t.http.get(`/orders/${orderId}?consistency=strong`).set('authorization', shopper);
      expect(order.body.data).toMatchObject({
        status: 'cancelled',
        paid: total,
        refunded: total,
        refundDue: 0,
      });
    });

    it('payment.failed and refund.succeeded are recorded on the order', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      await sendWebhook(
        t.http,
        providerEvent(orderId, total, { type: 'payment.failed', failureReason: 'card declined' }),
      ).expect(200);
      await sendWebhook(
        t.http,
        providerEvent(orderId, total, { type: 'payment.failed', failureReason: 'declined' }),
      ).expect(200);
      await payOrder(t.http, orderId, total).expect(200);
      await t.http
        .post(`/orders/${orderId}/refunds`)
        .set('authorization', operator)
        .send({ amount: 100 })
        .expect(200);
      await sendWebhook(t.http, providerEvent(orderId, 100, { type: 'refund.succeeded' })).expect(200);
      const order = await t.http.get(`/orders/${orderId}?consistency=strong`).set('authorization', operator);
      expect(order.body.data).toMatchObject({
        status: 'paid',
        paid: total,
        refunded: 100,
        refundsSettled: 100,
        failedPayments: 2,
      });
    });
  });

  describe('shoppers cannot record payments', () => {
    it('a shopper paying by hand gets 403 saying how payment works, and nothing is written', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      const res = await t.http
        .post(`/orders/${orderId}/payments`)
        .set('authorization', shopper)
        .send({ paymentId: 'p', amount: total });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('PAYMENT_BY_PROVIDER_ONLY');
      expect(res.body.detail).toMatch(/payment provider/);
      expect((await orderEvents(orderId)).map((e) => e.type)).toEqual(['OrderPlaced']);
    });

    it('an operator records a manual payment with a reason, audited in the metadata', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      await t.http
        .post(`/orders/${orderId}/payments`)
        .set('authorization', operator)
        .send({ paymentId: 'bank-17', amount: total, currency: 'EUR', reason: 'bank transfer ref 17' })
        .expect(200);
      const [, paid] = await orderEvents(orderId);
      expect(paid).toMatchObject({ type: 'OrderPaid', data: { paymentId: 'bank-17', amount: total } });
      expect(paid!.metadata).toMatchObject({
        actor: 'pay-op',
        manualPayment: true,
        reason: 'bank transfer ref 17',
      });
      const noReason = await t.http
        .post(`/orders/${orderId}/payments`)
        .set('authorization', operator)
        .send({ paymentId: 'bank-18', amount: total, currency: 'EUR' });
      expect(noReason.status).toBe(400);
    });
  });
});
