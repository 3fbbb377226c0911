import { ensureProduct, openCart } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('concurrent writers never lose an update', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  /** The catalog sells `count` products, sku-i as `item i` at 100 + i (listed before any writer starts). */
  async function listProducts(count: number) {
    for (let i = 0; i < count; i++) await ensureProduct(t, `sku-${i}`, 100 + i, { name: `item ${i}` });
  }

  async function hammer(concurrency: number) {
    await listProducts(concurrency);
    const shopper = t.bearer('c-conc', 'shopper');
    const cartId = await openCart(t, shopper);
    const responses = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        t.http
          .post(`/carts/${cartId}/items`)
          .set('authorization', shopper)
          .send({ sku: `sku-${i}`, quantity: 1 + (i % 5) }),
      ),
    );
    return { cartId, shopper, responses };
  }

  it('64 concurrent add-item requests on one cart: every 2xx is in the stream, failures are 409s, lines = successes', async () => {
    t = await startTestApp();
    const { cartId, shopper, responses } = await hammer(64);
    const ok = responses.filter((r) => r.status === 200);
    const failed = responses.filter((r) => r.status !== 200);
    for (const r of failed) {
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('CONCURRENT_MODIFICATION');
    }
    const revisions = ok.map((r) => r.body.revision as number).sort((a, b) => a - b);
    expect(new Set(revisions).size).toBe(ok.length);

    const events = await t.readStream(`cart-${cartId}`);
    const added = events.filter((e) => e.type === 'ItemAdded');
    expect(added).toHaveLength(ok.length);
    const cart = await t.http
      .get(`/carts/${cartId}?consistency=strong`)
      .set('authorization', shopper)
      .expect(200);
    const skus = ok.map((r) => (r.request as unknown as { _data: { sku: string } })._data.sku).sort();
    expect(cart.body.data.lines.map((l: { sku: string }) => l.sku).sort()).toEqual(skus);
    // Every line holds the catalog's name and price for its sku and the quantity its request asked for.
    for (const line of cart.body.data.lines as {
      sku: string;
      name: string;
      quantity: number;
      unitPrice: number;
    }[]) {
      const i = Number(line.sku.slice('sku-'.length));
      expect(line).toMatchObject({ name: `item ${i}`, quantity: 1 + (i % 5), unitPrice: 100 + i });
    }
    expect(cart.body.meta.revision).toBe(ok.length);
  });

  it('two service instances on one store: stale caches conflict, retries re-decide, nothing is lost', async () => {
    t = await startTestApp();
    const other = await startTestApp({ DATA_DIR: t.dataDir });
    try {
      await listProducts(40);
      const shopper = t.bearer('c-two', 'shopper');
      const cartId = await openCart(t, shopper);
      // Both instances cache the cart, then write alternately: every write after the first finds a stale cache.
      await t.http.get(`/carts/${cartId}?consistency=strong`).set('authorization', shopper).expect(200);
      await other.http.get(`/carts/${cartId}?consistency=strong`).set('authorization', shopper).expect(200);
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? t : other).http
            .post(`/carts/${cartId}/items`)
            .set('authorization', shopper)
            .send({ sku: `sku-${i}`, quantity: 1 }),
        ),
      );
      expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      const ok = responses.filter((r) => r.status === 200);
      expect(ok.length).toBeGreaterThan(0);
      const cart = await other.http
        .get(`/carts/${cartId}?consistency=strong`)
        .set('authorization', shopper)
        .expect(200);
      expect(cart.body.data.lines).toHaveLength(ok.length);
      expect(cart.body.meta.revision).toBe(ok.length);
      const events = await t.readStream(`cart-${cartId}`);
      expect(events.map((e) => Number(e.revision))).toEqual(events.map((_, i) => i));
    } finally {
      await other.close();
    }
  });
});
