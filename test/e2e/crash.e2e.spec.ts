import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { startService, type ServiceProcess } from '../support/service-process.js';
import { ShopClient } from '../support/shop-client.js';

const SECRET = 'crash-test-secret-0123456789abcdef';
/** The catalog products the burst adds, one after the other (a cart's line of a sku grows with each add). */
const SKUS = Array.from({ length: 50 }, (_, i) => `sku-${i}`);

describe('crash safety: kill -9 during a burst of appends', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-crash-'));
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('every acknowledged append is there after a restart', async () => {
    const env = { AUTH_JWT_SECRET: SECRET, DATA_DIR: dataDir };
    const auth = `Bearer ${new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h' } }).sign({ sub: 'crash-customer', roles: ['shopper'] })}`;
    const headers = { authorization: auth, 'content-type': 'application/json' };
    service = await startService(env);
    const url = service.url;
    const shop = new ShopClient(url, SECRET);
    for (const sku of [...SKUS, 'after-crash']) await shop.listProduct(sku, 1);

    const carts: string[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await fetch(`${url}/carts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ currency: 'EUR' }),
      });
      carts.push(((await res.json()) as { id: string }).id);
    }

    const acknowledged: { cartId: string; sku: string; revision: number }[] = [];
    let n = 0;
    let stop = false;
    const worker = async () => {
      while (!stop && n < 20_000) {
        const i = n++;
        const cartId = carts[i % carts.length]!;
        const sku = SKUS[i % SKUS.length]!;
        try {
          const res = await fetch(`${url}/carts/${cartId}/items`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ sku, quantity: 1 }),
          });
          if (res.status === 200) {
            acknowledged.push({
              cartId,
              sku,
              revision: ((await res.json()) as { revision: number }).revision,
            });
          }
        } catch {
          // the process is gone: the request was never acknowledged
        }
      }
    };
    const workers = Array.from({ length: 32 }, worker);
    // Kill in the middle of the burst, while appends are in flight.
    while (acknowledged.length < 400) await new Promise((r) => setTimeout(r, 5));
    await service.kill9();
    stop = true;
    await Promise.all(workers);
    expect(acknowledged.length).toBeGreaterThanOrEqual(400);

    service = await startService(env);
    const auditor = {
      authorization: `Bearer ${new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h' } }).sign({ sub: 'crash-auditor', roles: ['auditor'] })}`,
    };
    for (const cartId of carts) {
      const res = await fetch(`${service.url}/carts/${cartId}?consistency=strong`, { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { lines: { sku: string }[] }; meta: { revision: number } };
      const skus = new Set(body.data.lines.map((l) => l.sku));
      const mine = acknowledged.filter((a) => a.cartId === cartId);
      // Each acknowledged add is the event at the revision it answered.
      const stream = await fetch(`${service.url}/audit/streams/cart-${cartId}/events?limit=1000`, {
        headers: auditor,
      });
      expect(stream.status).toBe(200);
      const { items } = (await stream.json()) as {
        items: { revision: number; type: string; data: { sku?: string } }[];
      };
      const byRevision = new Map(items.map((e) => [e.revision, e]));
      for (const a of mine) {
        expect(skus.has(a.sku)).toBe(true);
        expect(body.meta.revision).toBeGreaterThanOrEqual(a.revision);
        expect(byRevision.get(a.revision)).toMatchObject({ type: 'ItemAdded', data: { sku: a.sku } });
      }
    }
    // The store still takes writes after the crash.
    const after = await fetch(`${service.url}/carts/${carts[0]}/items`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ sku: 'after-crash', quantity: 1 }),
    });
    expect(after.status).toBe(200);
  }, 60_000);
});
