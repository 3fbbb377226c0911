import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Logger, type LoggerService } from '@nestjs/common';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { PROJECTIONS } from '../../src/projections.js';
import { ConsistencySampler } from '../../src/read-side/runtime/consistency-sampler.js';
import { DocumentJudge } from '../../src/read-side/runtime/document-judge.js';
import { physicalCollection } from '../../src/read-side/runtime/live-generations.js';
import { projectionGroup } from '../../src/read-side/runtime/projection-supervisor.js';
import { seeded, writeHistory } from '../support/event-history.js';
import {
  caughtUp,
  isolatedReadStores,
  jobEnded,
  startRuntime,
  tempDir,
  type IsolatedReadStore,
  type Runtime,
} from '../support/projection-runtime.js';

const byName = (name: string) => PROJECTIONS.find((p) => p.name === name)!;
const orders = byName('orders');
const GROUPS = PROJECTIONS.map(projectionGroup);

/** What the sampler logs, as (level, fields, message). */
const logged: { level: string; fields: Record<string, unknown>; message: string }[] = [];
const recorder =
  (level: string) =>
  (message: unknown, ...params: unknown[]) => {
    if (typeof message === 'object' && message !== null) {
      logged.push({ level, fields: message as Record<string, unknown>, message: String(params[0]) });
    }
  };
const RECORDING: LoggerService = {
  log: recorder('info'),
  warn: recorder('warn'),
  error: recorder('error'),
  debug: () => undefined,
  verbose: () => undefined,
};

beforeAll(() => Logger.overrideLogger(RECORDING));
afterAll(() => Logger.overrideLogger(false));

describe.each(isolatedReadStores())('the consistency sampler on the %s read store', (_name, openStore) => {
  let remove: () => Promise<void>;
  let events: EmbeddedEventStore;
  let isolated: IsolatedReadStore;
  let runtime: Runtime;

  beforeEach(async () => {
    let dir: string;
    ({ dir, remove } = await tempDir('ordertrail-sampler-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    isolated = await openStore(dir);
    await writeHistory(events, { carts: 30, steps: 10, seed: 23 });
    runtime = await startRuntime(events, isolated.store);
    await caughtUp(events, GROUPS);
    logged.length = 0;
  }, 60_000);

  afterEach(async () => {
    await runtime?.stop();
    await isolated.store.close();
    await isolated.cleanup();
    await events.close();
    await remove();
  }, 60_000);

  const sampler = (samplesPerSecond = 50) =>
    new ConsistencySampler(PROJECTIONS, events, isolated.store, runtime.generations, runtime.jobs, {
      samplesPerSecond,
    });

  /** Ticks until every projection's walk came round `passes` times (each tick: one document per projection). */
  async function samplePasses(
    s: ConsistencySampler,
    passes: number,
    beside?: () => Promise<void>,
  ): Promise<void> {
    for (let ticks = 0; ticks < 5000; ticks++) {
      await s.tick();
      if (beside && ticks % 10 === 0) await beside();
      if (PROJECTIONS.every((p) => s.state(p.name)!.passes >= passes)) return;
    }
    throw new Error('the walks did not come round');
  }

  it('finds no drift while the projections apply: lag, a paused projection, reordered and duplicated deliveries', async () => {
    const s = sampler();
    // orders paused: its documents fall behind the events (lag, not drift).
    await runtime.consumers.setPaused('orders', true, 'test');
    let seed = 100;
    const random = seeded(5);
    const beside = async (): Promise<void> => {
      // More history while sampling: documents move under the walk.
      const written = await writeHistory(events, { carts: 2, steps: 6, seed: seed++ });
      // And a redelivery of a whole stream into the live orders generation, shuffled, each event twice, as an
      // at-least-once group may deliver it: the runtime makes it the same as once, in order.
      const id = written.orders[0];
      if (id === undefined) return;
      const recorded = await events.readStream(`order-${id}`);
      const batch = [...recorded, ...recorded]
        .map((event) => ({ event, retryCount: 1, key: random() }))
        .sort((a, b) => a.key - b.key)
        .map(({ event, retryCount }) => ({ event, retryCount }));
      const runner = await runtime.supervisor.runnerFor(orders);
      const outcomes = await runner.handle(batch);
      expect(outcomes.every((o) => o.action === 'ack')).toBe(true);
    };
    await samplePasses(s, 2, beside);
    // Then, with nothing written any more, whole walks: two more passes each, so at least one starts at the
    // beginning of a collection that no longer grows and compares every document once.
    const before = new Map(PROJECTIONS.map((p) => [p.name, s.state(p.name)!.samples]));
    await samplePasses(s, Math.max(...PROJECTIONS.map((p) => s.state(p.name)!.passes)) + 2);
    for (const p of PROJECTIONS) {
      const state = s.state(p.name)!;
      expect([p.name, state.driftFound, state.degraded, state.lastError]).toEqual([p.name, 0, false, null]);
      const live = physicalCollection(p.documents.name, await runtime.generations.liveGeneration(p.name));
      const walked = state.samples - before.get(p.name)!;
      expect([p.name, walked >= (await isolated.store.count(live))]).toEqual([p.name, true]);
    }
    expect(s.state('orders')!.samples).toBeGreaterThan(10);
    expect(logged.filter((l) => l.level === 'warn')).toEqual([]);
  }, 120_000);

  it('a document that differs from its stream is drift (data or a revision it does not have): degraded, logged once, cleared once repaired', async () => {
    const live = physicalCollection(
      orders.documents.name,
      await runtime.generations.liveGeneration('orders'),
    );
    const [first, second, third] = await isolated.store.scan(live, { limit: 3 });
    // Written behind the projection's back: a changed field, and a revision the document does not reflect.
    await isolated.store.write(live, [
      {
        id: first!.id,
        expectedRevision: first!.revision,
        revision: first!.revision,
        position: first!.position,
        data: { ...first!.data, total: 123_456 },
      },
      {
        id: second!.id,
        expectedRevision: second!.revision,
        revision: second!.revision + 7n,
        position: second!.position,
        data: second!.data,
      },
    ]);
    // Behind, not wrong: paused, with events waiting for the third one's stream.
    await runtime.consumers.setPaused('orders', true, 'test');
    await events.append(
      `order-${third!.id}`,
      [
        {
          id: randomUUID(),
          type: 'OrderShipped',
          data: { carrier: 'x', trackingNumber: 'y' },
          metadata: { schemaVersion: 1 },
        },
      ],
      'any',
    );

    const s = sampler();
    await samplePasses(s, 2);
    const state = s.state('orders')!;
    expect(state).toMatchObject({ degraded: true, driftFound: 2, driftedCount: 2, sampling: 'sampling' });
    expect(
      state.drifted
        .map((d) => [d.id, d.streamId, d.kind, d.fields])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual(
      [
        [first!.id, `order-${first!.id}`, 'changed', ['data.total']],
        [second!.id, `order-${second!.id}`, 'changed', ['meta.revision']],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    // Every other projection is fine.
    for (const p of PROJECTIONS.filter((p) => p.name !== 'orders'))
      expect(s.state(p.name)!.degraded).toBe(false);
    // One JSON line per drifted document, with its id and stream, however often it was seen.
    const lines = logged.filter((l) => l.level === 'warn');
    expect(lines.map((l) => [l.fields.documentId, l.fields.streamId, l.fields.projection]).sort()).toEqual(
      [
        [first!.id, `order-${first!.id}`, 'orders'],
        [second!.id, `order-${second!.id}`, 'orders'],
      ].sort(),
    );

    // The repair (what verify --repair writes): the fold of each stream at the revision judged.
    const judge = new DocumentJudge(events, orders);
    for (const doc of [first!, second!]) {
      const current = (await isolated.store.get(live, doc.id))!;
      const expected = (await judge.fold(`order-${doc.id}`, doc.revision))!.document;
      const { conflicts } = await isolated.store.write(live, [
        { id: doc.id, expectedRevision: current.revision, ...expected },
      ]);
      expect(conflicts).toEqual([]);
    }
    for (let i = 0; i < 10 && s.state('orders')!.degraded; i++) await s.tick();
    expect(s.state('orders')).toMatchObject({ degraded: false, driftedCount: 0, driftFound: 2 });
    expect(
      logged
        .filter((l) => l.level === 'info')
        .map((l) => l.fields.documentId)
        .sort(),
    ).toEqual([first!.id, second!.id].sort());
  }, 120_000);

  it('is off at 0 samples per second, and suspended while a rebuild runs', async () => {
    const off = sampler(0);
    off.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(off.state('orders')).toMatchObject({ sampling: 'off', samples: 0 });
    await off.stop();

    // A rebuild slow enough to be seen running.
    await runtime.stop();
    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 2, pageDelayMs: 150 } });
    const s = sampler();
    await s.tick();
    expect(s.state('orders')!.samples).toBe(1);
    const job = await runtime.runner.launch('rebuild', 'orders', { requestedBy: 'test' });
    // The sampler asks about jobs at most every second.
    for (let i = 0; i < 40 && s.state('orders')!.sampling !== 'suspended'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await s.tick();
    }
    const before = s.state('orders')!.samples;
    const cartsBefore = s.state('carts')!.samples;
    for (let i = 0; i < 5; i++) await s.tick();
    expect(await runtime.jobs.active('orders')).not.toBeNull();
    expect(s.state('orders')).toMatchObject({ sampling: 'suspended', samples: before });
    expect(s.state('carts')!.samples).toBe(cartsBefore + 5);
    await jobEnded(runtime.jobs, job.id);
    await new Promise((r) => setTimeout(r, 1100));
    await s.tick();
    expect(s.state('orders')).toMatchObject({ sampling: 'sampling', samples: before + 1 });
  }, 60_000);
});
