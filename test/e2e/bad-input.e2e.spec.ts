import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { addItem, ensureProduct, openCart, placeOrder } from '../support/cart-fixtures.js';
import { MAX_ITEM_NAME_LENGTH } from '../../src/shared/domain/index.js';
import { payOrder } from '../support/payments.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('bad input is a 4xx problem naming the field, never a 500, never an event', () => {
  let t: TestApp;
  let shopper: string;
  let operator: string;
  let cartId: string;
  let eventCount: number;

  beforeAll(async () => {
    t = await startTestApp();
    shopper = t.bearer('c-bad', 'shopper');
    operator = t.bearer('op', 'operator');
    await ensureProduct(t, valid.sku, 100, { name: 'Thing' });
    cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'existing', unitPrice: 100 });
    eventCount = (await t.readStream(`cart-${cartId}`)).length;
  });
  afterAll(async () => {
    await t.close();
  });

  /** A catalog product (listed in beforeAll): the shop sets its name and price; a request names sku and quantity. */
  const valid = { sku: 'sku-1', quantity: 1 };
  const badItems: [string, unknown, string][] = [
    ['unknown field', { ...valid, discount: 5 }, 'discount'],
    ['quantity as string', { ...valid, quantity: '5' }, 'quantity'],
    ['sku as number', { ...valid, sku: 5 }, 'sku'],
    ['negative quantity', { ...valid, quantity: -1 }, 'quantity'],
    ['zero quantity', { ...valid, quantity: 0 }, 'quantity'],
    ['fractional quantity', { ...valid, quantity: 1.5 }, 'quantity'],
    ['quantity over 999', { ...valid, quantity: 1000 }, 'quantity'],
    ['missing sku', { quantity: 1 }, 'sku'],
    ['sku with spaces', { ...valid, sku: 'a b' }, 'sku'],
    ['overlong sku', { ...valid, sku: 'x'.repeat(65) }, 'sku'],
    ['nested object for quantity', { ...valid, quantity: { $gt: 0 } }, 'quantity'],
    // The shop sets names and prices: a request that sends one is refused, whatever its value.
    ['a unitPrice (the catalog price)', { ...valid, unitPrice: 100 }, 'unitPrice'],
    ['a lower unitPrice', { ...valid, unitPrice: 1 }, 'unitPrice'],
    ['unitPrice as string', { ...valid, unitPrice: '100' }, 'unitPrice'],
    ['a null unitPrice', { ...valid, unitPrice: null }, 'unitPrice'],
    ['a name (the catalog name)', { ...valid, name: 'Thing' }, 'name'],
    ['name null', { ...valid, name: null }, 'name'],
    ['array for name', { ...valid, name: ['a'] }, 'name'],
  ];

  /** A 400 problem naming `field`, without a stack trace. */
  function expectValidationProblem(res: Response, field: string): void {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', title: 'Bad Request' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  }

  async function expectUnchanged(): Promise<void> {
    expect(await t.readStream(`cart-${cartId}`)).toHaveLength(eventCount);
  }

  for (const [label, body, field] of badItems) {
    it(`add-item with ${label} → 400 naming ${field}`, async () => {
      const res = await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .send(body as object);
      expectValidationProblem(res, field);
      await expectUnchanged();
    });
  }

  it('add-item with a name and a unitPrice → 400 naming both, saying that the shop sets names and prices', async () => {
    const res = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .send({ ...valid, name: 'Thing', unitPrice: 1 })
      .expect(400);
    const errors = res.body.errors as { field: string; message: string }[];
    expect(errors.map((e) => e.field).sort()).toEqual(['name', 'unitPrice']);
    for (const { field, message } of errors) {
      expect(message).toBe(
        `${field} is not accepted: the shop sets names and prices (from its catalog); send only sku and quantity`,
      );
    }
    await expectUnchanged();
  });

  describe('names and prices are the catalog’s: POST /catalog/products refuses bad ones (400, nothing appended)', () => {
    const product = { sku: 'bad-price', name: 'Thing', prices: { EUR: 100 } };
    const badProducts: [string, unknown, string][] = [
      ['price as string', { ...product, prices: { EUR: '100' } }, 'prices'],
      ['negative price', { ...product, prices: { EUR: -1 } }, 'prices'],
      ['fractional price', { ...product, prices: { EUR: 9.99 } }, 'prices'],
      ['huge price', { ...product, prices: { EUR: 1e13 } }, 'prices'],
      ['enormous price', { ...product, prices: { EUR: 1e300 } }, 'prices'],
      ['name null', { ...product, name: null }, 'name'],
      ['blank name', { ...product, name: '   ' }, 'name'],
      ['array for name', { ...product, name: ['a'] }, 'name'],
      // "Not blank" means a visible character: NUL, control characters and invisible spaces are not one.
      ['a name of only NUL', { ...product, name: '\u0000' }, 'name'],
      ['a name of only control characters', { ...product, name: '\u0001\u001f\u007f\u0085' }, 'name'],
      ['a name of only no-break spaces', { ...product, name: '\u00a0\u3000' }, 'name'],
      ['a control character in the name', { ...product, name: 'Moka\u0000pot' }, 'name'],
      // One length rule, the domain's: code points. 201 emoji passed the DTO and failed in the domain (422).
      ['a name of 201 emoji', { ...product, name: '\u{1F600}'.repeat(MAX_ITEM_NAME_LENGTH + 1) }, 'name'],
      ['a name of 201 letters', { ...product, name: 'n'.repeat(MAX_ITEM_NAME_LENGTH + 1) }, 'name'],
    ];
    for (const [label, body, field] of badProducts) {
      it(`list a product with ${label} → 400 naming ${field}`, async () => {
        const res = await t.http
          .post('/catalog/products')
          .set('authorization', operator)
          .send(body as object);
        expectValidationProblem(res, field);
        expect(await t.readStream(`product-${product.sku}`)).toHaveLength(0);
      });
    }
  });

  it('a name with a lone surrogate (valid JSON: "\\ud83d") → 400, nothing stored', async () => {
    for (const name of ['\\ud83d', 'mug \\ude00', '\\ude00\\ud83d']) {
      const res = await t.http
        .post('/catalog/products')
        .set('authorization', operator)
        .set('content-type', 'application/json')
        .send(`{"sku":"lone-surrogate","name":"${name}","prices":{"EUR":100}}`);
      expectValidationProblem(res, 'name');
      expect(res.body.errors[0].message).toMatch(/lone UTF-16 surrogates/);
    }
    expect(await t.readStream('product-lone-surrogate')).toHaveLength(0);
  });

  it(`a name of ${MAX_ITEM_NAME_LENGTH} emoji (${2 * MAX_ITEM_NAME_LENGTH} UTF-16 units) is listed as sent, and carts take it`, async () => {
    const name = '\u{2615}\u{1F600}'.repeat(MAX_ITEM_NAME_LENGTH / 2);
    await t.http
      .post('/catalog/products')
      .set('authorization', operator)
      .send({ sku: 'emoji-name', name, prices: { EUR: 100 } })
      .expect(201);
    const cart = await openCart(t, shopper);
    await t.http
      .post(`/carts/${cart}/items`)
      .set('authorization', shopper)
      .send({ sku: 'emoji-name', quantity: 1 })
      .expect(200);
    const read = await t.http
      .get(`/carts/${cart}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(read.body.data.lines[0].name).toBe(name);
  });

  it('a catalog search by a name with control characters, or longer than a name → 400', async () => {
    for (const name of ['\u0000', 'a\u0085', 'n'.repeat(MAX_ITEM_NAME_LENGTH + 1)]) {
      const res = await t.http.get('/catalog/products').query({ name }).set('authorization', shopper);
      expectValidationProblem(res, 'name');
    }
    await t.http
      .get('/catalog/products')
      .query({ name: '\u{1F600}'.repeat(MAX_ITEM_NAME_LENGTH) })
      .set('authorization', shopper)
      .expect(200);
  });

  it.each([['eur'], ['EURO'], [''], [12], [null]])('open cart with currency %p → 400', async (currency) => {
    const res = await t.http.post('/carts').set('authorization', shopper).send({ currency });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('currency');
  });

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    const res = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .set('content-type', 'application/json')
      .send('{"sku": "a",');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    await expectUnchanged();
  });

  it('a JSON array, string, number or null body → 400 BODY_NOT_AN_OBJECT', async () => {
    for (const body of ['[1,2]', '"text"', '42', 'null']) {
      const res = await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .set('content-type', 'application/json')
        .send(body);
      expect([res.status, res.body.code]).toEqual([400, 'BODY_NOT_AN_OBJECT']);
    }
    await expectUnchanged();
  });

  it('an oversized body → 413', async () => {
    const res = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .send({ ...valid, name: 'x'.repeat(200_000) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('BODY_TOO_LARGE');
    await expectUnchanged();
  });

  it('a non-JSON content type → 415', async () => {
    const res = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .set('content-type', 'text/plain')
      .send('sku=a');
    expect(res.status).toBe(415);
    await expectUnchanged();
  });

  it('unknown and malformed ids → 404', async () => {
    for (const path of [
      `/carts/${randomUUID()}`,
      '/carts/not-a-uuid',
      `/orders/${randomUUID()}`,
      '/orders/123',
    ]) {
      const res = await t.http.get(path).set('authorization', shopper);
      expect(res.status).toBe(404);
      expect(res.body.code).toMatch(/^(CART|ORDER)_NOT_FOUND$/);
    }
    const res = await t.http.post(`/carts/${randomUUID()}/items`).set('authorization', shopper).send(valid);
    expect(res.status).toBe(404);
  });

  it('an unknown route → 404 problem', async () => {
    const res = await t.http.get('/nope').set('authorization', shopper);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('fields on a route that takes no body → 400', async () => {
    const res = await t.http
      .post(`/carts/${cartId}/checkout`)
      .set('authorization', shopper)
      .send({ force: true });
    expect(res.status).toBe(400);
    await expectUnchanged();
  });

  it('a bad Idempotency-Key → 400', async () => {
    const res = await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .set('idempotency-key', 'k'.repeat(300))
      .send(valid);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_IDEMPOTENCY_KEY');
    await expectUnchanged();
  });

  it.each([
    [`/carts/${'a'.repeat(300)}`, 414, 'URI_TOO_LONG'],
    ['/carts/%zz', 400, 'BAD_URL'],
    [`/audit/streams/${'x'.repeat(300)}/events`, 414, 'URI_TOO_LONG'],
  ])('GET %s is a %i problem from the router itself', async (path, status, code) => {
    const res = await t.http.get(path).set('authorization', shopper).expect(status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status, code });
  });

  describe('domain rules answer 404/409/422 with a stable code', () => {
    it('unknown sku → 404 ITEM_NOT_IN_CART', async () => {
      const patch = await t.http
        .patch(`/carts/${cartId}/items/nope`)
        .set('authorization', shopper)
        .send({ quantity: 2 });
      expect(patch.status).toBe(404);
      expect(patch.body.code).toBe('ITEM_NOT_IN_CART');
      const del = await t.http.delete(`/carts/${cartId}/items/nope`).set('authorization', shopper);
      expect(del.body.code).toBe('ITEM_NOT_IN_CART');
      await expectUnchanged();
    });

    it('same sku after its catalog price changed → 409 PRICE_CHANGED; growing a line past 999 → 422', async () => {
      const moving = await openCart(t, shopper);
      await addItem(t, shopper, moving, { sku: 'moving', unitPrice: 100 });
      await ensureProduct(t, 'moving', 101);
      const price = await t.http
        .post(`/carts/${moving}/items`)
        .set('authorization', shopper)
        .send({ sku: 'moving', quantity: 1 });
      expect([price.status, price.body.code]).toEqual([409, 'PRICE_CHANGED']);
      expect(await t.readStream(`cart-${moving}`)).toHaveLength(2);
      const tooMany = await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .send({ sku: 'existing', quantity: 999 });
      expect([tooMany.status, tooMany.body.code]).toEqual([422, 'INVALID_QUANTITY']);
      await expectUnchanged();
    });

    it('checkout of an empty cart → 409 CART_EMPTY', async () => {
      const empty = await openCart(t, shopper);
      const res = await t.http.post(`/carts/${empty}/checkout`).set('authorization', shopper);
      expect([res.status, res.body.code]).toEqual([409, 'CART_EMPTY']);
      expect(await t.readStream(`cart-${empty}`)).toHaveLength(1);
    });

    it('orders: a wrong payment amount is an exception (not paid), ship before payment 409, refund above paid 409', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      // Another amount is not a payment of the order: recorded for an operator, the order stays unpaid.
      await payOrder(t.http, orderId, total - 1).expect(200);
      const ship = await t.http
        .post(`/orders/${orderId}/shipments`)
        .set('authorization', operator)
        .send({ carrier: 'UPS', trackingNumber: 'T' });
      expect([ship.status, ship.body.code]).toEqual([409, 'ORDER_NOT_PAID']);
      await payOrder(t.http, orderId, total).expect(200);
      const refund = await t.http
        .post(`/orders/${orderId}/refunds`)
        .set('authorization', operator)
        .send({ amount: total + 1 });
      expect([refund.status, refund.body.code]).toEqual([409, 'REFUND_EXCEEDS_PAID']);
      await t.http
        .post(`/orders/${orderId}/refunds`)
        .set('authorization', operator)
        .send({ amount: total })
        .expect(200);
      expect((await t.readStream(`order-${orderId}`)).map((e) => e.type)).toEqual([
        'OrderPlaced',
        'PaymentExceptionRecorded',
        'OrderPaid',
        'OrderRefunded',
      ]);
    });

    it('cancel after shipping → 409 ORDER_ALREADY_SHIPPED; nothing changes a checked-out cart', async () => {
      const { cartId: closed, orderId, total } = await placeOrder(t, shopper);
      await payOrder(t.http, orderId, total).expect(200);
      await t.http
        .post(`/orders/${orderId}/shipments`)
        .set('authorization', operator)
        .send({ carrier: 'UPS', trackingNumber: 'T' })
        .expect(200);
      const cancel = await t.http
        .post(`/orders/${orderId}/cancellation`)
        .set('authorization', shopper)
        .send({ reason: 'late' });
      expect([cancel.status, cancel.body.code]).toEqual([409, 'ORDER_ALREADY_SHIPPED']);
      const add = await t.http.post(`/carts/${closed}/items`).set('authorization', shopper).send(valid);
      expect([add.status, add.body.code]).toEqual([409, 'CART_CLOSED']);
    });
  });
});
