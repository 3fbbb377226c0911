import { addItem, ensureProduct, openCart } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('Idempotency-Key and If-Match', () => {
  let t: TestApp;
  let shopper: string;
  beforeAll(async () => {
    t = await startTestApp();
    shopper = t.bearer('c-idem', 'shopper');
  });
  afterAll(async () => {
    await t.close();
  });

  it('POST /carts retried with the same key and body returns the same cart and appends nothing', async () => {
    const first = await t.http
      .post('/carts')
      .set('authorization', shopper)
      .set('idempotency-key', 'k-open')
      .send({ currency: 'EUR' })
      .expect(201);
    const again = await t.http
      .post('/carts')
      .set('authorization', shopper)
      .set('idempotency-key', 'k-open')
      .send({ currency: 'EUR' })
      .expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(await t.readStream(`cart-${first.body.id}`)).toHaveLength(1);
  });

  it('the same key with another body is 422 and writes nothing', async () => {
    const first = await t.http
      .post('/carts')
      .set('authorization', shopper)
      .set('idempotency-key', 'k-open-2')
      .send({ currency: 'EUR' })
      .expect(201);
    const other = await t.http
      .post('/carts')
      .set('authorization', shopper)
      .set('idempotency-key', 'k-open-2')
      .send({ currency: 'USD' })
      .expect(422);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await t.readStream(`cart-${first.body.id}`)).toHaveLength(1);
  });

  it('the same key used by another shopper opens a cart of their own', async () => {
    const a = await t.http
      .post('/carts')
      .set('authorization', shopper)
      .set('idempotency-key', 'shared')
      .send({ currency: 'EUR' });
    const b = await t.http
      .post('/carts')
      .set('authorization', t.bearer('someone-else', 'shopper'))
      .set('idempotency-key', 'shared')
      .send({ currency: 'EUR' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('a retried add-item replays its original response even after later changes, and appends nothing', async () => {
    await ensureProduct(t, 'mug', 900, { name: 'Mug' });
    const cartId = await openCart(t, shopper);
    const item = { sku: 'mug', quantity: 1 };
    const first = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .set('idempotency-key', 'add-mug')
      .send(item)
      .expect(200);
    await addItem(t, shopper, cartId, { sku: 'tea' });
    const retry = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .set('idempotency-key', 'add-mug')
      .send({ quantity: 1, sku: 'mug' }) // same body, other key order
      .expect(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.etag).toBe(first.headers.etag);
    const cart = await t.http
      .get(`/carts/${cartId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(cart.body.data.lines.find((l: { sku: string }) => l.sku === 'mug')).toMatchObject({
      name: 'Mug',
      quantity: 1,
      unitPrice: 900,
    });
    expect(await t.readStream(`cart-${cartId}`)).toHaveLength(3);
  });

  it('concurrent duplicates of one keyed request append once', async () => {
    await ensureProduct(t, 'dup', 10, { name: 'Dup' });
    const cartId = await openCart(t, shopper);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.http
          .post(`/carts/${cartId}/items`)
          .set('authorization', shopper)
          .set('idempotency-key', 'dup')
          .send({ sku: 'dup', quantity: 2 }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((r) => r.body.revision))).toEqual(new Set([1]));
    expect(await t.readStream(`cart-${cartId}`)).toHaveLength(2);
  });

  it('a retried checkout returns the same order id and places exactly one order', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'x' });
    const send = () =>
      t.http.post(`/carts/${cartId}/checkout`).set('authorization', shopper).set('idempotency-key', 'co');
    const [a, b] = await Promise.all([send(), send()]);
    const c = await send();
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(new Set([a.body.orderId, b.body.orderId, c.body.orderId]).size).toBe(1);
    const order = await t.readStream(`order-${a.body.orderId}`);
    expect(order.map((e) => e.type)).toEqual(['OrderPlaced']);
  });

  it('checkout retried with a new key after success is a 409 CART_CLOSED and still one order', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'x' });
    const ok = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', shopper).expect(200);
    const again = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', shopper).expect(409);
    expect(again.body.code).toBe('CART_CLOSED');
    expect(await t.readStream(`order-${ok.body.orderId}`)).toHaveLength(1);
  });

  describe('If-Match', () => {
    it('matching revision succeeds; a stale one is 412 with the current revision and writes nothing', async () => {
      await ensureProduct(t, 'a', 1, { name: 'A' });
      await ensureProduct(t, 'b', 1, { name: 'B' });
      const cartId = await openCart(t, shopper);
      await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .set('if-match', '"0"')
        .send({ sku: 'a', quantity: 1 })
        .expect(200, { id: cartId, revision: 1 });
      const stale = await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .set('if-match', '"0"')
        .send({ sku: 'b', quantity: 1 })
        .expect(412);
      expect(stale.body).toMatchObject({ status: 412, code: 'REVISION_MISMATCH', currentRevision: 1 });
      expect(stale.headers.etag).toBe('"1"');
      expect(await t.readStream(`cart-${cartId}`)).toHaveLength(2);
    });

    it('a malformed If-Match is 400 and writes nothing', async () => {
      await ensureProduct(t, 'a', 1, { name: 'A' });
      const cartId = await openCart(t, shopper);
      for (const value of ['0', 'W/"0"', '"abc"', '"-1"']) {
        const res = await t.http
          .post(`/carts/${cartId}/items`)
          .set('authorization', shopper)
          .set('if-match', value)
          .send({ sku: 'a', quantity: 1 })
          .expect(400);
        expect(res.body.code).toBe('INVALID_IF_MATCH');
      }
      expect(await t.readStream(`cart-${cartId}`)).toHaveLength(1);
    });

    it('concurrent writers with the same If-Match: exactly one wins, the others get 412', async () => {
      for (let i = 0; i < 8; i++) await ensureProduct(t, `s${i}`, 1, { name: 'S' });
      const cartId = await openCart(t, shopper);
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.http
            .post(`/carts/${cartId}/items`)
            .set('authorization', shopper)
            .set('if-match', '"0"')
            .send({ sku: `s${i}`, quantity: 1 }),
        ),
      );
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 412)).toHaveLength(7);
      expect(await t.readStream(`cart-${cartId}`)).toHaveLength(2);
    });
  });
});
