import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { openSqlite } from '../../src/shared/infrastructure/sqlite.js';
import { writeHistory } from '../support/event-history.js';
import { until } from '../support/projection-runtime.js';
import { parseExposition } from '../support/promql.js';
import { TEST_JWT_SECRET } from '../support/secrets.js';
import { startService, type ServiceProcess } from '../support/service-process.js';

interface Status {
  name: string;
  degraded: boolean;
  consistency: {
    sampling: string;
    samplesPerSecond: number;
    samples: number;
    driftFound: number;
    driftedCount: number;
    drifted: { collection: string; id: string; streamId: string; kind: string; fields: string[] }[];
  } | null;
}

/**
 * Continuous consistency monitoring in the built service (node dist/main.js, embedded stores): a document
 * corrupted in the read store's file behind the service's back is found by the sampler, logged as one JSON
 * line with its id and stream, and marks the projection degraded in GET /admin/projections, /health/ready
 * (still 200) and /metrics — until verify --repair makes it right again.
 */
describe('continuous consistency monitoring (the service as a process)', () => {
  let dir: string;
  let service: ServiceProcess;
  const operator = `Bearer ${new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: 'ops', roles: ['operator'] }, { expiresIn: '1h' })}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-consistency-'));
    const events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    await writeHistory(events, { carts: 15, steps: 6, seed: 31 });
    await events.close();
    service = await startService({
      DATA_DIR: dir,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
      CONSISTENCY_SAMPLES_PER_SECOND: '50',
      REBUILD_DROP_GRACE_MS: '100',
    });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  const get = async (path: string): Promise<Response> =>
    fetch(`${service.url}${path}`, { headers: { authorization: operator } });
  const cartsStatus = async (): Promise<Status> =>
    (await (await get('/admin/projections/carts')).json()) as Status;
  const metric = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
    const { samples } = parseExposition(await (await get('/metrics')).text());
    return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  };

  it('samples every projection in the background, and says so', async () => {
    await until(async () => (await cartsStatus()).consistency!.samples > 15, 'carts to be sampled');
    const { items } = (await (await get('/admin/projections')).json()) as {
      items: (Status & { kind: string })[];
    };
    for (const item of items) {
      if (item.kind === 'projection') {
        expect(item).toMatchObject({
          degraded: false,
          consistency: {
            sampling: 'sampling',
            samplesPerSecond: 50,
            driftFound: 0,
            driftedCount: 0,
            drifted: [],
          },
        });
      } else expect([item.name, item.consistency]).toEqual([item.name, null]);
    }
    expect(
      await metric('ordertrail_projection_consistency_samples_total', { projection: 'carts' }),
    ).toBeGreaterThan(0);
    expect(await metric('ordertrail_projection_degraded', { projection: 'carts' })).toBe(0);
    expect(await metric('ordertrail_store_up', { store: 'read_store' })).toBe(1);
    expect(await metric('ordertrail_store_up', { store: 'event_store' })).toBe(1);
  }, 30_000);

  it('a corrupted document: degraded (admin, health still 200, metrics), one JSON log line; verify --repair clears it', async () => {
    const db = openSqlite(join(dir, 'read.sqlite'));
    let id: string;
    try {
      db.pragma('busy_timeout = 5000');
      id = (db.prepare('SELECT id FROM "carts_g1" ORDER BY id DESC LIMIT 1').get() as { id: string }).id;
      db.prepare(`UPDATE "carts_g1" SET data = json_set(data, '$.currency', 'XXX') WHERE id = ?`).run(id);
    } finally {
      db.close();
    }

    await until(async () => (await cartsStatus()).degraded, 'carts to be degraded', 10_000);
    const status = await cartsStatus();
    expect(status.consistency).toMatchObject({
      driftFound: 1,
      driftedCount: 1,
      drifted: [
        { collection: 'carts', id, streamId: `cart-${id}`, kind: 'changed', fields: ['data.currency'] },
      ],
    });
    const ready = await fetch(`${service.url}/health/ready`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'up', components: { eventStore: 'up', readStore: 'up', projections: 'degraded' } },
    ]);
    expect(await metric('ordertrail_projection_degraded', { projection: 'carts' })).toBe(1);
    expect(await metric('ordertrail_projection_drift_total', { projection: 'carts' })).toBe(1);
    expect(await metric('ordertrail_projection_degraded', { projection: 'orders' })).toBe(0);

    // Seen many times since (re-checked every tick): logged once.
    await new Promise((r) => setTimeout(r, 300));
    const drift = service.logLines().filter((l) => l.context === 'Consistency' && l.level === 'warn');
    expect(drift).toEqual([
      expect.objectContaining({
        msg: 'consistency drift: a read document differs from the fold of its stream',
        projection: 'carts',
        collection: 'carts',
        documentId: id,
        streamId: `cart-${id}`,
        kind: 'changed',
        fields: ['data.currency'],
      }),
    ]);

    const verify = await fetch(`${service.url}/admin/projections/carts/verify`, {
      method: 'POST',
      headers: { authorization: operator, 'content-type': 'application/json' },
      body: JSON.stringify({ repair: true }),
    });
    expect(verify.status).toBe(202);
    await until(async () => !(await cartsStatus()).degraded, 'carts to be consistent again', 20_000);
    const after = (await (await fetch(`${service.url}/health/ready`)).json()) as {
      components: { projections: string };
    };
    expect(after.components.projections).toBe('up');
    expect(await metric('ordertrail_projection_degraded', { projection: 'carts' })).toBe(0);
    expect(service.logLines().filter((l) => l.context === 'Consistency' && l.level === 'info')).toEqual([
      expect.objectContaining({ documentId: id, projection: 'carts' }),
    ]);
  }, 60_000);
});
