import { payOrder } from '../support/payments.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Response } from 'supertest';
import { ReadStore } from '../../src/read-side/read-store.port.js';
import { PROJECTIONS } from '../../src/projections.js';
import { ConsumerRegistry } from '../../src/read-side/runtime/consumer-registry.js';
import { LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import { placeOrder } from '../support/cart-fixtures.js';
import { writeHistory, type History } from '../support/event-history.js';
import { cleanRebuild, dumpLive, until } from '../support/projection-runtime.js';
import { readStoreEnvs } from '../support/read-store-env.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const byName = (name: string) => PROJECTIONS.find((p) => p.name === name)!;
const locationOf = (res: Response): string => String(res.headers.location);

interface JobBody {
  id: string;
  kind: string;
  projection: string;
  state: string;
  phase: string;
  eventsDone: number;
  eventsTotal: number;
  progress: number;
  result: {
    drifted: number;
    repaired: number;
    pending: number;
    drift: {
      collection: string;
      id: string;
      kind: string;
      fields: { path: string; live: unknown; expected: unknown }[];
    }[];
  } | null;
}

describe.each(readStoreEnvs())('projection admin over HTTP (%s)', (_name, env) => {
  let t: TestApp;
  let operator: string;
  let shopper: string;
  let auditor: string;
  let history: History;

  beforeAll(async () => {
    t = await startTestApp({
      ...env(),
      READ_WAIT_MS: '300',
      REBUILD_PAGE_SIZE: '10',
      REBUILD_PAGE_DELAY_MS: '5',
      REBUILD_DROP_GRACE_MS: '300',
      PROJECTION_MAX_RETRIES: '0',
      PROJECTION_HEARTBEAT_MS: '100',
      PROJECTION_STALL_MS: '1000',
    });
    operator = t.bearer('op', 'operator');
    shopper = t.bearer('shopper-1', 'shopper');
    auditor = t.bearer('aud', 'auditor');
    history = await writeHistory(t.events, { carts: 40, steps: 12, seed: 21 });
    await caughtUp();
  }, 90_000);

  afterAll(async () => {
    await t.close();
  });

  const admin = {
    get: (path: string) => t.http.get(path).set('authorization', operator),
    post: (path: string, body?: object) => {
      const req = t.http.post(path).set('authorization', operator);
      return body === undefined ? req : req.send(body);
    },
    delete: (path: string) => t.http.delete(path).set('authorization', operator),
  };

  async function statuses(): Promise<
    { name: string; status: string; lagEvents: number; parked: number; healthy: boolean }[]
  > {
    const res = await admin.get('/admin/projections').expect(200);
    return res.body.items;
  }

  async function caughtUp(): Promise<void> {
    await until(
      async () => (await statuses()).every((s) => s.lagEvents === 0),
      'every projection to catch up',
      30_000,
    );
  }

  async function jobDone(location: string, ms = 60_000): Promise<JobBody> {
    let job: JobBody | undefined;
    await until(
      async () => {
        job = (await admin.get(location).expect(200)).body as JobBody;
        return job.state !== 'running';
      },
      `${location} to end`,
      ms,
    );
    return job!;
  }

  describe('GET /admin/projections', () => {
    it('lists every projection and the checkout process manager with status, lag, rate, parked and heartbeat', async () => {
      const items = (await admin.get('/admin/projections').expect(200)).body.items as Record<
        string,
        unknown
      >[];
      expect(items.map((i) => [i.name, i.kind])).toEqual([
        ['carts', 'projection'],
        ['orders', 'projection'],
        ['order_search', 'projection'],
        ['order_timeline', 'projection'],
        ['products', 'projection'],
        ['refund-on-cancellation', 'process-manager'],
        ['place-order-on-checkout', 'process-manager'],
      ]);
      const orders = items.find((i) => i.name === 'orders')!;
      expect(orders).toMatchObject({
        group: 'projection-orders',
        status: 'running',
        healthy: true,
        paused: false,
        // The embedded store: this instance runs the group (INSTANCE_ID, by default <hostname>:<pid>).
        owner: `${hostname()}:${process.pid}`,
        liveGeneration: 1,
        collections: ['orders_g1'],
        lagEvents: 0,
        lagEventsCapped: false,
        lagMs: 0,
        parked: 0,
        job: null,
      });
      expect(orders.position).toBe(orders.headPosition);
      expect(typeof orders.eventsPerSecond).toBe('number');
      expect(Date.now() - Date.parse(orders.lastHeartbeat as string)).toBeLessThan(2000);
      expect(items.find((i) => i.name === 'place-order-on-checkout')).toMatchObject({
        group: 'process-place-order-on-checkout',
        liveGeneration: null,
        collections: [],
      });
      const one = await admin.get('/admin/projections/order_timeline').expect(200);
      expect(one.body).toMatchObject({
        name: 'order_timeline',
        collections: ['order_timeline_streams_g1', 'order_timeline_g1'],
      });
    });
  });

  describe('pause and resume', () => {
    it('a paused projection does not move while writes go on; resume catches up', async () => {
      const { orderId, total } = await placeOrder(t, shopper);
      await t.http.get(`/orders/${orderId}?minRevision=0`).set('authorization', shopper).expect(200);
      const paused = await admin.post('/admin/projections/orders/pause').expect(200);
      expect(paused.body).toMatchObject({ name: 'orders', status: 'paused', paused: true, healthy: true });
      await admin.post('/admin/projections/orders/pause').expect(200); // idempotent

      const paid = await payOrder(t.http, orderId, total).expect(200);
      const stale = await t.http
        .get(`/orders/${orderId}?minRevision=${paid.body.revision}`)
        .set('authorization', shopper)
        .expect(200);
      expect(stale.body).toMatchObject({ data: { status: 'placed' }, meta: { revision: 0, stale: true } });
      const status = (await admin.get('/admin/projections/orders').expect(200)).body;
      expect(status).toMatchObject({ status: 'paused', lagEvents: 1 });
      // The other projections are not paused.
      await until(
        async () =>
          (await t.http.get(`/orders/${orderId}/timeline`).set('authorization', shopper)).body.items
            ?.length === 2,
        'the timeline to show the payment',
      );

      const resumed = await admin.post('/admin/projections/orders/resume').expect(200);
      expect(resumed.body).toMatchObject({ status: 'running', paused: false });
      const fresh = await t.http
        .get(`/orders/${orderId}?minRevision=${paid.body.revision}`)
        .set('authorization', shopper)
        .expect(200);
      expect(fresh.body).toMatchObject({ data: { status: 'paid' }, meta: { revision: 1, stale: false } });
    });
  });

  describe('parked events', () => {
    it('lists a parked event with its reason and retry count, and replays it over HTTP', async () => {
      // An order stream that starts with a delivery: the timeline cannot describe it (no OrderPlaced).
      const stream = `order-${randomUUID()}`;
      await t.events.append(
        stream,
        [{ id: randomUUID(), type: 'OrderDelivered', data: {}, metadata: { schemaVersion: 1 } }],
        'no_stream',
      );
      await until(
        async () => (await statuses()).find((s) => s.name === 'order_timeline')!.parked === 1,
        'the event to be parked',
      );
      const parked = await admin.get('/admin/projections/order_timeline/parked').expect(200);
      expect(parked.body.total).toBe(1);
      expect(parked.body.items).toHaveLength(1);
      const [item] = parked.body.items;
      expect(item).toMatchObject({ streamId: stream, revision: 0, type: 'OrderDelivered', retryCount: 0 });
      expect(item.reason).toMatch(/OrderDelivered before OrderPlaced/);
      expect(Date.parse(item.parkedAt)).toBeLessThanOrEqual(Date.now());
      expect(typeof item.position).toBe('number');

      expect(
        (await admin.post('/admin/projections/order_timeline/parked/replay', { limit: 1 }).expect(200)).body,
      ).toEqual({
        replayed: 1,
      });
      // Still poison: delivered again, and parked again.
      await until(
        async () =>
          (await admin.get('/admin/projections/order_timeline/parked').expect(200)).body.total === 1,
        'the event to be parked again',
      );
      expect(
        (await admin.post('/admin/projections/order_timeline/parked/replay').expect(200)).body.replayed,
      ).toBe(1);
      await until(
        async () =>
          (await admin.get('/admin/projections/order_timeline/parked').expect(200)).body.total === 1,
        'the event to be parked once more',
      );
      expect((await admin.get('/admin/projections/carts/parked?limit=5').expect(200)).body).toEqual({
        items: [],
        total: 0,
      });
    });
  });

  describe('rebuild', () => {
    it('serves every read throughout (GET /orders and GET /orders/:id) and ends identical to a clean rebuild', async () => {
      await caughtUp();
      const ids = history.orders;
      const listAll = async (): Promise<string[]> => {
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let pages = 0; pages < 100; pages++) {
          const res: Response = await t.http
            .get(`/orders?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
            .set('authorization', operator);
          if (res.status !== 200)
            throw new Error(`GET /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
          seen.push(...res.body.items.map((i: { id: string }) => i.id));
          cursor = res.body.nextCursor;
          if (!cursor) break;
        }
        return seen;
      };
      const before = new Set(await listAll());
      for (const id of ids) expect(before.has(id)).toBe(true);

      const problems: string[] = [];
      let reads = 0;
      let hammering = true;
      const hammer = async (worker: number) => {
        for (let i = worker; hammering; i++) {
          const id = ids[i % ids.length]!;
          const one = await t.http.get(`/orders/${id}`).set('authorization', operator);
          reads++;
          if (one.status !== 200) problems.push(`GET /orders/${id}: ${one.status}`);
          else if (one.body.meta.source !== 'read-store')
            problems.push(`GET /orders/${id}: not in the read model`);
          if (i % 10 === 0) {
            try {
              const listed = new Set(await listAll());
              reads++;
              const lost = [...before].filter((x) => !listed.has(x));
              if (lost.length > 0) problems.push(`GET /orders misses ${lost.length} orders`);
            } catch (error) {
              problems.push((error as Error).message);
            }
          }
        }
      };
      const readers = [0, 1, 2, 3].map(hammer);

      const started = await Promise.all(
        ['orders', 'order_search'].map((name) =>
          admin.post(`/admin/projections/${name}/rebuild`).expect(202),
        ),
      );
      for (const res of started) {
        expect(res.headers.location).toBe(`/admin/jobs/${res.body.id}`);
        expect(res.body).toMatchObject({
          kind: 'rebuild',
          state: 'running',
          generation: 2,
          fromGeneration: 1,
        });
      }
      const rebuilding = (await statuses()).filter((s) => s.status === 'rebuilding').map((s) => s.name);
      expect(rebuilding.length).toBeGreaterThan(0);
      const jobs = await Promise.all(started.map((res) => jobDone(locationOf(res))));
      // Reads go on over the drop of the old generations too.
      await new Promise((r) => setTimeout(r, 400));
      hammering = false;
      await Promise.all(readers);

      for (const job of jobs) {
        expect(job).toMatchObject({ state: 'succeeded', phase: 'done', progress: 1 });
        expect(job.eventsDone).toBe(job.eventsTotal);
      }
      expect(problems).toEqual([]);
      expect(reads).toBeGreaterThan(ids.length);
      const store = t.app.get(ReadStore);
      const generations = t.app.get(LiveGenerations);
      for (const name of ['orders', 'order_search']) {
        const projection = byName(name);
        expect(await generations.freshLiveGeneration(name)).toBe(2);
        expect(await dumpLive(store, generations, projection)).toEqual(
          await cleanRebuild(t.events, store, projection),
        );
      }
      const listed = (await admin.get('/admin/jobs?projection=orders&kind=rebuild').expect(200)).body.items;
      expect(listed[0]).toMatchObject({ id: jobs[0]!.id, state: 'succeeded' });
    }, 120_000);

    it('a second rebuild (or verify) of the same projection is 409 naming the job; DELETE cancels it', async () => {
      const first = await admin.post('/admin/projections/order_timeline/rebuild').expect(202);
      const again = await admin.post('/admin/projections/order_timeline/rebuild').expect(409);
      expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(again.body).toMatchObject({
        status: 409,
        code: 'JOB_RUNNING',
        jobId: first.body.id,
        jobKind: 'rebuild',
        jobLocation: `/admin/jobs/${first.body.id}`,
      });
      expect(again.body.detail).toContain(first.body.id);
      await admin.post('/admin/projections/order_timeline/verify', {}).expect(409);

      const cancelled = await admin.delete(`/admin/jobs/${first.body.id}`).expect(200);
      expect(cancelled.body).toMatchObject({ id: first.body.id, state: 'cancelled', cancelRequested: true });
      const after = (await admin.get('/admin/projections/order_timeline').expect(200)).body;
      expect(after).toMatchObject({ status: 'running', liveGeneration: 1, job: null });
      const conflict = await admin.delete(`/admin/jobs/${first.body.id}`).expect(409);
      expect(conflict.body).toMatchObject({
        code: 'JOB_NOT_CANCELLABLE',
        jobId: first.body.id,
        state: 'cancelled',
      });
      const listed = await admin.get('/admin/jobs?state=cancelled&limit=5').expect(200);
      expect(listed.body.items.map((j: JobBody) => j.id)).toContain(first.body.id);
    });

    it('the process manager is not rebuildable: 409 NOT_A_PROJECTION; it can be paused and resumed', async () => {
      const res = await admin.post('/admin/projections/place-order-on-checkout/rebuild').expect(409);
      expect(res.body.code).toBe('NOT_A_PROJECTION');
      await admin.post('/admin/projections/place-order-on-checkout/verify').expect(409);
      expect(
        (await admin.post('/admin/projections/place-order-on-checkout/pause').expect(200)).body.status,
      ).toBe('paused');
      expect(
        (await admin.post('/admin/projections/place-order-on-checkout/resume').expect(200)).body.status,
      ).toBe('running');
    });
  });

  describe('verify', () => {
    it('finds a document corrupted on purpose, names its field, changes nothing; repair fixes it', async () => {
      await caughtUp();
      const store = t.app.get(ReadStore);
      const generations = t.app.get(LiveGenerations);
      const collection = await generations.collection(byName('orders'));
      const orderId = history.orders[3]!;
      const original = (await store.get(collection, orderId))!;
      const { conflicts } = await store.write(collection, [
        {
          id: orderId,
          expectedRevision: original.revision,
          revision: original.revision,
          position: original.position,
          data: { ...original.data, total: 999_999 },
        },
      ]);
      expect(conflicts).toEqual([]);
      const served = await t.http.get(`/orders/${orderId}`).set('authorization', operator).expect(200);
      expect(served.body.data.total).toBe(999_999);

      const started = await admin.post('/admin/projections/orders/verify').expect(202);
      expect(started.headers.location).toBe(`/admin/jobs/${started.body.id}`);
      expect(started.body).toMatchObject({ kind: 'verify', repair: false });
      const checked = await jobDone(locationOf(started));
      expect(checked.state).toBe('succeeded');
      expect(checked.result).toMatchObject({ drifted: 1, repaired: 0, pending: 0 });
      expect(checked.result!.drift).toEqual([
        expect.objectContaining({
          collection: 'orders',
          id: orderId,
          kind: 'changed',
          fields: [{ path: 'data.total', live: 999_999, expected: original.data.total }],
        }),
      ]);
      expect((await store.get(collection, orderId))!.data.total).toBe(999_999);

      const repair = await admin.post('/admin/projections/orders/verify', { repair: true }).expect(202);
      const repaired = await jobDone(locationOf(repair));
      expect(repaired.result).toMatchObject({ drifted: 1, repaired: 1 });
      const fixed = await t.http.get(`/orders/${orderId}`).set('authorization', operator).expect(200);
      expect(fixed.body.data.total).toBe(original.data.total);
      const clean = await jobDone(
        locationOf(await admin.post('/admin/projections/orders/verify').expect(202)),
      );
      expect(clean.result).toMatchObject({ drifted: 0, drift: [] });
    });
  });

  describe('health', () => {
    it('/health/ready turns red when a projection is stalled (work waits, no batch comes), and green again', async () => {
      await caughtUp();
      await t.http.get('/health/ready').expect(200);
      const consumers = t.app.get(ConsumerRegistry);
      // A delivery loop that died: nothing delivers to orders while an order changes.
      await consumers.get('orders')!.stop();
      try {
        await placeOrder(t, shopper);
        await until(
          async () => (await t.http.get('/health/ready')).status === 503,
          'readiness to turn red',
          10_000,
        );
        const ready = await t.http.get('/health/ready').expect(503);
        expect(ready.body).toMatchObject({ status: 'down', components: { projections: 'down' } });
        expect((await admin.get('/admin/projections/orders').expect(200)).body).toMatchObject({
          status: 'stalled',
          healthy: false,
        });
      } finally {
        await consumers.start('orders');
      }
      await until(async () => (await t.http.get('/health/ready')).status === 200, 'readiness to turn green');
    });
  });

  describe('access and input', () => {
    const who = () => ({ shopper, auditor, anonymous: null, badToken: 'Bearer x.y.z' });

    /** Every admin route, with a request that an operator may make (2xx). */
    async function routes(): Promise<
      { name: string; method: 'get' | 'post' | 'delete'; path: string; body?: object; ok: number }[]
    > {
      const running = await admin.post('/admin/projections/carts/rebuild').expect(202);
      const done = await jobDone(locationOf(running));
      return [
        { name: 'GET /admin/projections', method: 'get', path: '/admin/projections', ok: 200 },
        { name: 'GET /admin/projections/:name', method: 'get', path: '/admin/projections/carts', ok: 200 },
        { name: 'POST …/pause', method: 'post', path: '/admin/projections/carts/pause', ok: 200 },
        { name: 'POST …/resume', method: 'post', path: '/admin/projections/carts/resume', ok: 200 },
        { name: 'POST …/rebuild', method: 'post', path: '/admin/projections/carts/rebuild', ok: 202 },
        { name: 'POST …/verify', method: 'post', path: '/admin/projections/carts/verify', body: {}, ok: 202 },
        { name: 'GET …/parked', method: 'get', path: '/admin/projections/carts/parked', ok: 200 },
        {
          name: 'POST …/parked/replay',
          method: 'post',
          path: '/admin/projections/carts/parked/replay',
          ok: 200,
        },
        { name: 'GET /admin/jobs', method: 'get', path: '/admin/jobs', ok: 200 },
        { name: 'GET /admin/jobs/:id', method: 'get', path: `/admin/jobs/${done.id}`, ok: 200 },
        { name: 'DELETE /admin/jobs/:id', method: 'delete', path: `/admin/jobs/${done.id}`, ok: 409 },
      ];
    }

    it('every /admin route: no token 401, shopper and auditor 403, operator allowed', async () => {
      const table = await routes();
      const seen: Record<string, Record<string, number>> = {};
      const expected: Record<string, Record<string, number>> = {};
      for (const route of table) {
        seen[route.name] = {};
        expected[route.name] = {
          shopper: 403,
          auditor: 403,
          anonymous: 401,
          badToken: 401,
          operator: route.ok,
        };
        for (const [role, auth] of Object.entries({ ...who(), operator })) {
          let req = t.http[route.method](route.path);
          if (auth) req = req.set('authorization', auth);
          const res = await (route.body ? req.send(route.body) : req);
          seen[route.name]![role] = res.status;
          if (role === 'operator' && route.ok === 202) await jobDone(locationOf(res));
        }
      }
      expect(seen).toEqual(expected);
      // The DELETE of a running job is allowed to an operator (another try if the job was quicker).
      for (let attempt = 0; ; attempt++) {
        const running = await admin.post('/admin/projections/order_search/rebuild').expect(202);
        for (const [role, auth] of Object.entries(who())) {
          let req = t.http.delete(`/admin/jobs/${running.body.id}`);
          if (auth) req = req.set('authorization', auth);
          expect([role, (await req).status]).toEqual([
            role,
            role === 'anonymous' || role === 'badToken' ? 401 : 403,
          ]);
        }
        const cancel = await admin.delete(`/admin/jobs/${running.body.id}`);
        if (cancel.status === 200 || attempt === 4) {
          expect(cancel.status).toBe(200);
          expect(cancel.body.state).toBe('cancelled');
          break;
        }
        expect(cancel.body).toMatchObject({ code: 'JOB_NOT_CANCELLABLE', state: 'succeeded' });
      }
    }, 60_000);

    it('unknown projections and jobs are 404; bad bodies and queries are 400', async () => {
      for (const [method, path] of [
        ['get', '/admin/projections/nope'],
        ['post', '/admin/projections/nope/pause'],
        ['post', '/admin/projections/nope/resume'],
        ['post', '/admin/projections/nope/rebuild'],
        ['post', '/admin/projections/nope/verify'],
        ['get', '/admin/projections/nope/parked'],
        ['post', '/admin/projections/nope/parked/replay'],
        ['get', '/admin/projections/Not%20A%20Name/parked'],
        ['get', '/admin/jobs/not-a-uuid'],
        ['get', `/admin/jobs/${randomUUID()}`],
        ['delete', '/admin/jobs/not-a-uuid'],
        ['delete', `/admin/jobs/${randomUUID()}`],
      ] as const) {
        const res = await t.http[method](path).set('authorization', operator);
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(res.body.code).toMatch(/^(PROJECTION|JOB)_NOT_FOUND$/);
      }
      for (const [path, body] of [
        ['/admin/projections/carts/pause', { now: true }],
        ['/admin/projections/carts/rebuild', { from: 0 }],
        ['/admin/projections/carts/verify', { repair: 'yes' }],
        ['/admin/projections/carts/verify', { repair: true, extra: 1 }],
        ['/admin/projections/carts/parked/replay', { limit: 0 }],
        ['/admin/projections/carts/parked/replay', { limit: '5' }],
        ['/admin/projections/carts/parked/replay', { limit: 1.5 }],
        ['/admin/projections/carts/parked/replay', [1]],
      ] as const) {
        const res = await admin.post(path, body);
        expect([path, body, res.status]).toEqual([path, body, 400]);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
      for (const path of [
        '/admin/projections/carts/parked?limit=0',
        '/admin/projections/carts/parked?limit=abc',
        '/admin/projections/carts/parked?other=1',
        '/admin/jobs?limit=1000',
        '/admin/jobs?state=bogus',
        '/admin/jobs?kind=drop',
        '/admin/jobs?projection=Bad%20Name',
        '/admin/jobs?limit=1&limit=2',
      ]) {
        const res = await admin.get(path);
        expect([path, res.status]).toEqual([path, 400]);
      }
      const malformed = await t.http
        .post('/admin/projections/carts/verify')
        .set('authorization', operator)
        .set('content-type', 'application/json')
        .send('{"repair":');
      expect(malformed.status).toBe(400);
    });
  });
});
