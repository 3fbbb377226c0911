import type { Response } from 'supertest';
import { addItem, ensureProduct, openCart, placeOrder } from '../support/cart-fixtures.js';
import { eventually } from '../support/eventually.js';
import { readStoreEnvs } from '../support/read-store-env.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const READ_WAIT_MS = 1500;

/**
 * Staleness as docs/consistency.md#staleness defines it, over HTTP: a document trails by the time since the
 * append of the first event of its stream it does not reflect; a list by its read model's lag in time. Each
 * case pauses a projection (the operator's pause) to make data stale for real, and checks the figure against
 * the events' own append times: it must lie between "sent" and "answered" minus that time.
 */
describe.each(readStoreEnvs())('staleness over HTTP (%s)', (_name, env) => {
  let t: TestApp;
  let alice: string;
  let operator: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...env(),
      READ_WAIT_MS: String(READ_WAIT_MS),
      PROJECTION_HEARTBEAT_MS: '100',
    });
    alice = t.bearer('alice', 'shopper');
    operator = t.bearer('op', 'operator');
    await ensureProduct(t, 'tea', 400, { name: 'Tea' });
  }, 30_000);

  afterAll(async () => {
    await t.close();
  });

  const pause = (name: string) =>
    t.http.post(`/admin/projections/${name}/pause`).set('authorization', operator).expect(200);
  const resume = (name: string) =>
    t.http.post(`/admin/projections/${name}/resume`).set('authorization', operator).expect(200);

  /** The append time (epoch ms) of revision `revision` of `stream`. */
  async function appendedAt(stream: string, revision: number): Promise<number> {
    const event = (await t.readStream(stream))[revision];
    if (!event) throw new Error(`${stream} has no revision ${revision}`);
    return event.created.getTime();
  }

  /** GET with timing: the staleness it reports must lie in [sent − appended, answered − appended]. */
  async function timed(
    send: () => Promise<Response>,
  ): Promise<{ res: Response; sent: number; answered: number }> {
    const sent = Date.now();
    const res = await send();
    return { res, sent, answered: Date.now() };
  }

  function expectStaleSince(
    { res, sent, answered }: { res: Response; sent: number; answered: number },
    staleness: number,
    appended: number,
  ): void {
    expect(staleness).toBeGreaterThanOrEqual(sent - appended - 1);
    expect(staleness).toBeLessThanOrEqual(answered - appended + 1);
    expect(res.headers.age).toBe(String(Math.floor(staleness / 1000)));
  }

  describe('a document (GET /carts/:id)', () => {
    it('that reflects its whole stream is 0 stale: Age 0', async () => {
      const cartId = await openCart(t, alice);
      await addItem(t, alice, cartId, { sku: 'tea', unitPrice: 400 });
      const res = await t.http.get(`/carts/${cartId}?minRevision=1`).set('authorization', alice).expect(200);
      expect(res.body.meta).toMatchObject({ revision: 1, source: 'read-store', stale: false, staleness: 0 });
      expect(res.headers.age).toBe('0');
    });

    it('behind a paused projection: stale since its first missing event; max-stale waits, then reads the stream', async () => {
      const cartId = await openCart(t, alice);
      await t.http.get(`/carts/${cartId}?minRevision=0`).set('authorization', alice).expect(200);
      await pause('carts');
      try {
        await addItem(t, alice, cartId, { sku: 'tea', unitPrice: 400 });
        await addItem(t, alice, cartId, { sku: 'tea', unitPrice: 400 });
        // Revision 1 is the first event the document (at revision 0) does not reflect; revision 2 does not
        // count. A second and a bit, so that Age says 1.
        const firstMissing = await appendedAt(`cart-${cartId}`, 1);
        await new Promise((resolve) => setTimeout(resolve, 1100));

        const stale = await timed(() => t.http.get(`/carts/${cartId}`).set('authorization', alice));
        expect(stale.res.status).toBe(200);
        expect(stale.res.body.meta).toMatchObject({ revision: 0, source: 'read-store', stale: false });
        expectStaleSince(stale, stale.res.body.meta.staleness, firstMissing);
        expect(Number(stale.res.headers.age)).toBeGreaterThanOrEqual(1);

        // A bound the document meets: answered from the read model, as it is.
        const loose = await t.http
          .get(`/carts/${cartId}?maxStaleMs=60000`)
          .set('authorization', alice)
          .expect(200);
        expect(loose.body.meta).toMatchObject({ revision: 0, source: 'read-store' });
        expect(loose.body.meta.staleness).toBeGreaterThanOrEqual(1000);

        // A bound it does not meet: waited for up to READ_WAIT_MS, then folded from the stream.
        for (const send of [
          () => t.http.get(`/carts/${cartId}`).set('cache-control', 'max-stale=0'),
          () => t.http.get(`/carts/${cartId}?maxStaleMs=500`),
          // The stricter of the two holds.
          () => t.http.get(`/carts/${cartId}?maxStaleMs=60000`).set('cache-control', 'no-cache, max-stale=1'),
        ]) {
          const started = Date.now();
          const strict = await send().set('authorization', alice).expect(200);
          expect(Date.now() - started).toBeGreaterThanOrEqual(READ_WAIT_MS - 50);
          expect(strict.body.meta).toMatchObject({
            revision: 2,
            source: 'event-store',
            stale: false,
            staleness: 0,
            position: null,
          });
          expect(strict.headers.age).toBe('0');
          expect(strict.body.data.lines).toEqual([
            { sku: 'tea', name: 'Tea', quantity: 2, unitPrice: 400, lineTotal: 800 },
          ]);
        }
      } finally {
        await resume('carts');
      }
      const caughtUp = await eventually(
        () => t.http.get(`/carts/${cartId}`).set('authorization', alice),
        (res) => res.body.meta?.revision === 2,
      );
      expect(caughtUp.body.meta).toMatchObject({ revision: 2, source: 'read-store', staleness: 0 });
      expect(caughtUp.headers.age).toBe('0');
    }, 30_000);

    it('a max-stale read answers from the read model as soon as the projection catches up within the wait', async () => {
      const cartId = await openCart(t, alice);
      await t.http.get(`/carts/${cartId}?minRevision=0`).set('authorization', alice).expect(200);
      await pause('carts');
      let resumed: Promise<unknown> = Promise.resolve();
      try {
        await addItem(t, alice, cartId, { sku: 'tea', unitPrice: 400 });
        const read = t.http.get(`/carts/${cartId}?maxStaleMs=0`).set('authorization', alice);
        resumed = new Promise((resolve) => setTimeout(resolve, 150)).then(() => resume('carts'));
        const res = await read.expect(200);
        expect(res.body.meta).toMatchObject({ revision: 1, source: 'read-store', staleness: 0 });
      } finally {
        await resumed;
        await resume('carts');
      }
    }, 30_000);

    it('the same holds for orders and products', async () => {
      const { orderId } = await placeOrder(t, alice, 400, 1);
      await t.http.get(`/orders/${orderId}?minRevision=0`).set('authorization', alice).expect(200);
      await pause('orders');
      await pause('products');
      try {
        await t.http
          .post(`/orders/${orderId}/cancellation`)
          .set('authorization', alice)
          .send({ reason: 'changed my mind' })
          .expect(200);
        const cancelled = await appendedAt(`order-${orderId}`, 1);
        const order = await timed(() => t.http.get(`/orders/${orderId}`).set('authorization', alice));
        expect(order.res.body.meta).toMatchObject({ revision: 0, source: 'read-store' });
        expectStaleSince(order, order.res.body.meta.staleness, cancelled);
        const strict = await t.http
          .get(`/orders/${orderId}`)
          .set('cache-control', 'max-stale=0')
          .set('authorization', alice)
          .expect(200);
        expect(strict.body).toMatchObject({
          data: { status: 'cancelled' },
          meta: { source: 'event-store', staleness: 0 },
        });

        await t.http
          .patch('/catalog/products/tea/price')
          .set('authorization', operator)
          .send({ prices: { EUR: 450 } })
          .expect(200);
        const stream = await t.readStream('product-tea');
        const repriced = stream[stream.length - 1]!.created.getTime();
        const product = await timed(() => t.http.get('/catalog/products/tea').set('authorization', alice));
        expect(product.res.body.data.prices).toEqual({ EUR: 400 });
        expectStaleSince(product, product.res.body.meta.staleness, repriced);
        const fresh = await t.http
          .get('/catalog/products/tea?maxStaleMs=0')
          .set('authorization', alice)
          .expect(200);
        expect(fresh.body).toMatchObject({ data: { prices: { EUR: 450 } }, meta: { source: 'event-store' } });
      } finally {
        await resume('orders');
        await resume('products');
      }
    }, 30_000);
  });

  describe('a list', () => {
    /** Waits until `name` has applied everything (a list of it answers with maxStaleMs=0). */
    async function caughtUp(url: string): Promise<void> {
      const res = await eventually(
        () => t.http.get(url).set('authorization', operator),
        (r) => r.status === 200,
      );
      expect(res.status).toBe(200);
    }

    it('of a read model that applied everything is 0 stale: Age 0', async () => {
      await caughtUp('/orders?maxStaleMs=0');
      const res = await t.http.get('/orders?maxStaleMs=0').set('authorization', operator).expect(200);
      expect(res.body.meta).toEqual({ staleness: 0 });
      expect(res.headers.age).toBe('0');
    });

    it('behind a paused projection: stale since the oldest event it has not applied; past max-stale a 503 says how stale', async () => {
      await caughtUp('/orders?maxStaleMs=0');
      await pause('order_search');
      let orderId: string;
      try {
        ({ orderId } = await placeOrder(t, alice, 450, 2));
        const oldestMissing = await appendedAt(`order-${orderId}`, 0);

        const list = await timed(() => t.http.get('/orders?limit=100').set('authorization', operator));
        expect(list.res.status).toBe(200);
        expect(list.res.body.items.map((o: { id: string }) => o.id)).not.toContain(orderId);
        expectStaleSince(list, list.res.body.meta.staleness, oldestMissing);

        for (const send of [
          () => t.http.get('/orders?maxStaleMs=0'),
          () => t.http.get('/orders').set('cache-control', 'max-stale=0'),
        ]) {
          const refused = await timed(() => send().set('authorization', operator));
          expect(refused.res.status).toBe(503);
          expect(refused.res.headers['content-type']).toContain('application/problem+json');
          // The budget of order_search (5 s): by then a projection within budget has applied what waits now.
          expect(refused.res.headers['retry-after']).toBe('5');
          expect(refused.res.body).toMatchObject({
            status: 503,
            code: 'READ_MODEL_TOO_STALE',
            readModel: 'order_search',
            maxStale: 0,
            retryAfter: 5,
          });
          expect(refused.res.body.detail).toMatch(/^order_search is \d+ ms stale/);
          expect(refused.res.body.staleness).toBeGreaterThanOrEqual(refused.sent - oldestMissing - 1);
          expect(refused.res.body.staleness).toBeLessThanOrEqual(refused.answered - oldestMissing + 1);
          expect(refused.res.headers.age).toBeUndefined();
        }
        // A bound the list meets, or none (a bare max-stale accepts any staleness).
        await t.http
          .get('/orders')
          .set('cache-control', 'max-stale=3600')
          .set('authorization', operator)
          .expect(200);
        await t.http
          .get('/orders')
          .set('cache-control', 'max-stale')
          .set('authorization', operator)
          .expect(200);
      } finally {
        await resume('order_search');
      }
      const after = await eventually(
        () => t.http.get('/orders?maxStaleMs=0&limit=100').set('authorization', operator),
        (r) => r.status === 200,
      );
      expect(after.status).toBe(200);
      expect(after.body.meta).toEqual({ staleness: 0 });
      expect(after.body.items.map((o: { id: string }) => o.id)).toContain(orderId!);
    }, 30_000);

    it('timelines and the catalog list follow their own read models', async () => {
      const { orderId } = await placeOrder(t, alice, 450, 1);
      await caughtUp(`/orders/${orderId}/timeline?maxStaleMs=0`);
      await caughtUp('/catalog/products?maxStaleMs=0');
      await pause('order_timeline');
      await pause('products');
      try {
        await t.http
          .post(`/orders/${orderId}/cancellation`)
          .set('authorization', alice)
          .send({ reason: 'too slow' })
          .expect(200);
        const cancelled = await appendedAt(`order-${orderId}`, 1);
        for (const url of [`/orders/${orderId}/timeline`, '/customers/alice/timeline']) {
          const page = await timed(() => t.http.get(url).set('authorization', alice));
          expect(page.res.status).toBe(200);
          expectStaleSince(page, page.res.body.meta.staleness, cancelled);
          const refused = await t.http.get(`${url}?maxStaleMs=0`).set('authorization', alice).expect(503);
          expect(refused.body).toMatchObject({ code: 'READ_MODEL_TOO_STALE', readModel: 'order_timeline' });
        }
        // Other read models are not held back by a paused one.
        await t.http.get('/orders?maxStaleMs=60000').set('authorization', alice).expect(200);

        await t.http
          .patch('/catalog/products/tea/price')
          .set('authorization', operator)
          .send({ prices: { EUR: 500 } })
          .expect(200);
        const stream = await t.readStream('product-tea');
        const repriced = stream[stream.length - 1]!.created.getTime();
        const products = await timed(() => t.http.get('/catalog/products').set('authorization', alice));
        expectStaleSince(products, products.res.body.meta.staleness, repriced);
        const refused = await t.http.get('/catalog/products?maxStaleMs=0').set('authorization', alice);
        expect(refused.status).toBe(503);
        // The budget of products (1 s).
        expect(refused.headers['retry-after']).toBe('1');
      } finally {
        await resume('order_timeline');
        await resume('products');
      }
      await caughtUp(`/orders/${orderId}/timeline?maxStaleMs=0`);
      await caughtUp('/catalog/products?maxStaleMs=0');
    }, 30_000);
  });

  describe('the bound is validated', () => {
    it.each([
      ['max-stale=abc', 'Cache-Control'],
      ['max-stale=-1', 'Cache-Control'],
      ['max-stale=1.5', 'Cache-Control'],
      ['max-stale="2', 'Cache-Control'],
    ])('Cache-Control: %s is a 400 naming %s', async (header, field) => {
      for (const url of ['/orders', '/catalog/products/tea']) {
        const res = await t.http
          .get(url)
          .set('cache-control', header)
          .set('authorization', alice)
          .expect(400);
        expect(res.body).toMatchObject({ code: 'INVALID_CACHE_CONTROL' });
        expect(JSON.stringify(res.body.errors)).toContain(field);
      }
    });

    it.each(['-1', '1.5', 'soon', '1234567890123'])('?maxStaleMs=%s is a 400', async (value) => {
      for (const url of ['/orders', '/catalog/products/tea', '/customers/alice/timeline']) {
        const res = await t.http.get(`${url}?maxStaleMs=${value}`).set('authorization', alice).expect(400);
        expect(JSON.stringify(res.body.errors)).toContain('maxStaleMs');
      }
    });

    it('other directives, and a quoted max-stale, are taken as HTTP says', async () => {
      await t.http
        .get('/catalog/products/tea')
        .set('cache-control', 'no-cache')
        .set('authorization', alice)
        .expect(200);
      await t.http
        .get('/catalog/products/tea')
        .set('cache-control', 'no-store, max-stale="60", private="a, b"')
        .set('authorization', alice)
        .expect(200);
    });
  });
});
