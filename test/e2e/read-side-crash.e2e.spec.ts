import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import { PROJECTIONS } from '../../src/projections.js';
import { ProjectionRunner } from '../../src/read-side/runtime/projection-runner.js';
import { projectionGroup } from '../../src/read-side/runtime/projection-supervisor.js';
import { LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import { startService, type ServiceProcess } from '../support/service-process.js';
import { ShopClient } from '../support/shop-client.js';

const SECRET = 'crash-test-secret-0123456789abcdef';

describe('read side after kill -9 during a burst of commands', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-rs-crash-'));
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the read collections converge to exactly what a clean rebuild gives', async () => {
    const env = { AUTH_JWT_SECRET: SECRET, DATA_DIR: dataDir };
    const auth = `Bearer ${new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h' } }).sign({ sub: 'crash-customer', roles: ['shopper'] })}`;
    const headers = { authorization: auth, 'content-type': 'application/json' };
    service = await startService(env);
    const url = service.url;
    // The catalog sells sku-0 … sku-29, sku-k at 10 + k (the products projection is rebuilt below too).
    const shop = new ShopClient(url, SECRET);
    for (let k = 0; k < 30; k++) await shop.listProduct(`sku-${k}`, 10 + k);
    const carts: string[] = [];
    for (let i = 0; i < 24; i++) {
      const res = await fetch(`${url}/carts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ currency: 'EUR' }),
      });
      carts.push(((await res.json()) as { id: string }).id);
    }

    let acknowledged = 0;
    let n = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const i = n++;
        const cartId = carts[i % carts.length]!;
        // Every 40th command checks a cart out (placing an order through the process manager).
        const checkout = i % 40 === 39;
        try {
          const res = await fetch(`${url}/carts/${cartId}/${checkout ? 'checkout' : 'items'}`, {
            method: 'POST',
            headers,
            body: JSON.stringify(checkout ? {} : { sku: `sku-${i % 30}`, quantity: 1 }),
          });
          if (res.ok) acknowledged++;
        } catch {
          // the process is gone
        }
      }
    };
    const workers = Array.from({ length: 24 }, worker);
    while (acknowledged < 600) await new Promise((r) => setTimeout(r, 5));
    await service.kill9();
    stop = true;
    await Promise.all(workers);

    // Restart: the consumer groups resume from their checkpoints and redeliver what was in flight.
    service = await startService(env);
    for (const cartId of carts) {
      const strong = await fetch(`${service.url}/carts/${cartId}?consistency=strong`, { headers });
      const { meta, data } = (await strong.json()) as {
        meta: { revision: number };
        data: { orderId: string | null };
      };
      const cached = await fetch(`${service.url}/carts/${cartId}?minRevision=${meta.revision}`, { headers });
      expect(((await cached.json()) as { meta: { stale: boolean } }).meta.stale).toBe(false);
      if (data.orderId) {
        const order = await fetch(`${service.url}/orders/${data.orderId}?minRevision=0`, { headers });
        expect(order.status).toBe(200);
      }
    }
    // Let the other projections (search, timeline) drain too, then stop cleanly and compare offline.
    await new Promise((r) => setTimeout(r, 1000));
    await service.stop();
    service = undefined;

    const events = new EmbeddedEventStore(join(dataDir, 'events.sqlite'));
    const store = new EmbeddedReadStore(join(dataDir, 'read.sqlite'));
    try {
      const generations = new LiveGenerations(store);
      const head = await events.headPosition();
      for (const projection of PROJECTIONS) {
        // Every group had settled everything before the clean stop (else the comparison would be unfair).
        const info = await events.consumerGroups.groupInfo(projectionGroup(projection));
        expect({
          group: projection.name,
          caughtUp: info.checkpoint !== null && info.checkpoint >= head,
        }).toEqual({
          group: projection.name,
          caughtUp: true,
        });
        expect(info.parkedCount).toBe(0);
      }
      for (const projection of PROJECTIONS) {
        const all = await events.readAll({ eventTypes: projection.eventTypes });
        const live = await generations.collection(projection);
        const documents = `${projection.documents.name}_clean`;
        await store.ensureCollection({ ...projection.documents, name: documents });
        let entries: string | undefined;
        if (projection.entries) {
          entries = `${projection.entries.name}_clean`;
          await store.ensureCollection({ ...projection.entries, name: entries });
        }
        const clean = new ProjectionRunner(
          projection,
          entries ? { documents, entries } : { documents },
          events,
          store,
        );
        await clean.handle(all.map((event) => ({ event, retryCount: 0 })));
        const dump = async (name: string) =>
          (
            await store.find(name, {
              where: {},
              orderBy: { field: 'position', direction: 'asc' },
              limit: 1e6,
            })
          ).map(({ id, revision, position, data }) => ({ id, revision, position, data }));
        expect(await dump(live)).toEqual(await dump(documents));
        if (projection.entries && entries) {
          expect(await dump(await generations.collection(projection, 'entries'))).toEqual(
            await dump(entries),
          );
        }
      }
    } finally {
      await store.close();
      await events.close();
    }
  }, 90_000);
});
