import type { Response } from 'supertest';
import { addItem, ensureProduct, openCart } from '../support/cart-fixtures.js';
import { payOrder } from '../support/payments.js';
import { readStoreEnvs } from '../support/read-store-env.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** A placed order of `customer` with the given lines; answers its id and total. */
async function order(
  t: TestApp,
  auth: string,
  lines: { sku: string; quantity: number; unitPrice: number }[],
): Promise<{ orderId: string; total: number }> {
  const cartId = await openCart(t, auth);
  for (const line of lines) await addItem(t, auth, cartId, line);
  const res = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', auth).expect(200);
  expect(res.body.orderPlaced).toBe(true);
  return { orderId: res.body.orderId, total: lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0) };
}

describe.each(readStoreEnvs())('read side over HTTP (%s)', (_name, env) => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  let operator: string;
  let auditor: string;
  const orders: { orderId: string; total: number; customer: string; skus: string[] }[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ...env(), READ_WAIT_MS: '3000' });
    alice = t.bearer('alice', 'shopper');
    bob = t.bearer('bob', 'shopper');
    operator = t.bearer('op', 'operator');
    auditor = t.bearer('aud', 'auditor');
    const specs: [string, string, { sku: string; quantity: number; unitPrice: number }[]][] = [
      ['alice', alice, [{ sku: 'apple', quantity: 1, unitPrice: 100 }]],
      ['alice', alice, [{ sku: 'pear', quantity: 2, unitPrice: 300 }]],
      [
        'alice',
        alice,
        [
          { sku: 'apple', quantity: 3, unitPrice: 100 },
          { sku: 'kiwi', quantity: 1, unitPrice: 50 },
        ],
      ],
      ['alice', alice, [{ sku: 'plum', quantity: 5, unitPrice: 1000 }]],
      ['alice', alice, [{ sku: 'fig', quantity: 1, unitPrice: 700 }]],
      ['bob', bob, [{ sku: 'apple', quantity: 9, unitPrice: 100 }]],
      ['bob', bob, [{ sku: 'melon', quantity: 1, unitPrice: 2500 }]],
    ];
    for (const [customer, auth, lines] of specs) {
      const placed = await order(t, auth, lines);
      orders.push({ ...placed, customer, skus: lines.map((l) => l.sku) });
    }
    // Pay alice's second order so that statuses differ; wait until the read side has every order.
    const paid = orders[1]!;
    await payOrder(t.http, paid.orderId, paid.total, { paymentId: 'p-1' }).expect(200);
    for (const o of orders) {
      const minRevision = o === paid ? 1 : 0;
      const res: Response = await t.http
        .get(`/orders/${o.orderId}?minRevision=${minRevision}`)
        .set('authorization', operator);
      expect(res.body.meta).toMatchObject({ source: 'read-store', stale: false });
    }
  }, 60_000);

  afterAll(async () => {
    await t.close();
  });

  /** GET /orders until the search read model shows every order (it is fed by its own consumer group). */
  async function listAll(
    query: string,
    auth: string,
  ): Promise<{ id: string; total: number; status: string }[]> {
    const items: { id: string; total: number; status: string }[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const sep = query ? '&' : '';
      const res: Response = await t.http
        .get(`/orders?${query}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set('authorization', auth)
        .expect(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!cursor) return items;
    }
    throw new Error('too many pages');
  }

  async function waitForSearch(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const all = await listAll('', operator);
      const paid = all.find((o) => o.id === orders[1]!.orderId);
      if (all.length === orders.length && paid?.status === 'paid') return;
      if (Date.now() > deadline) throw new Error(`order_search has ${all.length} of ${orders.length} orders`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  describe('cached reads', () => {
    it('a read with minRevision sees the write it follows, and says where it comes from', async () => {
      await ensureProduct(t, 'x', 5, { name: 'X' });
      const cartId = await openCart(t, alice);
      const added = await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', alice)
        .send({ sku: 'x', quantity: 2 })
        .expect(200);
      const read = await t.http
        .get(`/carts/${cartId}?minRevision=${added.body.revision}`)
        .set('authorization', alice)
        .expect(200);
      expect(read.body.meta).toMatchObject({ revision: 1, source: 'read-store', stale: false });
      expect(read.body.meta.position).toBeGreaterThan(0);
      expect(Date.parse(read.body.meta.projectedAt)).toBeLessThanOrEqual(Date.now());
      expect(read.body.data.lines).toEqual([
        { sku: 'x', name: 'X', quantity: 2, unitPrice: 5, lineTotal: 10 },
      ]);
      expect(read.headers.etag).toBe('"1"');
    });

    it('a minRevision the stream never reaches answers what there is, marked stale, after READ_WAIT_MS', async () => {
      const cartId = await openCart(t, alice);
      await t.http.get(`/carts/${cartId}?minRevision=0`).set('authorization', alice).expect(200);
      const started = Date.now();
      const read = await t.http.get(`/carts/${cartId}?minRevision=7`).set('authorization', alice).expect(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
      expect(read.body.meta).toMatchObject({ revision: 0, source: 'read-store', stale: true });
    });

    it('consistency=strong folds the stream; both reads agree', async () => {
      const { orderId } = orders[1]!;
      const strong = await t.http
        .get(`/orders/${orderId}?consistency=strong`)
        .set('authorization', alice)
        .expect(200);
      const cached = await t.http
        .get(`/orders/${orderId}?minRevision=1`)
        .set('authorization', alice)
        .expect(200);
      expect(strong.body.meta).toEqual({
        revision: 1,
        position: null,
        projectedAt: null,
        source: 'event-store',
        stale: false,
        staleness: 0,
      });
      expect(strong.headers.age).toBe('0');
      expect(cached.body.data).toEqual(strong.body.data);
    });

    it('another customer’s cart or order is a 404 from the read model too', async () => {
      await t.http.get(`/orders/${orders[0]!.orderId}`).set('authorization', bob).expect(404);
      await t.http.get(`/orders/${orders[0]!.orderId}`).set('authorization', auditor).expect(200);
    });

    it.each([
      ['consistency=eventual', 'consistency'],
      ['minRevision=-1', 'minRevision'],
      ['minRevision=1.5', 'minRevision'],
      ['minRevision=1&minRevision=2', 'minRevision'],
      ['unknown=1', 'unknown'],
    ])('?%s is a 400 naming %s', async (query, field) => {
      const res: Response = await t.http
        .get(`/orders/${orders[0]!.orderId}?${query}`)
        .set('authorization', alice)
        .expect(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.body.errors)).toContain(field);
    });
  });

  describe('GET /orders', () => {
    beforeAll(waitForSearch);

    it('a shopper sees exactly their own orders, newest first by default', async () => {
      const mine = await listAll('', alice);
      const expected = orders
        .filter((o) => o.customer === 'alice')
        .map((o) => o.orderId)
        .reverse();
      expect(mine.map((o) => o.id)).toEqual(expected);
    });

    it('operators and auditors see everyone, and may filter by customer', async () => {
      expect(await listAll('', auditor)).toHaveLength(orders.length);
      const bobs = await listAll('customerId=bob', operator);
      expect(bobs.map((o) => o.id).sort()).toEqual(
        orders
          .filter((o) => o.customer === 'bob')
          .map((o) => o.orderId)
          .sort(),
      );
    });

    it('filters by status, sku and total range, and sorts by total', async () => {
      expect((await listAll('status=paid', alice)).map((o) => o.id)).toEqual([orders[1]!.orderId]);
      const apples = await listAll('sku=apple&sort=total', operator);
      expect(apples.map((o) => o.total)).toEqual([100, 350, 900]);
      const middle = await listAll('minTotal=350&maxTotal=2500&sort=-total', operator);
      expect(middle.map((o) => o.total)).toEqual([2500, 900, 700, 600, 350]);
    });

    it('filters by creation instant (inclusive range)', async () => {
      const future = await listAll('from=2999-01-01', operator);
      expect(future).toEqual([]);
      const all = await listAll('from=2020-01-01T00:00:00Z&to=2999-12-31T23:59:59.999%2B02:00', operator);
      expect(all).toHaveLength(orders.length);
    });

    it('pages never repeat or skip an order, whatever the sort', async () => {
      for (const sort of ['createdAt', '-createdAt', 'total', '-total', 'updatedAt', '-updatedAt']) {
        const ids = (await listAll(`sort=${sort}`, operator)).map((o) => o.id);
        expect(ids).toHaveLength(orders.length);
        expect(new Set(ids).size).toBe(orders.length);
      }
    });

    it('a shopper cannot list another customer’s orders', async () => {
      const res = await t.http.get('/orders?customerId=bob').set('authorization', alice).expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });

    it.each([
      ['status[$ne]=paid'],
      ['status=paid&status=placed'],
      ['status=lost'],
      ['sku[$gt]='],
      ['minTotal=-5'],
      ['maxTotal=1e3'],
      ['from=2026-02-30'],
      ['from=2026-05-02T14:03'],
      ['to=yesterday'],
      ['sort=customerId'],
      ['limit=0'],
      ['limit=101'],
      ['limit=ten'],
      ['cursor=!!'],
      ['cursor=eyJ2IjoxfQ'],
      ['customerId[$regex]=.*'],
      ['whatever=1'],
    ])('?%s is a 400 problem, never a store operator', async (query) => {
      const res = await t.http.get(`/orders?${query}`).set('authorization', operator).expect(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.status).toBe(400);
    });

    it('a cursor only continues the query that made it', async () => {
      const first = await t.http.get('/orders?limit=1&sort=total').set('authorization', operator).expect(200);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const res: Response = await t.http
        .get(`/orders?limit=1&sort=-total&cursor=${first.body.nextCursor}`)
        .set('authorization', operator)
        .expect(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    });

    it('an empty range is a 400', async () => {
      const res: Response = await t.http
        .get('/orders?minTotal=10&maxTotal=5')
        .set('authorization', operator)
        .expect(400);
      expect(res.body.code).toBe('INVALID_RANGE');
    });
  });

  describe('timelines', () => {
    async function timeline(path: string, auth: string, expected: number) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const res = await t.http.get(path).set('authorization', auth).expect(200);
        if (res.body.items.length >= expected || Date.now() > deadline) return res.body;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('an order’s timeline tells its history in order, in words', async () => {
      const { orderId } = orders[1]!;
      const body = await timeline(`/orders/${orderId}/timeline`, alice, 2);
      expect(body.items.map((i: { type: string }) => i.type)).toEqual(['OrderPlaced', 'OrderPaid']);
      expect(body.items[0]).toMatchObject({
        orderId,
        customerId: 'alice',
        revision: 0,
        summary: 'Order placed: 1 line(s), 2 unit(s), total 6.00 EUR',
        at: expect.stringMatching(/Z$/),
      });
      expect(body.items[1].summary).toBe('Paid 6.00 EUR (payment p-1)');
      expect(body.items[1].position).toBeGreaterThan(body.items[0].position);
      expect(body.nextCursor).toBeNull();
    });

    it('a customer’s timeline pages through every order event of that customer', async () => {
      await timeline('/customers/alice/timeline?limit=100', alice, 6);
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res: Response = await t.http
          .get(`/customers/alice/timeline?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
          .set('authorization', alice)
          .expect(200);
        seen.push(...res.body.items.map((i: { position: number }) => i.position));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(6); // five placed + one paid
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    });

    it('nobody reads another customer’s timeline but operators and auditors', async () => {
      await t.http.get('/customers/alice/timeline').set('authorization', bob).expect(404);
      await t.http.get(`/orders/${orders[0]!.orderId}/timeline`).set('authorization', bob).expect(404);
      await t.http.get('/customers/alice/timeline').set('authorization', auditor).expect(200);
      await t.http.get(`/orders/${orders[0]!.orderId}/timeline`).set('authorization', operator).expect(200);
      await t.http.get('/customers/alice/timeline').expect(401);
    });
  });
});
