import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PROJECTIONS } from '../../src/projections.js';
import type { ReadStore } from '../../src/read-side/read-store.port.js';
import type { AnyProjection } from '../../src/read-side/runtime/projection.js';
import { ProjectionRunner } from '../../src/read-side/runtime/projection-runner.js';
import { seeded, writeHistory, type History } from '../support/event-history.js';
import { readStoreFactories } from '../support/read-stores.js';

// A FerretDB read store looks every document up with a full scan (no _id index in 1.x): on a busy 2-core
// machine one of these runs can take well over Jest's default 5 s, which says nothing about correctness.
jest.setTimeout(60_000);

interface Dump {
  documents: unknown[];
  entries: unknown[];
}

describe.each(readStoreFactories())('projection runtime on the %s read store', (_name, openStore) => {
  let dir: string;
  let events: EmbeddedEventStore;
  let store: ReadStore;
  let history: History;
  let all: RecordedEvent[];
  const baseline = new Map<string, Dump>();
  const run = randomUUID().slice(0, 8).replace(/-/g, '');
  let generation = 0;

  async function runnerFor(projection: AnyProjection): Promise<ProjectionRunner> {
    generation++;
    const documents = `${projection.documents.name}_t${run}_${generation}`;
    await store.ensureCollection({ ...projection.documents, name: documents });
    let entries: string | undefined;
    if (projection.entries) {
      entries = `${projection.entries.name}_t${run}_${generation}`;
      await store.ensureCollection({ ...projection.entries, name: entries });
    }
    // Every other runner keeps a write-through cache: duplicates, reordering and redelivery must give the same
    // collections with and without one.
    const cacheSize = generation % 2 === 0 ? 1000 : 0;
    const target = entries ? { documents, entries } : { documents };
    return new ProjectionRunner(projection, target, events, store, undefined, cacheSize);
  }

  /** What the consumer group would deliver to this projection: its event types, in position order. */
  const eventsOf = (projection: AnyProjection) =>
    all.filter((event) => projection.eventTypes.includes(event.type));

  async function deliver(runner: ProjectionRunner, sequence: readonly RecordedEvent[], sizes: () => number) {
    for (let i = 0; i < sequence.length;) {
      const size = Math.max(1, sizes());
      const batch = sequence.slice(i, i + size).map((event) => ({ event, retryCount: 0 }));
      const outcomes = await runner.handle(batch);
      expect(outcomes).toEqual(batch.map(() => ({ action: 'ack' })));
      i += size;
    }
  }

  async function dumpCollection(name: string): Promise<unknown[]> {
    const docs = await store.find(name, {
      where: {},
      orderBy: { field: 'position', direction: 'asc' },
      limit: 1_000_000,
    });
    return docs
      .map(({ id, revision, position, data }) => ({ id, revision, position, data }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async function dump(runner: ProjectionRunner): Promise<Dump> {
    return {
      documents: await dumpCollection(runner.target.documents),
      entries: runner.target.entries ? await dumpCollection(runner.target.entries) : [],
    };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-runtime-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    history = await writeHistory(events, { carts: 60, steps: 14, seed: 7 });
    all = await events.readAll();
    store = await openStore(dir);
    for (const projection of PROJECTIONS) {
      const runner = await runnerFor(projection);
      await deliver(runner, eventsOf(projection), () => 50);
      baseline.set(projection.name, await dump(runner));
    }
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await events?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the clean pass projected every stream of the history', () => {
    expect(history.orders.length).toBeGreaterThan(10);
    expect(baseline.get('carts')!.documents).toHaveLength(history.carts.length);
    expect(baseline.get('orders')!.documents).toHaveLength(history.orders.length);
    expect(baseline.get('order_search')!.documents).toHaveLength(history.orders.length);
    const orderEvents = all.filter((event) => event.streamId.startsWith('order-')).length;
    expect(baseline.get('order_timeline')!.entries).toHaveLength(orderEvents);
  });

  describe.each(PROJECTIONS.map((p) => [p.name, p] as const))('%s', (name, projection) => {
    it('every event delivered twice gives the collections of a clean single pass', async () => {
      const runner = await runnerFor(projection);
      const sequence = eventsOf(projection).flatMap((event) => [event, event]);
      await deliver(runner, sequence, () => 13);
      await deliver(runner, eventsOf(projection), () => 40); // and the whole history again
      expect(await dump(runner)).toEqual(baseline.get(name));
    });

    it('events shuffled within windows of 10 give the collections of a clean single pass', async () => {
      const random = seeded(11);
      const sequence = [...eventsOf(projection)];
      for (let start = 0; start < sequence.length; start += 10) {
        for (let i = Math.min(start + 9, sequence.length - 1); i > start; i--) {
          const j = start + Math.floor(random() * (i - start + 1));
          [sequence[i], sequence[j]] = [sequence[j]!, sequence[i]!];
        }
      }
      const runner = await runnerFor(projection);
      await deliver(runner, sequence, () => 1 + Math.floor(random() * 12));
      expect(await dump(runner)).toEqual(baseline.get(name));
    });

    it('duplicated, shuffled and randomly batched delivery converges to the same collections', async () => {
      const random = seeded(23);
      const sequence = eventsOf(projection).flatMap((event) => (random() < 0.3 ? [event, event] : [event]));
      for (let i = sequence.length - 1; i > 0; i--) {
        const j = Math.max(0, i - Math.floor(random() * 25));
        [sequence[i], sequence[j]] = [sequence[j]!, sequence[i]!];
      }
      const runner = await runnerFor(projection);
      await deliver(runner, sequence, () => 1 + Math.floor(random() * 30));
      expect(await dump(runner)).toEqual(baseline.get(name));
    });
  });

  it('a gap is healed from the event store, never skipped', async () => {
    const projection = PROJECTIONS.find((p) => p.name === 'orders')!;
    const sequence = eventsOf(projection);
    // Deliver only each stream's newest event: everything before it must be read back from the store.
    const newest = new Map<string, RecordedEvent>();
    for (const event of sequence) newest.set(event.streamId, event);
    const runner = await runnerFor(projection);
    const { report } = await runner.handleWithReport(
      [...newest.values()].map((event) => ({ event, retryCount: 0 })),
    );
    expect(report.healed).toBe(sequence.length - newest.size);
    expect(await dump(runner)).toEqual(baseline.get('orders'));
  });

  it('a history delivered again, first events included, applies and counts nothing', async () => {
    // A batch holding a stream's first event folds it from nothing without a lookup: the documents exist, so
    // every insert conflicts and the next round finds them up to date.
    const projection = PROJECTIONS.find((p) => p.name === 'order_timeline')!;
    const runner = await runnerFor(projection);
    const delivery = eventsOf(projection).map((event) => ({ event, retryCount: 0 }));
    const first = await runner.handleWithReport(delivery);
    expect(first.report).toEqual({ applied: delivery.length, healed: 0, failedStreams: 0 });
    const again = await runner.handleWithReport(delivery);
    expect(again.outcomes).toEqual(delivery.map(() => ({ action: 'ack' })));
    expect(again.report).toEqual({ applied: 0, healed: 0, failedStreams: 0 });
    expect(await dump(runner)).toEqual(baseline.get('order_timeline'));
  });

  it('two instances applying the same events at the same time never double-apply', async () => {
    const projection = PROJECTIONS.find((p) => p.name === 'order_timeline')!;
    const [a, b] = [await runnerFor(projection), await runnerFor(projection)];
    // Both runners write to the same collections: b takes a's target.
    const twin = new ProjectionRunner(projection, a.target, events, store);
    void b;
    const sequence = eventsOf(projection);
    const random = seeded(5);
    await Promise.all([
      deliver(a, sequence, () => 1 + Math.floor(random() * 9)),
      deliver(twin, sequence, () => 7),
    ]);
    expect(await dump(a)).toEqual(baseline.get('order_timeline'));
  });
});
