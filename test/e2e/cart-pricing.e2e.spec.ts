import type { Response } from 'supertest';
import { orderIdForCart } from '../../src/checkout/check-out-cart.js';
import { addItem, ensureProduct, openCart } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The shop sets the prices: a cart records the catalog's name and unit price at the moment an item is added,
 * refuses a client's price, and never places an order at a price the catalog no longer asks without the
 * shopper taking it first (POST /carts/:id/reprice).
 */
describe('the shop sets the prices: carts take names and prices from the catalog', () => {
  let t: TestApp;
  let shopper: string;
  let operator: string;

  beforeAll(async () => {
    t = await startTestApp();
    shopper = t.bearer('c-pricing', 'shopper');
    operator = t.bearer('op-pricing', 'operator');
  });
  afterAll(async () => {
    await t.close();
  });

  const add = (cartId: string, body: object) =>
    t.http.post(`/carts/${cartId}/items`).set('authorization', shopper).send(body);
  const checkout = (cartId: string) => t.http.post(`/carts/${cartId}/checkout`).set('authorization', shopper);
  const reprice = (cartId: string) => t.http.post(`/carts/${cartId}/reprice`).set('authorization', shopper);
  const cartEvents = (cartId: string) => t.readStream(`cart-${cartId}`);
  const withdraw = (sku: string) =>
    t.http.delete(`/catalog/products/${sku}`).set('authorization', operator).expect(200);

  /** The cart's lines as the strong read answers them. */
  async function lines(cartId: string): Promise<unknown[]> {
    const res = await t.http
      .get(`/carts/${cartId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    return res.body.data.lines as unknown[];
  }

  function expectProblem(res: Response, status: number, code: string): void {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  }

  it('price tampering is refused: a unitPrice or a name in the request is a 400 saying the shop sets prices, nothing appended', async () => {
    await ensureProduct(t, 'tamper-1', 2500, { name: 'Real name' });
    const cartId = await openCart(t, shopper);
    for (const tampered of [
      { sku: 'tamper-1', quantity: 1, unitPrice: 1 },
      { sku: 'tamper-1', quantity: 1, unitPrice: 2500 },
      { sku: 'tamper-1', quantity: 1, unitPrice: 0 },
      { sku: 'tamper-1', quantity: 1, name: 'Cheap thing' },
    ]) {
      const res = await add(cartId, tampered);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const field = 'unitPrice' in tampered ? 'unitPrice' : 'name';
      expect(res.body.errors).toEqual([
        {
          field,
          message: `${field} is not accepted: the shop sets names and prices (from its catalog); send only sku and quantity`,
        },
      ]);
    }
    // Taking the catalog's prices takes no prices from the client either.
    expectProblem(
      await t.http
        .post(`/carts/${cartId}/reprice`)
        .set('authorization', shopper)
        .send({ prices: { 'tamper-1': 1 } }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await cartEvents(cartId)).map((e) => e.type)).toEqual(['CartOpened']);
  });

  it('ItemAdded records the catalog’s name and its unit price in the cart’s currency', async () => {
    await t.http
      .post('/catalog/products')
      .set('authorization', operator)
      .send({ sku: 'espresso-1kg', name: 'Espresso beans, 1 kg', prices: { EUR: 1890, USD: 2090 } })
      .expect(201);
    const eur = await openCart(t, shopper);
    const usd = await openCart(t, shopper, 'USD');
    await add(eur, { sku: 'espresso-1kg', quantity: 2 }).expect(200);
    await add(usd, { sku: 'espresso-1kg', quantity: 1 }).expect(200);

    const [, eurAdded] = await cartEvents(eur);
    expect(eurAdded).toMatchObject({
      type: 'ItemAdded',
      data: { sku: 'espresso-1kg', name: 'Espresso beans, 1 kg', quantity: 2, unitPrice: 1890 },
    });
    const [, usdAdded] = await cartEvents(usd);
    expect(usdAdded!.data).toEqual({
      sku: 'espresso-1kg',
      name: 'Espresso beans, 1 kg',
      quantity: 1,
      unitPrice: 2090,
    });
    expect(await lines(eur)).toEqual([
      { sku: 'espresso-1kg', name: 'Espresso beans, 1 kg', quantity: 2, unitPrice: 1890, lineTotal: 3780 },
    ]);
  });

  it('a product not listed, withdrawn, or not priced in the cart’s currency → 422 PRODUCT_NOT_AVAILABLE, nothing appended', async () => {
    await ensureProduct(t, 'gone-soon', 300);
    await withdraw('gone-soon');
    await ensureProduct(t, 'euro-only', 400);
    const eur = await openCart(t, shopper);
    const gbp = await openCart(t, shopper, 'GBP');
    for (const [cartId, sku, reason] of [
      [eur, 'never-listed', 'not-listed'],
      [eur, 'gone-soon', 'withdrawn'],
      [gbp, 'euro-only', 'not-priced'],
    ] as const) {
      const res = await add(cartId, { sku, quantity: 1 });
      expectProblem(res, 422, 'PRODUCT_NOT_AVAILABLE');
      expect(res.body).toMatchObject({ sku, reason });
    }
    expect(await cartEvents(eur)).toHaveLength(1);
    expect(await cartEvents(gbp)).toHaveLength(1);
  });

  it('a catalog price change between add and checkout: checkout 409 PRICES_CHANGED naming the line with both prices, nothing appended', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'steady-1', quantity: 1, unitPrice: 700 });
    await addItem(t, shopper, cartId, { sku: 'moves-1', quantity: 3, unitPrice: 1000 });
    await ensureProduct(t, 'moves-1', 1200);

    const refused = await checkout(cartId);
    expectProblem(refused, 409, 'PRICES_CHANGED');
    expect(refused.body.changes).toEqual([
      { sku: 'moves-1', unitPrice: 1000, currentPrice: 1200, reason: null },
    ]);
    expect(refused.body.detail).toContain('POST /carts/{id}/reprice');
    expect((await cartEvents(cartId)).map((e) => e.type)).toEqual(['CartOpened', 'ItemAdded', 'ItemAdded']);
    expect(await t.readStream(`order-${orderIdForCart(cartId)}`)).toEqual([]);
    const cart = await t.http
      .get(`/carts/${cartId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(cart.body.data).toMatchObject({ status: 'open', orderId: null, total: 3700 });
  });

  it('a price change in another currency than the cart’s changes nothing', async () => {
    await ensureProduct(t, 'two-currencies', 500, { currency: 'USD' });
    await ensureProduct(t, 'two-currencies', 450);
    const cartId = await openCart(t, shopper);
    await add(cartId, { sku: 'two-currencies', quantity: 1 }).expect(200);
    await ensureProduct(t, 'two-currencies', 650, { currency: 'USD' });
    await checkout(cartId).expect(200);
  });

  it('POST /carts/:id/reprice appends ItemRepriced for the moved lines; checkout then places the order at the new prices', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'steady-2', name: 'Steady', quantity: 1, unitPrice: 700 });
    await addItem(t, shopper, cartId, { sku: 'moves-2', name: 'Moving', quantity: 3, unitPrice: 1000 });
    await ensureProduct(t, 'moves-2', 1200, { name: 'Moving' });
    await checkout(cartId).expect(409);

    const repriced = await reprice(cartId).expect(200);
    expect(repriced.body).toEqual({ id: cartId, revision: 3 });
    const events = await cartEvents(cartId);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['CartOpened', expect.anything()],
      ['ItemAdded', { sku: 'steady-2', name: 'Steady', quantity: 1, unitPrice: 700 }],
      ['ItemAdded', { sku: 'moves-2', name: 'Moving', quantity: 3, unitPrice: 1000 }],
      ['ItemRepriced', { sku: 'moves-2', unitPrice: 1200 }],
    ]);
    expect(events[3]!.metadata).toMatchObject({ actor: 'c-pricing', command: 'RepriceCart' });
    // Nothing moved since: a second reprice appends nothing.
    await reprice(cartId).expect(200, { id: cartId, revision: 3 });
    expect(await cartEvents(cartId)).toHaveLength(4);

    const placed = await checkout(cartId).expect(200);
    const order = await t.http
      .get(`/orders/${placed.body.orderId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    expect(order.body.data).toMatchObject({
      status: 'placed',
      total: 700 + 3 * 1200,
      lines: [
        { sku: 'steady-2', name: 'Steady', quantity: 1, unitPrice: 700, lineTotal: 700 },
        { sku: 'moves-2', name: 'Moving', quantity: 3, unitPrice: 1200, lineTotal: 3600 },
      ],
    });
  });

  it('a product withdrawn after it was added: checkout 409 (currentPrice null, withdrawn), reprice 422 until the line is removed, then checkout works', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'stays-3', quantity: 2, unitPrice: 250 });
    await addItem(t, shopper, cartId, { sku: 'withdrawn-3', quantity: 1, unitPrice: 900 });
    await withdraw('withdrawn-3');

    const refused = await checkout(cartId);
    expectProblem(refused, 409, 'PRICES_CHANGED');
    expect(refused.body.changes).toEqual([
      { sku: 'withdrawn-3', unitPrice: 900, currentPrice: null, reason: 'withdrawn' },
    ]);
    const notSold = await reprice(cartId);
    expectProblem(notSold, 422, 'PRODUCTS_NOT_AVAILABLE');
    expect(notSold.body.changes).toEqual(refused.body.changes);
    expect(await cartEvents(cartId)).toHaveLength(3);

    await t.http.delete(`/carts/${cartId}/items/withdrawn-3`).set('authorization', shopper).expect(200);
    await reprice(cartId).expect(200, { id: cartId, revision: 3 });
    const placed = await checkout(cartId).expect(200);
    const orderEvents = await t.readStream(`order-${placed.body.orderId}`);
    expect(orderEvents.map((e) => e.type)).toEqual(['OrderPlaced']);
    expect(orderEvents[0]!.data).toMatchObject({
      total: 500,
      lines: [{ sku: 'stays-3', name: 'stays-3', quantity: 2, unitPrice: 250 }],
    });
  });

  it('re-adding a sku whose catalog price changed → 409 PRICE_CHANGED until the cart is repriced, then the line grows at the new price', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'readd-4', quantity: 1, unitPrice: 800 });
    await ensureProduct(t, 'readd-4', 850);

    const refused = await add(cartId, { sku: 'readd-4', quantity: 1 });
    expectProblem(refused, 409, 'PRICE_CHANGED');
    expect(refused.body).toMatchObject({ sku: 'readd-4', unitPrice: 800, currentPrice: 850 });
    expect(await cartEvents(cartId)).toHaveLength(2);

    await reprice(cartId).expect(200);
    await add(cartId, { sku: 'readd-4', quantity: 2 }).expect(200, { id: cartId, revision: 3 });
    expect(await lines(cartId)).toEqual([
      { sku: 'readd-4', name: 'readd-4', quantity: 3, unitPrice: 850, lineTotal: 2550 },
    ]);
    expect((await cartEvents(cartId)).map((e) => e.type)).toEqual([
      'CartOpened',
      'ItemAdded',
      'ItemRepriced',
      'ItemAdded',
    ]);
  });

  it('a retried add-item (same Idempotency-Key) after a price change replays the first answer and appends nothing', async () => {
    await ensureProduct(t, 'retry-5', 600, { name: 'Retried' });
    const cartId = await openCart(t, shopper);
    const send = () =>
      t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .set('idempotency-key', 'add-retry-5')
        .send({ sku: 'retry-5', quantity: 2 });
    const first = await send().expect(200);
    await ensureProduct(t, 'retry-5', 650, { name: 'Retried' });

    const retry = await send().expect(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.etag).toBe(first.headers.etag);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const events = await cartEvents(cartId);
    expect(events.map((e) => e.type)).toEqual(['CartOpened', 'ItemAdded']);
    expect(events[1]!.data).toMatchObject({ quantity: 2, unitPrice: 600 });
  });
});
