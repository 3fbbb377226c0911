import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openCart } from '../support/cart-fixtures.js';
import {
  databaseUri,
  ferretDbBuilt,
  startPrivateFerretDb,
  stopPrivateFerretDb,
  type PrivateFerretDb,
} from '../support/private-ferretdb.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);

const describeWithFerretDb = ferretDbBuilt() ? describe : describe.skip;
if (!ferretDbBuilt()) {
  process.stdout.write(
    'Read store outage suite skipped: FerretDB is not built (scripts/ferretdb.sh build)\n',
  );
}

describeWithFerretDb('the read store down, and back (MongoDB wire, FerretDB)', () => {
  let dir: string;
  let ferret: PrivateFerretDb;
  let t: TestApp;
  let shopper: string;
  let operator: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-outage-'));
    ferret = await startPrivateFerretDb(dir);
    t = await startTestApp({ MONGODB_URI: databaseUri(ferret, 'outage') });
    shopper = t.bearer('outage-shopper', 'shopper');
    operator = t.bearer('outage-op', 'operator');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await stopPrivateFerretDb(ferret);
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('cached reads and lists answer 503 READ_STORE_UNAVAILABLE within about 2 s; strong reads work; it recovers by itself', async () => {
    const cartId = await openCart(t, shopper);
    await t.http.get(`/carts/${cartId}?minRevision=0`).set('authorization', shopper).expect(200);

    await run('kill', ['-9', ferret.pid]);

    const started = Date.now();
    const cached = await t.http.get(`/carts/${cartId}`).set('authorization', shopper);
    const elapsed = Date.now() - started;
    // Status and code together, so a failure shows which problem came instead.
    expect({ status: cached.status, code: cached.body.code }).toEqual({
      status: 503,
      code: 'READ_STORE_UNAVAILABLE',
    });
    expect(cached.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(cached.headers['retry-after']).toBeDefined();
    expect(elapsed).toBeLessThan(4000);

    const list = await t.http.get('/orders').set('authorization', operator);
    expect([list.status, list.body.code]).toEqual([503, 'READ_STORE_UNAVAILABLE']);

    // The operator's view still answers, without what the read store keeps (generations, jobs), saying why.
    const status = await t.http.get('/admin/projections').set('authorization', operator);
    expect(status.status).toBe(200);
    const carts = (status.body.items as { name: string; liveGeneration: unknown; lastError: string }[]).find(
      (p) => p.name === 'carts',
    )!;
    expect(carts.liveGeneration).toBeNull();
    expect(carts.lastError).toMatch(/MongoDB is unreachable/);

    // The source of truth is untouched: strong reads and commands go on.
    const strong = await t.http.get(`/carts/${cartId}?consistency=strong`).set('authorization', shopper);
    expect(strong.status).toBe(200);
    expect(strong.body.meta.source).toBe('event-store');

    // Back on the same port with its files: reads recover with nobody touching the service.
    ferret = await startPrivateFerretDb(dir, ferret.port);
    const deadline = Date.now() + 20_000;
    let recovered = 0;
    while (Date.now() < deadline) {
      recovered = (await t.http.get(`/carts/${cartId}`).set('authorization', shopper)).status;
      if (recovered === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(200);
    await t.http.get('/orders').set('authorization', operator).expect(200);
  }, 60_000);
});
