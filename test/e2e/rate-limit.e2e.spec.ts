import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { startService, type ServiceProcess } from '../support/service-process.js';
import { ShopClient } from '../support/shop-client.js';
import { startTestApp } from '../support/test-app.js';

const SECRET = 'rate-limit-e2e-secret-0123456789abcdef';
const jwt = new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h' } });
const bearer = (sub: string, role = 'shopper'): string => `Bearer ${jwt.sign({ sub, roles: [role] })}`;

// The built service in its own process: @nestjs/throttler is CommonJS requiring the ESM-only @nestjs/common,
// which Node loads (require(esm)) but Jest's module loader only on Node 24.9+. This is also the real thing.
describe('rate limiting (RATE_LIMIT_PER_MINUTE=3)', () => {
  let service: ServiceProcess;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-ratelimit-'));
    service = await startService({ AUTH_JWT_SECRET: SECRET, DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '3' });
  }, 30_000);
  afterAll(async () => {
    await service.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const openCart = (auth: string): Promise<Response> =>
    fetch(`${service.url}/carts`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'EUR' }),
    });

  it('answers the mutation over the budget with 429 problem+json and Retry-After; reads go on', async () => {
    // The operator lists the product (on a budget of its own: the budget is keyed on the token's subject).
    await new ShopClient(service.url, SECRET).listProduct('s', 1);
    const shopper = bearer(`c-${randomUUID()}`);
    const first = await openCart(shopper);
    expect(first.status).toBe(201);
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    const { id } = (await first.json()) as { id: string };
    // Other mutating routes share the same budget.
    const add = await fetch(`${service.url}/carts/${id}/items`, {
      method: 'POST',
      headers: { authorization: shopper, 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 's', quantity: 1 }),
    });
    expect(add.status).toBe(200);
    expect((await openCart(shopper)).status).toBe(201);

    const refused = await openCart(shopper);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({
      status: 429,
      code: 'TOO_MANY_REQUESTS',
      title: 'Too Many Requests',
    });

    // Reads are not limited.
    for (let i = 0; i < 5; i++) {
      const read = await fetch(`${service.url}/carts/${id}`, { headers: { authorization: shopper } });
      expect(read.status).toBe(200);
    }
  });

  it('keys the budget on the token subject, not on the (shared) IP', async () => {
    const a = bearer(`c-${randomUUID()}`);
    const b = bearer(`c-${randomUUID()}`);
    for (let i = 0; i < 3; i++) expect((await openCart(a)).status).toBe(201);
    expect((await openCart(a)).status).toBe(429);
    expect((await openCart(b)).status).toBe(201);
  });

  it('a request with a bad token is 401, not counted against anyone', async () => {
    for (let i = 0; i < 5; i++) expect((await openCart('Bearer x.y.z')).status).toBe(401);
    expect((await openCart(bearer(`c-${randomUUID()}`))).status).toBe(201);
  });
});

describe('rate limiting off (the default, RATE_LIMIT_PER_MINUTE=0)', () => {
  it('never throttles and sends no rate-limit headers', async () => {
    const t = await startTestApp();
    try {
      const shopper = t.bearer('c-unlimited', 'shopper');
      for (let i = 0; i < 30; i++) {
        const res = await t.http.post('/carts').set('authorization', shopper).send({ currency: 'EUR' });
        expect(res.status).toBe(201);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    } finally {
      await t.close();
    }
  });
});
