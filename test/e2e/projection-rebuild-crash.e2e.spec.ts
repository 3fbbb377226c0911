import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import { MongoReadStore } from '../../src/read-side/mongo/mongo-read-store.js';
import { PROJECTIONS } from '../../src/projections.js';
import type { ReadStore } from '../../src/read-side/read-store.port.js';
import { LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import { writeHistory } from '../support/event-history.js';
import { cleanRebuild, dumpGeneration, dumpLive, until } from '../support/projection-runtime.js';
import { readStoreEnvs } from '../support/read-store-env.js';
import { startService, type ServiceProcess } from '../support/service-process.js';

const SECRET = 'rebuild-crash-secret-0123456789abcdef';
const byName = (name: string) => PROJECTIONS.find((p) => p.name === name)!;

interface Job {
  id: string;
  state: string;
  phase: string;
  owner: string | null;
  eventsDone: number;
  eventsTotal: number;
  generation: number;
  replacedGeneration: number | null;
}

describe.each(readStoreEnvs())('a rebuild survives kill -9 of the service (%s)', (_name, readStoreEnv) => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const env = readStoreEnv();
  const auth = `Bearer ${new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h' } }).sign({ sub: 'ops', roles: ['operator'] })}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-rebuild-crash-'));
    // A history written straight into the event store before the service first starts.
    const events = new EmbeddedEventStore(join(dataDir, 'events.sqlite'));
    await writeHistory(events, { carts: 150, steps: 14, seed: 31 });
    await events.close();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = (extra: Record<string, string>) =>
    startService({ AUTH_JWT_SECRET: SECRET, DATA_DIR: dataDir, REBUILD_PAGE_SIZE: '10', ...env, ...extra });

  async function call(method: string, path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${service!.url}${path}`, { method, headers: { authorization: auth } });
    return { status: res.status, body: await res.json() };
  }

  const job = async (id: string) => (await call('GET', `/admin/jobs/${id}`)).body as Job;

  async function caughtUp(): Promise<void> {
    await until(
      async () => {
        const { body } = await call('GET', '/admin/projections');
        return (body as { items: { lagEvents: number }[] }).items.every((p) => p.lagEvents === 0);
      },
      'the projections to catch up',
      60_000,
    );
  }

  it('killed while building, the job resumes on restart; killed while draining, it still drops the old generation', async () => {
    service = await start({ REBUILD_PAGE_DELAY_MS: '25' });
    await caughtUp();

    // 1. Killed in the middle of the catch-up read.
    const building = await call('POST', '/admin/projections/order_timeline/rebuild');
    expect(building.status).toBe(202);
    const first = building.body as Job;
    await until(async () => (await job(first.id)).eventsDone >= 50, 'the rebuild to make progress', 30_000);
    const beforeKill = await job(first.id);
    expect(beforeKill).toMatchObject({ state: 'running', phase: 'building' });
    expect(beforeKill.eventsDone).toBeLessThan(beforeKill.eventsTotal);
    await service.kill9();

    service = await start({ REBUILD_PAGE_DELAY_MS: '0', REBUILD_DROP_GRACE_MS: '300' });
    let resumed: Job | undefined;
    await until(
      async () => {
        resumed = await job(first.id);
        return resumed.state !== 'running';
      },
      'the resumed rebuild to end',
      60_000,
    );
    expect(resumed).toMatchObject({ state: 'succeeded', generation: 2, replacedGeneration: 1 });
    expect(resumed!.owner).not.toBe(beforeKill.owner);
    expect(resumed!.eventsDone).toBe(resumed!.eventsTotal);

    // 2. Killed after the switch, while the old generation waits for its grace delay.
    await service.stop();
    service = await start({ REBUILD_DROP_GRACE_MS: '600000' });
    const draining = await call('POST', '/admin/projections/orders/rebuild');
    expect(draining.status).toBe(202);
    const second = draining.body as Job;
    await until(async () => (await job(second.id)).phase === 'draining', 'the switch', 30_000);
    await service.kill9();
    service = await start({ REBUILD_DROP_GRACE_MS: '300' });
    let drained: Job | undefined;
    await until(
      async () => {
        drained = await job(second.id);
        return drained.state !== 'running';
      },
      'the drained rebuild to end',
      60_000,
    );
    expect(drained).toMatchObject({ state: 'succeeded', generation: 2, replacedGeneration: 1 });

    await caughtUp();
    await service.stop();
    service = undefined;

    // Offline: the live generations are exactly what a clean rebuild gives; the old ones are gone.
    const store: ReadStore = env.MONGODB_URI
      ? await MongoReadStore.connect(env.MONGODB_URI)
      : new EmbeddedReadStore(join(dataDir, 'read.sqlite'));
    const events = new EmbeddedEventStore(join(dataDir, 'events.sqlite'));
    try {
      const generations = new LiveGenerations(store);
      for (const name of ['order_timeline', 'orders']) {
        const projection = byName(name);
        expect(await generations.freshLiveGeneration(name)).toBe(2);
        expect(await dumpLive(store, generations, projection)).toEqual(
          await cleanRebuild(events, store, projection),
        );
        expect(await dumpGeneration(store, projection, 1)).toEqual({ documents: [], entries: [] });
      }
    } finally {
      await store.close();
      await events.close();
    }
  }, 180_000);
});
