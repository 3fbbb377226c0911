import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'supertest';
import { applyDiff } from '../../src/audit/application/view-diff.js';
import { DEMO_CATALOG } from '../../src/catalog/demo-catalog.js';
import { readStoreEnvs } from '../support/read-store-env.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { textOrJson } from '../support/text-or-json.js';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface ProductJson {
  sku: string;
  name: string;
  status: 'listed' | 'withdrawn';
  prices: Record<string, number>;
  listedAt: string;
  updatedAt: string;
  revision?: number;
}

/** Every event of every product stream in the store (to check that a refused request wrote nothing). */
async function productEventCount(t: TestApp): Promise<number> {
  return (await t.events.readAll()).filter((event) => event.streamId.startsWith('product-')).length;
}

describe.each(readStoreEnvs())('catalog over HTTP (%s)', (_name, env) => {
  let t: TestApp;
  let operator: string;
  let shopper: string;
  let auditor: string;

  /** A request with a token, its body parsed whatever the content type (NDJSON as one string). */
  const send = (method: 'get' | 'post' | 'patch' | 'delete', path: string, auth: string) =>
    textOrJson(t.http[method](path).set('authorization', auth));
  const get = (path: string, auth = shopper) => send('get', path, auth);

  function list(sku: string, name: string, prices: Record<string, number>, auth = operator) {
    return send('post', '/catalog/products', auth).send({ sku, name, prices });
  }

  /** Waits until the read model has the product at `revision` (a cached read with minRevision). */
  async function projected(sku: string, revision: number): Promise<ProductJson> {
    const res = await get(`/catalog/products/${sku}?minRevision=${revision}`).expect(200);
    expect(res.body.meta).toMatchObject({ revision, source: 'read-store', stale: false });
    return res.body.data as ProductJson;
  }

  function expectProblem(res: Response, status: number, code: string): void {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  }

  beforeAll(async () => {
    t = await startTestApp({ ...env(), READ_WAIT_MS: '3000' });
    operator = t.bearer('op-1', 'operator');
    shopper = t.bearer('c-1', 'shopper');
    auditor = t.bearer('aud-1', 'auditor');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('starts empty outside development (no demo catalog in tests)', async () => {
    const res = await get('/catalog/products?status=all').expect(200);
    expect(res.body).toEqual({ items: [], nextCursor: null, meta: { staleness: 0 } });
  });

  describe('an operator lists, reprices, withdraws and lists again', () => {
    const sku = 'espresso-1kg';

    it('lists: 201 with Location and ETag; every role reads it, strong and cached alike', async () => {
      const res = await send('post', '/catalog/products', operator)
        .set('idempotency-key', 'list-espresso')
        .send({ sku, name: '  Espresso beans, 1 kg ', prices: { USD: 2090, EUR: 1890 } })
        .expect(201);
      expect(res.body).toEqual({ id: sku, revision: 0 });
      expect(res.headers.location).toBe(`/catalog/products/${sku}`);
      expect(res.headers.etag).toBe('"0"');

      const [stored] = await t.readStream(`product-${sku}`);
      expect(stored).toMatchObject({
        type: 'ProductListed',
        data: { sku, name: 'Espresso beans, 1 kg', prices: { EUR: 1890, USD: 2090 } },
        metadata: {
          actor: 'op-1',
          command: 'ListProduct',
          idempotencyKey: 'list-espresso',
          schemaVersion: 1,
        },
      });
      const data = {
        sku,
        name: 'Espresso beans, 1 kg',
        status: 'listed',
        prices: { EUR: 1890, USD: 2090 },
        listedAt: stored!.created.toISOString(),
        updatedAt: stored!.created.toISOString(),
      };
      const strong = await get(`/catalog/products/${sku}?consistency=strong`, shopper).expect(200);
      expect(strong.headers.etag).toBe('"0"');
      expect(strong.body).toEqual({
        data,
        meta: {
          revision: 0,
          position: null,
          projectedAt: null,
          source: 'event-store',
          stale: false,
          staleness: 0,
        },
      });
      expect(await projected(sku, 0)).toEqual(data);
      const cached = await get(`/catalog/products/${sku}`, auditor).expect(200);
      expect(cached.body.meta).toMatchObject({
        revision: 0,
        position: Number(stored!.position),
        projectedAt: expect.stringMatching(ISO_MS),
        source: 'read-store',
      });
      expect(cached.body.data).toEqual(data);
      await get(`/catalog/products/${sku}`, operator).expect(200);
    });

    it('the same key and body again: the original answer, replayed, nothing appended; another body: 422', async () => {
      const retry = await send('post', '/catalog/products', operator)
        .set('idempotency-key', 'list-espresso')
        .send({ prices: { EUR: 1890, USD: 2090 }, name: '  Espresso beans, 1 kg ', sku })
        .expect(201);
      expect(retry.body).toEqual({ id: sku, revision: 0 });
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers.location).toBe(`/catalog/products/${sku}`);
      const reused = await send('post', '/catalog/products', operator)
        .set('idempotency-key', 'list-espresso')
        .send({ sku, name: 'Other', prices: { EUR: 1 } });
      expectProblem(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await t.readStream(`product-${sku}`)).toHaveLength(1);
    });

    it('listing a listed sku again: 409 PRODUCT_ALREADY_LISTED', async () => {
      expectProblem(await list(sku, 'Espresso', { EUR: 1 }), 409, 'PRODUCT_ALREADY_LISTED');
    });

    it('changes prices: If-Match checked (412), a retried change replayed, a no-op appends nothing', async () => {
      const stale = await send('patch', `/catalog/products/${sku}/price`, operator)
        .set('if-match', '"7"')
        .send({ prices: { EUR: 1790 } });
      expectProblem(stale, 412, 'REVISION_MISMATCH');
      expect(stale.body.currentRevision).toBe(0);
      expect(stale.headers.etag).toBe('"0"');

      const change = () =>
        send('patch', `/catalog/products/${sku}/price`, operator)
          .set('if-match', '"0"')
          .set('idempotency-key', 'reprice-espresso-1')
          .send({ prices: { EUR: 1790 } });
      const first = await change().expect(200);
      expect(first.body).toEqual({ id: sku, revision: 1 });
      expect(first.headers.etag).toBe('"1"');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      // The retry carries the If-Match of the original; it is recognised before If-Match is checked.
      const retried = await change().expect(200);
      expect(retried.body).toEqual({ id: sku, revision: 1 });
      expect(retried.headers['idempotent-replayed']).toBe('true');

      const noop = await send('patch', `/catalog/products/${sku}/price`, operator)
        .send({ prices: { EUR: 1790, USD: 2090 } })
        .expect(200);
      expect(noop.body).toEqual({ id: sku, revision: 1 });
      const events = await t.readStream(`product-${sku}`);
      expect(events.map((e) => [e.type, e.data])).toEqual([
        ['ProductListed', { sku, name: 'Espresso beans, 1 kg', prices: { EUR: 1890, USD: 2090 } }],
        ['ProductPriceChanged', { sku, prices: { EUR: 1790 } }],
      ]);

      await send('patch', `/catalog/products/${sku}/price`, operator)
        .send({ prices: { USD: null, GBP: 1600 } })
        .expect(200, { id: sku, revision: 2 });
      expect((await projected(sku, 2)).prices).toEqual({ EUR: 1790, GBP: 1600 });
      const last = await send('patch', `/catalog/products/${sku}/price`, operator).send({
        prices: { EUR: null, GBP: null },
      });
      expectProblem(last, 409, 'LAST_PRICE');
    });

    it('withdraws (with a reason, or no body at all); a withdrawn product is still found, and listed again', async () => {
      await send('delete', `/catalog/products/${sku}`, operator)
        .send({ reason: ' new roast ' })
        .expect(200, { id: sku, revision: 3 });
      const withdrawn = await projected(sku, 3);
      expect(withdrawn).toMatchObject({ status: 'withdrawn', prices: { EUR: 1790, GBP: 1600 } });
      expectProblem(await send('delete', `/catalog/products/${sku}`, operator), 409, 'PRODUCT_WITHDRAWN');
      expectProblem(
        await send('patch', `/catalog/products/${sku}/price`, operator).send({ prices: { EUR: 1 } }),
        409,
        'PRODUCT_WITHDRAWN',
      );

      const relisted = await list(sku, 'Espresso beans, new roast', { EUR: 1990 }).expect(201);
      expect(relisted.body).toEqual({ id: sku, revision: 4 });
      const again = await projected(sku, 4);
      expect(again).toMatchObject({
        name: 'Espresso beans, new roast',
        status: 'listed',
        prices: { EUR: 1990 },
      });
      expect(again.listedAt).toBe(withdrawn.listedAt);
      expect(again.updatedAt >= withdrawn.updatedAt).toBe(true);

      await list('no-reason', 'No reason', { EUR: 100 }).expect(201);
      await send('delete', '/catalog/products/no-reason', operator).expect(200, {
        id: 'no-reason',
        revision: 1,
      });
      const events = await t.readStream(`product-${sku}`);
      expect(events[3]).toMatchObject({ type: 'ProductWithdrawn', data: { sku, reason: 'new roast' } });
      expect((await t.readStream('product-no-reason'))[1]!.data).toEqual({ sku: 'no-reason', reason: null });
    });
  });

  it('shoppers and auditors read but never write (403, nothing appended); no token is 401', async () => {
    await list('roles-sku', 'Roles', { EUR: 100 }).expect(201);
    const before = await productEventCount(t);
    for (const who of [shopper, auditor]) {
      expectProblem(await list('roles-other', 'Other', { EUR: 1 }, who), 403, 'FORBIDDEN');
      expectProblem(
        await send('patch', '/catalog/products/roles-sku/price', who).send({ prices: { EUR: 1 } }),
        403,
        'FORBIDDEN',
      );
      expectProblem(await send('delete', '/catalog/products/roles-sku', who), 403, 'FORBIDDEN');
      await get('/catalog/products/roles-sku', who).expect(200);
      await get('/catalog/products?sku=roles-', who).expect(200);
    }
    await t.http.get('/catalog/products').expect(401);
    await t.http.get('/catalog/products/roles-sku').expect(401);
    await t.http
      .post('/catalog/products')
      .send({ sku: 'x', name: 'X', prices: { EUR: 1 } })
      .expect(401);
    expect(await productEventCount(t)).toBe(before);
  });

  it('an unknown or malformed sku is a 404 PRODUCT_NOT_FOUND on every route', async () => {
    for (const sku of ['never-listed', 'ESPRESSO-1KG', 'a%20b', 'x'.repeat(65), 'a%2Fb']) {
      const requests: [string, () => Promise<Response>][] = [
        ['GET', () => get(`/catalog/products/${sku}`)],
        ['GET strong', () => get(`/catalog/products/${sku}?consistency=strong`)],
        [
          'PATCH',
          () => send('patch', `/catalog/products/${sku}/price`, operator).send({ prices: { EUR: 1 } }),
        ],
        ['DELETE', () => send('delete', `/catalog/products/${sku}`, operator)],
        ['state', () => get(`/catalog/products/${sku}/state?atRevision=0`)],
        ['diff', () => get(`/catalog/products/${sku}/diff?from=0`)],
      ];
      for (const [route, request] of requests) {
        const res = await request();
        expect({ sku, route, status: res.status, code: res.body.code }).toEqual({
          sku,
          route,
          status: 404,
          code: 'PRODUCT_NOT_FOUND',
        });
      }
    }
  });

  describe('GET /catalog/products', () => {
    const catalog: [sku: string, name: string, withdraw?: boolean][] = [
      ['lst-tea-green', 'Green tea, loose leaf'],
      ['lst-tea-black', 'Black tea'],
      ['lst-tea-old', 'Greengage tea', true],
      ['lst-Tea-upper', 'GREEN SENCHA'],
      ['lst-cup', 'Tea cup'],
      ['lst-dripper', 'Ölmühle dripper'],
      ['lst-kettle', 'Kettle', true],
    ];
    const skus = (res: Response) => (res.body.items as ProductJson[]).map((item) => item.sku);
    /** Code-point order (UTF-8 byte order): what both read stores sort by. */
    const sorted = (values: string[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

    beforeAll(async () => {
      for (const [sku, name, withdraw] of catalog) {
        await list(sku, name, { EUR: 500 }).expect(201);
        if (withdraw) await send('delete', `/catalog/products/${sku}`, operator).expect(200);
        await projected(sku, withdraw ? 1 : 0);
      }
    });

    it('listed products by sku, each item the product with its revision', async () => {
      const res = await get('/catalog/products?sku=lst-').expect(200);
      const listed = catalog.filter(([, , withdrawn]) => !withdrawn).map(([sku]) => sku);
      expect(skus(res)).toEqual(sorted(listed));
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items[0]).toEqual({
        sku: 'lst-Tea-upper',
        name: 'GREEN SENCHA',
        status: 'listed',
        prices: { EUR: 500 },
        listedAt: expect.stringMatching(ISO_MS),
        updatedAt: expect.stringMatching(ISO_MS),
        revision: 0,
      });
    });

    it('pages with an opaque cursor until nextCursor is null, never repeating or skipping', async () => {
      const all = sorted(catalog.map(([sku]) => sku));
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `/catalog/products?sku=lst-&status=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await get(query, auditor).expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...skus(res));
        cursor = res.body.nextCursor as string | null;
        pages++;
      } while (cursor !== null);
      expect(seen).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / 2));
    });

    it('filters by status (listed by default, withdrawn, all)', async () => {
      const withdrawn = catalog.filter(([, , w]) => w).map(([sku]) => sku);
      expect(skus(await get('/catalog/products?sku=lst-&status=withdrawn').expect(200))).toEqual(
        sorted(withdrawn),
      );
      expect(skus(await get('/catalog/products?sku=lst-&status=all').expect(200))).toEqual(
        sorted(catalog.map(([sku]) => sku)),
      );
      const everything = await get('/catalog/products?status=all&limit=100').expect(200);
      expect(
        (everything.body.items as ProductJson[]).every((p) => ['listed', 'withdrawn'].includes(p.status)),
      ).toBe(true);
      expect(skus(everything)).toEqual(sorted(skus(everything)));
      const listedOnly = await get('/catalog/products?limit=100').expect(200);
      expect((listedOnly.body.items as ProductJson[]).every((p) => p.status === 'listed')).toBe(true);
    });

    it('sku is a case-sensitive prefix', async () => {
      expect(skus(await get('/catalog/products?sku=lst-tea-&status=all').expect(200))).toEqual([
        'lst-tea-black',
        'lst-tea-green',
        'lst-tea-old',
      ]);
      expect(skus(await get('/catalog/products?sku=lst-Tea').expect(200))).toEqual(['lst-Tea-upper']);
      expect(skus(await get('/catalog/products?sku=lst-tea-green').expect(200))).toEqual(['lst-tea-green']);
      expect(skus(await get('/catalog/products?sku=zzz').expect(200))).toEqual([]);
    });

    it('name is a case-insensitive prefix of the name (beyond ASCII too), combined with the other filters', async () => {
      expect(skus(await get('/catalog/products?name=green').expect(200))).toEqual([
        'lst-Tea-upper',
        'lst-tea-green',
      ]);
      expect(skus(await get('/catalog/products?name=GREEN&status=all').expect(200))).toEqual([
        'lst-Tea-upper',
        'lst-tea-green',
        'lst-tea-old',
      ]);
      expect(skus(await get('/catalog/products?name=Green%20tea').expect(200))).toEqual(['lst-tea-green']);
      expect(skus(await get('/catalog/products?name=%C3%96LM%C3%BC').expect(200))).toEqual(['lst-dripper']);
      expect(skus(await get('/catalog/products?name=green&sku=lst-tea').expect(200))).toEqual([
        'lst-tea-green',
      ]);
      const paged = await get('/catalog/products?name=green&status=all&limit=1').expect(200);
      expect(skus(paged)).toEqual(['lst-Tea-upper']);
      const next = await get(
        `/catalog/products?name=green&status=all&limit=1&cursor=${paged.body.nextCursor}`,
      ).expect(200);
      expect(skus(next)).toEqual(['lst-tea-green']);
    });

    it('a cursor only continues the query that issued it', async () => {
      const first = await get('/catalog/products?sku=lst-&limit=1').expect(200);
      const other = await get(`/catalog/products?sku=lst-t&limit=1&cursor=${first.body.nextCursor}`);
      expectProblem(other, 400, 'INVALID_CURSOR');
    });
  });

  describe('bad input is a 400 problem naming the field, never a 5xx, never an event', () => {
    const valid = { sku: 'bad-input', name: 'Valid', prices: { EUR: 100 } };
    let before: number;
    beforeAll(async () => {
      await list('bad-target', 'Target', { EUR: 100 }).expect(201);
      before = await productEventCount(t);
    });
    afterAll(async () => {
      expect(await productEventCount(t)).toBe(before);
    });

    const badLists: [string, unknown, string][] = [
      ['missing prices', { sku: 'bad-input', name: 'Valid' }, 'prices'],
      ['prices an array', { ...valid, prices: [100] }, 'prices'],
      ['prices a number', { ...valid, prices: 100 }, 'prices'],
      ['no price', { ...valid, prices: {} }, 'prices'],
      ['a lower-case currency', { ...valid, prices: { eur: 100 } }, 'prices'],
      ['an amount as a string', { ...valid, prices: { EUR: '100' } }, 'prices'],
      ['a fractional amount', { ...valid, prices: { EUR: 9.99 } }, 'prices'],
      ['a negative amount', { ...valid, prices: { EUR: -1 } }, 'prices'],
      ['an enormous amount', { ...valid, prices: { EUR: 1e300 } }, 'prices'],
      ['a null amount', { ...valid, prices: { EUR: null } }, 'prices'],
      ['an operator for an amount', { ...valid, prices: { EUR: { $gt: 0 } } }, 'prices'],
      [
        '51 currencies',
        {
          ...valid,
          prices: Object.fromEntries(
            Array.from({ length: 51 }, (_, i) => [
              `A${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`,
              1,
            ]),
          ),
        },
        'prices',
      ],
      ['a blank name', { ...valid, name: '   ' }, 'name'],
      ['a name too long', { ...valid, name: 'n'.repeat(201) }, 'name'],
      ['no name', { sku: 'bad-input', prices: { EUR: 1 } }, 'name'],
      ['a sku with a space', { ...valid, sku: 'a b' }, 'sku'],
      ['a sku too long', { ...valid, sku: 's'.repeat(65) }, 'sku'],
      ['a sku as a number', { ...valid, sku: 42 }, 'sku'],
      ['an unknown field', { ...valid, stock: 3 }, 'stock'],
    ];
    for (const [label, body, field] of badLists) {
      it(`POST /catalog/products with ${label} → 400 naming ${field}`, async () => {
        const res = await send('post', '/catalog/products', operator).send(body as object);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      });
    }

    const badChanges: [string, unknown, string][] = [
      ['no body field', {}, 'prices'],
      ['no currency', { prices: {} }, 'prices'],
      ['an amount as a string', { prices: { EUR: 'cheap' } }, 'prices'],
      ['a bad currency', { prices: { EURO: 1 } }, 'prices'],
      ['a name (not changed here)', { prices: { EUR: 1 }, name: 'x' }, 'name'],
    ];
    for (const [label, body, field] of badChanges) {
      it(`PATCH /catalog/products/:sku/price with ${label} → 400 naming ${field}`, async () => {
        const res = await send('patch', '/catalog/products/bad-target/price', operator).send(body as object);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      });
    }

    it('DELETE with a bad reason or another field → 400', async () => {
      for (const [body, field] of [
        [{ reason: '' }, 'reason'],
        [{ reason: '   ' }, 'reason'],
        [{ reason: 5 }, 'reason'],
        [{ reason: 'r'.repeat(501) }, 'reason'],
        [{ why: 'x' }, 'why'],
      ] as const) {
        const res = await send('delete', '/catalog/products/bad-target', operator).send(body);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const notAnObject = await send('delete', '/catalog/products/bad-target', operator)
        .set('content-type', 'application/json')
        .send('"gone"');
      expectProblem(notAnObject, 400, 'BODY_NOT_AN_OBJECT');
    });

    it('bad headers and bad query parameters → 400', async () => {
      expectProblem(
        await send('patch', '/catalog/products/bad-target/price', operator)
          .set('if-match', 'W/"0"')
          .send({ prices: { EUR: 1 } }),
        400,
        'INVALID_IF_MATCH',
      );
      for (const query of [
        'status=gone',
        'status=listed&status=all',
        'limit=0',
        'limit=101',
        'limit=ten',
        'sku=a%20b',
        `sku=${'s'.repeat(65)}`,
        'name=',
        'name=a%01b',
        `name=${'n'.repeat(201)}`,
        'sku[$gt]=a',
        'sort=name',
      ]) {
        const res = await get(`/catalog/products?${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      expectProblem(await get('/catalog/products?cursor=garbage!'), 400, 'VALIDATION_FAILED');
      expectProblem(await get('/catalog/products?cursor=abc'), 400, 'INVALID_CURSOR');
      for (const query of ['consistency=eventual', 'minRevision=-1', 'minRevision=x']) {
        expectProblem(await get(`/catalog/products/bad-target?${query}`), 400, 'VALIDATION_FAILED');
      }
    });
  });

  describe('audit and time travel of a product', () => {
    const sku = 'audit.grinder_v2';
    let events: Awaited<ReturnType<TestApp['readStream']>>;

    beforeAll(async () => {
      await list(sku, 'Hand grinder', { EUR: 6900, USD: 7490 }).expect(201);
      await send('patch', `/catalog/products/${sku}/price`, operator)
        .send({ prices: { EUR: 6500 } })
        .expect(200);
      await send('delete', `/catalog/products/${sku}`, operator).send({ reason: 'new model' }).expect(200);
      await list(sku, 'Hand grinder V3', { EUR: 7900 }).expect(201);
      events = await t.readStream(`product-${sku}`);
      expect(events.map((e) => e.type)).toEqual([
        'ProductListed',
        'ProductPriceChanged',
        'ProductWithdrawn',
        'ProductListed',
      ]);
    });

    it('raw events of product-<sku>, paged, for auditors and operators (not shoppers)', async () => {
      const res = await get(`/audit/streams/product-${sku}/events?limit=3`, auditor).expect(200);
      expect(res.body).toMatchObject({ stream: `product-${sku}`, lastRevision: 3 });
      expect(res.body.items.map((e: { type: string }) => e.type)).toEqual([
        'ProductListed',
        'ProductPriceChanged',
        'ProductWithdrawn',
      ]);
      expect(res.body.items[2]).toEqual({
        position: Number(events[2]!.position),
        stream: `product-${sku}`,
        revision: 2,
        id: events[2]!.id,
        type: 'ProductWithdrawn',
        data: { sku, reason: 'new model' },
        metadata: events[2]!.metadata,
        created: events[2]!.created.toISOString(),
      });
      expect(res.body.items[0].metadata).toMatchObject({ actor: 'op-1', command: 'ListProduct' });
      const next = await get(res.body.next as string, operator).expect(200);
      expect(next.body.items.map((e: { revision: number }) => e.revision)).toEqual([3]);
      expectProblem(await get(`/audit/streams/product-${sku}/events`, shopper), 403, 'FORBIDDEN');
      for (const stream of [
        `productsnapshot-${sku}`,
        'product-',
        'product-a%20b',
        'product-never',
        'PRODUCT-x',
      ]) {
        expectProblem(await get(`/audit/streams/${stream}/events`, auditor), 404, 'STREAM_NOT_FOUND');
      }
    });

    it('the replay covers products: streamPrefix=product, one product stream, its event types', async () => {
      const lines = (res: Response) =>
        (res.body as string)
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as { stream: string; type: string; revision: number });
      const all = lines(await get('/audit/events?streamPrefix=product', operator).expect(200));
      const stored = (await t.events.readAll()).filter((e) => e.streamId.startsWith('product-'));
      expect(all.map((e) => e.stream)).toEqual(stored.map((e) => e.streamId));
      const one = lines(await get(`/audit/events?streamPrefix=product-${sku}`, auditor).expect(200));
      expect(one.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      const withdrawals = lines(
        await get('/audit/events?streamPrefix=product&types=ProductWithdrawn', auditor).expect(200),
      );
      expect(withdrawals.length).toBeGreaterThan(0);
      expect(withdrawals.every((e) => e.type === 'ProductWithdrawn')).toBe(true);
      expect(
        lines(await get('/audit/events?streamPrefix=cart&types=ProductListed', auditor).expect(200)),
      ).toEqual([]);
      for (const prefix of ['productsnapshot', 'product-a%20b', `product-${'x'.repeat(65)}`, 'products']) {
        expectProblem(await get(`/audit/events?streamPrefix=${prefix}`, auditor), 400, 'VALIDATION_FAILED');
      }
    });

    it('state at a revision or an instant: the view folded from the events (shoppers may ask too)', async () => {
      const at1 = await get(`/catalog/products/${sku}/state?atRevision=1`, shopper).expect(200);
      expect(at1.body).toStrictEqual({
        data: { sku, name: 'Hand grinder', status: 'listed', prices: { EUR: 6500, USD: 7490 } },
        meta: { revision: 1, at: events[1]!.created.toISOString(), source: 'event-store' },
      });
      const asOf = await get(
        `/catalog/products/${sku}/state?asOf=${events[2]!.created.toISOString()}`,
        auditor,
      ).expect(200);
      const last = events.filter((e) => e.created <= events[2]!.created).pop()!;
      expect(asOf.body.meta.revision).toBe(Number(last.revision));
      expect(asOf.body.data.status).toBe(Number(last.revision) === 2 ? 'withdrawn' : 'listed');
      const at2 = await get(`/catalog/products/${sku}/state?atRevision=2`, operator).expect(200);
      expect(at2.body.data).toEqual({
        sku,
        name: 'Hand grinder',
        status: 'withdrawn',
        prices: { EUR: 6500, USD: 7490 },
      });
      expectProblem(await get(`/catalog/products/${sku}/state?atRevision=4`), 404, 'REVISION_NOT_FOUND');
      expectProblem(
        await get(
          `/catalog/products/${sku}/state?asOf=${new Date(events[0]!.created.getTime() - 1).toISOString()}`,
        ),
        404,
        'NOT_FOUND_AT_INSTANT',
      );
      expectProblem(await get(`/catalog/products/${sku}/state`), 400, 'VALIDATION_FAILED');
      expectProblem(
        await get(`/catalog/products/${sku}/state?atRevision=1&asOf=2026-05-02T00:00:00Z`),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('diff: the fields that changed (prices whole, no lines) and the events between; it applies back', async () => {
      const res = await get(`/catalog/products/${sku}/diff?from=0&to=3`, auditor).expect(200);
      expect(res.body.data.from).toEqual({ revision: 0, at: events[0]!.created.toISOString() });
      expect(res.body.data.to).toEqual({ revision: 3, at: events[3]!.created.toISOString() });
      expect(res.body.data.changes).toStrictEqual({
        fields: [
          { field: 'name', from: 'Hand grinder', to: 'Hand grinder V3' },
          { field: 'prices', from: { EUR: 6900, USD: 7490 }, to: { EUR: 7900 } },
        ],
      });
      expect(res.body.data.events.map((e: { revision: number }) => e.revision)).toEqual([1, 2, 3]);
      expect(res.body.meta).toEqual({ source: 'event-store', eventCount: 3, eventsTruncated: false });

      const from = (await get(`/catalog/products/${sku}/state?atRevision=1`).expect(200)).body.data;
      const to = (await get(`/catalog/products/${sku}/state?atRevision=2`).expect(200)).body.data;
      const diff = await get(`/catalog/products/${sku}/diff?from=1&to=2`, shopper).expect(200);
      expect(diff.body.data.changes).toStrictEqual({
        fields: [{ field: 'status', from: 'listed', to: 'withdrawn' }],
      });
      expect(applyDiff(from as object, diff.body.data.changes)).toStrictEqual(to);
      const latest = await get(`/catalog/products/${sku}/diff?from=3`, shopper).expect(200);
      expect(latest.body.data.changes).toStrictEqual({ fields: [] });
      expectProblem(await get(`/catalog/products/${sku}/diff?from=3&to=1`), 400, 'VALIDATION_FAILED');
    });
  });
});

describe('the demo catalog (NODE_ENV=development only)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-demo-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const start = () => startTestApp({ NODE_ENV: 'development', DATA_DIR: dir });

  it('is listed at the first start, found (not listed again) at the next, whatever changed meanwhile', async () => {
    let t = await start();
    try {
      const operator = t.bearer('op', 'operator');
      const shopper = t.bearer('c', 'shopper');
      for (const { sku } of DEMO_CATALOG) {
        await t.http.get(`/catalog/products/${sku}?minRevision=0`).set('authorization', shopper).expect(200);
      }
      const res = await t.http.get('/catalog/products?limit=100').set('authorization', shopper).expect(200);
      expect(
        (res.body.items as ProductJson[]).map(({ sku, name, prices, status }) => ({
          sku,
          name,
          prices,
          status,
        })),
      ).toEqual(
        [...DEMO_CATALOG]
          .sort((a, b) => (a.sku < b.sku ? -1 : 1))
          .map((p) => ({ sku: p.sku, name: p.name, prices: p.prices, status: 'listed' })),
      );
      expect(DEMO_CATALOG.length).toBeGreaterThanOrEqual(6);
      expect(DEMO_CATALOG.every((p) => Object.keys(p.prices).sort().join() === 'EUR,USD')).toBe(true);
      const first = DEMO_CATALOG[0]!.sku;
      await t.http.delete(`/catalog/products/${first}`).set('authorization', operator).expect(200);
      await t.close();

      t = await start();
      const all = (await t.events.readAll()).filter((e) => e.streamId.startsWith('product-'));
      expect(all).toHaveLength(DEMO_CATALOG.length + 1);
      for (const product of DEMO_CATALOG) {
        const events = await t.readStream(`product-${product.sku}`);
        expect(events.map((e) => e.type)).toEqual(
          product.sku === first ? ['ProductListed', 'ProductWithdrawn'] : ['ProductListed'],
        );
        expect(events[0]!.metadata).toMatchObject({
          actor: 'demo-catalog',
          idempotencyKey: `demo-catalog:${product.sku}`,
        });
      }
    } finally {
      await t.close();
    }
  });
});
