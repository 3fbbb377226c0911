import { ensureProduct } from '../support/cart-fixtures.js';
import { payOrder } from '../support/payments.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('shopper journey: cart → order → paid → shipped → delivered', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('drives a cart to a delivered order, every step an event with full metadata', async () => {
    const shopper = t.bearer('customer-1', 'shopper');
    const operator = t.bearer('op-1', 'operator');

    // The shop sets the prices: the catalog sells both products before the shopper adds them.
    await ensureProduct(t, 'book-1', 1250, { name: 'A book' });
    await ensureProduct(t, 'pen-1', 199, { name: 'A pen' });

    const opened = await t.http
      .post('/carts')
      .set('authorization', shopper)
      .set('x-correlation-id', 'journey-1')
      .set('idempotency-key', 'open-1')
      .send({ currency: 'EUR' })
      .expect(201);
    const cartId: string = opened.body.id;
    expect(opened.body).toEqual({ id: cartId, revision: 0 });
    expect(opened.headers.location).toBe(`/carts/${cartId}`);
    expect(opened.headers.etag).toBe('"0"');
    expect(opened.headers['x-correlation-id']).toBe('journey-1');

    await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .send({ sku: 'book-1', quantity: 2 })
      .expect(200, { id: cartId, revision: 1 });
    await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .send({ sku: 'pen-1', quantity: 1 })
      .expect(200, { id: cartId, revision: 2 });
    await t.http
      .patch(`/carts/${cartId}/items/book-1`)
      .set('authorization', shopper)
      .send({ quantity: 3 })
      .expect(200, { id: cartId, revision: 3 });
    await t.http
      .delete(`/carts/${cartId}/items/pen-1`)
      .set('authorization', shopper)
      .expect(200, { id: cartId, revision: 4 });

    const cartData = {
      id: cartId,
      customerId: 'customer-1',
      currency: 'EUR',
      status: 'open',
      lines: [{ sku: 'book-1', name: 'A book', quantity: 3, unitPrice: 1250, lineTotal: 3750 }],
      total: 3750,
      orderId: null,
    };
    const cart = await t.http
      .get(`/carts/${cartId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(cart.headers.etag).toBe('"4"');
    expect(cart.body).toEqual({
      data: cartData,
      meta: {
        revision: 4,
        position: null,
        projectedAt: null,
        source: 'event-store',
        stale: false,
        staleness: 0,
      },
    });
    expect(cart.headers.age).toBe('0');
    // The read model answers the same once the projection has caught up with the write.
    const cached = await t.http
      .get(`/carts/${cartId}?minRevision=4`)
      .set('authorization', shopper)
      .expect(200);
    expect(cached.headers.etag).toBe('"4"');
    expect(cached.body).toEqual({
      data: cartData,
      meta: {
        revision: 4,
        position: expect.any(Number),
        projectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        source: 'read-store',
        stale: false,
        // It reflects every event of its stream.
        staleness: 0,
      },
    });
    expect(cached.headers.age).toBe('0');

    const checkout = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', shopper).expect(200);
    const orderId: string = checkout.body.orderId;
    expect(checkout.body).toEqual({
      id: cartId,
      revision: 5,
      orderId: expect.any(String),
      orderPlaced: true,
    });

    const placed = await t.http
      .get(`/orders/${orderId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(placed.body.data).toMatchObject({
      id: orderId,
      cartId,
      customerId: 'customer-1',
      status: 'placed',
      total: 3750,
      currency: 'EUR',
      lines: [{ sku: 'book-1', name: 'A book', quantity: 3, unitPrice: 1250, lineTotal: 3750 }],
    });

    await payOrder(t.http, orderId, 3750, { paymentId: 'pay-1' }).expect(200, {
      received: true,
      orderId,
      revision: 1,
      replayed: false,
    });
    await t.http
      .post(`/orders/${orderId}/shipments`)
      .set('authorization', operator)
      .send({ carrier: 'DHL', trackingNumber: 'TRACK-1' })
      .expect(200, { id: orderId, revision: 2 });
    await t.http
      .post(`/orders/${orderId}/delivery`)
      .set('authorization', operator)
      .expect(200, { id: orderId, revision: 3 });

    const delivered = await t.http
      .get(`/orders/${orderId}?minRevision=3`)
      .set('authorization', t.bearer('aud', 'auditor'))
      .expect(200);
    expect(delivered.body.data).toMatchObject({
      status: 'delivered',
      paid: 3750,
      paymentId: 'pay-1',
      shipment: { carrier: 'DHL', trackingNumber: 'TRACK-1' },
    });
    expect(delivered.body.meta).toMatchObject({ revision: 3, source: 'read-store', stale: false });
    const strong = await t.http
      .get(`/orders/${orderId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(strong.body.data).toEqual(delivered.body.data);

    const cartEvents = await t.readStream(`cart-${cartId}`);
    expect(cartEvents.map((e) => e.type)).toEqual([
      'CartOpened',
      'ItemAdded',
      'ItemAdded',
      'ItemQuantityChanged',
      'ItemRemoved',
      'CartCheckedOut',
    ]);
    expect(cartEvents[0]!.metadata).toEqual({
      correlationId: 'journey-1',
      causationId: expect.any(String),
      actor: 'customer-1',
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      schemaVersion: 1,
      command: 'OpenCart',
      idempotencyKey: 'open-1',
      requestHash: expect.any(String),
    });
    const orderEvents = await t.readStream(`order-${orderId}`);
    expect(orderEvents.map((e) => e.type)).toEqual([
      'OrderPlaced',
      'OrderPaid',
      'OrderShipped',
      'OrderDelivered',
    ]);
    expect(orderEvents[2]!.metadata).toMatchObject({ actor: 'op-1', command: 'ShipOrder' });
    expect(orderEvents[0]!.metadata.correlationId).toBe(cartEvents[5]!.metadata.correlationId);
  });
});
