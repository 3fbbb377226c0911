import { addItem, ensureProduct, openCart, placeOrder } from '../support/cart-fixtures.js';
import { payOrder } from '../support/payments.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Who = 'owner' | 'otherShopper' | 'operator' | 'auditor' | 'anonymous' | 'badToken' | 'noRoles';

interface Route {
  name: string;
  /** Creates what the route needs and returns the request path and body. */
  prepare(
    t: TestApp,
    owner: string,
  ): Promise<{ method: 'get' | 'post' | 'patch' | 'delete'; path: string; body?: object }>;
  expected: Record<Who, number>;
}

const denyAll = { anonymous: 401, badToken: 401, noRoles: 403 } as const;
const shopperOnly = { owner: 200, otherShopper: 404, operator: 403, auditor: 403, ...denyAll };
const operatorOnly = { owner: 403, otherShopper: 403, operator: 200, auditor: 403, ...denyAll };
const readers = { owner: 200, otherShopper: 404, operator: 200, auditor: 200, ...denyAll };
const everyone = {
  owner: 200,
  otherShopper: 200,
  operator: 200,
  auditor: 200,
  anonymous: 200,
  badToken: 200,
  noRoles: 200,
};
const auditors = { owner: 403, otherShopper: 403, operator: 200, auditor: 200, ...denyAll };

/** A cart opened under a correlation id of its own (for GET /correlations/:id). */
async function correlatedCart(t: TestApp, owner: string): Promise<{ cartId: string; correlationId: string }> {
  const correlationId = `roles-${Math.random().toString(36).slice(2)}`;
  const res = await t.http
    .post('/carts')
    .set('authorization', owner)
    .set('x-correlation-id', correlationId)
    .send({ currency: 'EUR' });
  return { cartId: res.body.id as string, correlationId };
}

const routes: Route[] = [
  {
    name: 'POST /carts',
    prepare: async () => ({ method: 'post', path: '/carts', body: { currency: 'EUR' } }),
    expected: { owner: 201, otherShopper: 201, operator: 403, auditor: 403, ...denyAll },
  },
  {
    name: 'GET /carts/:id',
    prepare: async (t, owner) => ({ method: 'get', path: `/carts/${await openCart(t, owner)}` }),
    expected: readers,
  },
  {
    name: 'POST /carts/:id/items',
    prepare: async (t, owner) => {
      await ensureProduct(t, 's', 100);
      return {
        method: 'post',
        path: `/carts/${await openCart(t, owner)}/items`,
        body: { sku: 's', quantity: 1 },
      };
    },
    expected: shopperOnly,
  },
  {
    name: 'POST /carts/:id/reprice',
    prepare: async (t, owner) => {
      const id = await openCart(t, owner);
      await addItem(t, owner, id, { sku: 's' });
      return { method: 'post', path: `/carts/${id}/reprice` };
    },
    expected: shopperOnly,
  },
  {
    name: 'PATCH /carts/:id/items/:sku',
    prepare: async (t, owner) => {
      const id = await openCart(t, owner);
      await addItem(t, owner, id, { sku: 's' });
      return { method: 'patch', path: `/carts/${id}/items/s`, body: { quantity: 3 } };
    },
    expected: shopperOnly,
  },
  {
    name: 'DELETE /carts/:id/items/:sku',
    prepare: async (t, owner) => {
      const id = await openCart(t, owner);
      await addItem(t, owner, id, { sku: 's' });
      return { method: 'delete', path: `/carts/${id}/items/s` };
    },
    expected: shopperOnly,
  },
  {
    name: 'POST /carts/:id/checkout',
    prepare: async (t, owner) => {
      const id = await openCart(t, owner);
      await addItem(t, owner, id, { sku: 's' });
      return { method: 'post', path: `/carts/${id}/checkout` };
    },
    expected: shopperOnly,
  },
  {
    name: 'POST /carts/:id/abandon',
    prepare: async (t, owner) => ({ method: 'post', path: `/carts/${await openCart(t, owner)}/abandon` }),
    expected: shopperOnly,
  },
  {
    name: 'GET /orders/:id',
    prepare: async (t, owner) => ({ method: 'get', path: `/orders/${(await placeOrder(t, owner)).orderId}` }),
    expected: readers,
  },
  {
    name: 'POST /orders/:id/payments',
    prepare: async (t, owner) => {
      const { orderId, total } = await placeOrder(t, owner);
      return {
        method: 'post',
        path: `/orders/${orderId}/payments`,
        body: { paymentId: 'manual-1', amount: total, currency: 'EUR', reason: 'bank transfer' },
      };
    },
    // Only operators record a payment by hand; shoppers pay through the provider's webhook.
    expected: operatorOnly,
  },
  {
    name: 'POST /orders/:id/shipments',
    prepare: async (t, owner) => {
      const { orderId, total } = await placeOrder(t, owner);
      await payOrder(t.http, orderId, total).expect(200);
      return {
        method: 'post',
        path: `/orders/${orderId}/shipments`,
        body: { carrier: 'UPS', trackingNumber: 'T1' },
      };
    },
    expected: operatorOnly,
  },
  {
    name: 'POST /orders/:id/delivery',
    prepare: async (t, owner) => {
      const { orderId, total } = await placeOrder(t, owner);
      const op = t.bearer('op', 'operator');
      await payOrder(t.http, orderId, total).expect(200);
      await t.http
        .post(`/orders/${orderId}/shipments`)
        .set('authorization', op)
        .send({ carrier: 'UPS', trackingNumber: 'T' });
      return { method: 'post', path: `/orders/${orderId}/delivery` };
    },
    expected: operatorOnly,
  },
  {
    name: 'POST /orders/:id/refunds',
    prepare: async (t, owner) => {
      const { orderId, total } = await placeOrder(t, owner);
      await payOrder(t.http, orderId, total).expect(200);
      return { method: 'post', path: `/orders/${orderId}/refunds`, body: { amount: 1 } };
    },
    expected: operatorOnly,
  },
  {
    name: 'POST /orders/:id/cancellation',
    prepare: async (t, owner) => ({
      method: 'post',
      path: `/orders/${(await placeOrder(t, owner)).orderId}/cancellation`,
      body: { reason: 'changed my mind' },
    }),
    expected: { owner: 200, otherShopper: 404, operator: 200, auditor: 403, ...denyAll },
  },
  {
    name: 'GET /carts/:id/state',
    prepare: async (t, owner) => ({
      method: 'get',
      path: `/carts/${await openCart(t, owner)}/state?atRevision=0`,
    }),
    expected: readers,
  },
  {
    name: 'GET /carts/:id/diff',
    prepare: async (t, owner) => {
      const id = await openCart(t, owner);
      await addItem(t, owner, id, { sku: 's' });
      return { method: 'get', path: `/carts/${id}/diff?from=0&to=1` };
    },
    expected: readers,
  },
  {
    name: 'GET /orders/:id/state',
    prepare: async (t, owner) => ({
      method: 'get',
      path: `/orders/${(await placeOrder(t, owner)).orderId}/state?asOf=2999-01-01T00:00:00Z`,
    }),
    expected: readers,
  },
  {
    name: 'GET /orders/:id/diff',
    prepare: async (t, owner) => ({
      method: 'get',
      path: `/orders/${(await placeOrder(t, owner)).orderId}/diff?from=0`,
    }),
    expected: readers,
  },
  {
    name: 'GET /audit/streams/:stream/events',
    prepare: async (t, owner) => ({
      method: 'get',
      path: `/audit/streams/cart-${await openCart(t, owner)}/events`,
    }),
    expected: auditors,
  },
  {
    name: 'GET /audit/events',
    prepare: async (t, owner) => ({
      method: 'get',
      path: `/audit/events?streamPrefix=cart-${await openCart(t, owner)}`,
    }),
    expected: auditors,
  },
  {
    name: 'GET /correlations/:correlationId',
    prepare: async (t, owner) => ({
      method: 'get',
      path: `/correlations/${(await correlatedCart(t, owner)).correlationId}`,
    }),
    expected: auditors,
  },
  // Observability: /metrics is the operator's (or METRICS_TOKEN's, see metrics.e2e.spec.ts); the API
  // document and health are anonymous, and a token — even a bad one — changes nothing there.
  {
    name: 'GET /metrics',
    prepare: async () => ({ method: 'get', path: '/metrics' }),
    expected: operatorOnly,
  },
  { name: 'GET /docs', prepare: async () => ({ method: 'get', path: '/docs' }), expected: everyone },
  {
    name: 'GET /docs/json',
    prepare: async () => ({ method: 'get', path: '/docs/json' }),
    expected: everyone,
  },
  {
    name: 'GET /health/live',
    prepare: async () => ({ method: 'get', path: '/health/live' }),
    expected: everyone,
  },
  {
    name: 'GET /health/ready',
    prepare: async () => ({ method: 'get', path: '/health/ready' }),
    expected: everyone,
  },
];

describe('role matrix', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  function authFor(who: Who, owner: string): string | undefined {
    switch (who) {
      case 'owner':
        return owner;
      case 'otherShopper':
        return t.bearer('someone-else', 'shopper');
      case 'operator':
        return t.bearer('op-1', 'operator');
      case 'auditor':
        return t.bearer('aud-1', 'auditor');
      case 'anonymous':
        return undefined;
      case 'badToken':
        return `${t.bearer('c', 'shopper')}x`;
      case 'noRoles':
        return t.bearer('nobody');
    }
  }

  for (const route of routes) {
    for (const who of Object.keys(route.expected) as Who[]) {
      it(`${route.name} as ${who} → ${route.expected[who]}`, async () => {
        const owner = t.bearer(`owner-${Math.random().toString(36).slice(2)}`, 'shopper');
        const { method, path, body } = await route.prepare(t, owner);
        let req = t.http[method](path);
        const auth = authFor(who, owner);
        if (auth) req = req.set('authorization', auth);
        const res = body ? await req.send(body) : await req;
        expect({ status: res.status, body: res.status >= 400 ? res.body.code : undefined }).toMatchObject({
          status: route.expected[who],
        });
        if (res.status >= 400) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      });
    }
  }

  it('a token signed with another secret, an expired token and a token with unknown roles are 401', async () => {
    const { JwtService } = await import('@nestjs/jwt');
    const wrong = new JwtService({ secret: 'another-secret-entirely-0123456789' }).sign({
      sub: 'c',
      roles: ['shopper'],
    });
    const right = new JwtService({ secret: (await import('../support/test-app.js')).TEST_JWT_SECRET });
    const expired = right.sign({ sub: 'c', roles: ['shopper'], exp: Math.floor(Date.now() / 1000) - 10 });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const badRoles = right.sign({ sub: 'c', roles: ['admin'], exp });
    const noSub = right.sign({ roles: ['shopper'], exp });
    for (const token of [wrong, expired, badRoles, noSub]) {
      const res = await t.http
        .post('/carts')
        .set('authorization', `Bearer ${token}`)
        .send({ currency: 'EUR' });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHORIZED');
    }
  });

  it('health needs no token', async () => {
    await t.http.get('/health/live').expect(200, { status: 'up' });
    await t.http.get('/health/ready').expect(200);
  });
});
