import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { ordersProjection } from '../../src/orders/read-model/orders.projection.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import type { ReadDocument } from '../../src/read-side/read-store.port.js';
import { ProjectionRunner } from '../../src/read-side/runtime/projection-runner.js';
import { writeHistory } from '../support/event-history.js';

/** The embedded read store, counting the documents read by id (what FerretDB makes slow). */
class CountingReadStore extends EmbeddedReadStore {
  reads = 0;
  override async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    this.reads += ids.length;
    return super.getMany(collection, ids);
  }
}

describe('the projection runner’s write-through cache', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  let store: CountingReadStore;
  let orderEvents: RecordedEvent[];
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-cache-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    await writeHistory(events, { carts: 50, steps: 14, seed: 21 });
    const types = new Set<string>(ordersProjection.eventTypes);
    orderEvents = (await events.readAll()).filter((e) => types.has(e.type));
    store = new CountingReadStore(join(dir, 'read.sqlite'));
  });
  afterAll(async () => {
    await store.close();
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runner(cacheSize: number): Promise<ProjectionRunner> {
    const documents = `orders_cache_${++n}`;
    await store.ensureCollection({ ...ordersProjection.documents, name: documents });
    return new ProjectionRunner(ordersProjection, { documents }, events, store, undefined, cacheSize);
  }

  async function deliver(
    target: ProjectionRunner,
    sequence: readonly RecordedEvent[],
    size = 7,
  ): Promise<void> {
    for (let i = 0; i < sequence.length; i += size) {
      const batch = sequence.slice(i, i + size).map((event) => ({ event, retryCount: 0 }));
      expect(await target.handle(batch)).toEqual(batch.map(() => ({ action: 'ack' })));
    }
  }

  async function documentsOf(target: ProjectionRunner): Promise<unknown[]> {
    const docs = await store.scan(target.target.documents, { limit: 100_000 });
    return docs.map(({ id, revision, position, data }) => ({ id, revision, position, data }));
  }

  it('in order, every document is written without being read again; the collection is the same as without', async () => {
    expect(orderEvents.length).toBeGreaterThan(40);
    const plain = await runner(0);
    store.reads = 0;
    await deliver(plain, orderEvents);
    const readsWithout = store.reads;
    expect(readsWithout).toBeGreaterThan(0);

    const cached = await runner(10_000);
    store.reads = 0;
    await deliver(cached, orderEvents);
    expect(store.reads).toBe(0);
    expect(await documentsOf(cached)).toEqual(await documentsOf(plain));
  });

  it('a document another writer moved on conflicts, is read afresh, and ends right', async () => {
    const reference = await runner(0);
    await deliver(reference, orderEvents);
    const documents = reference.target.documents;

    // Two runners on one collection, each with its own cache (two instances that both think they own it).
    const first = await runner(10_000);
    const a = new ProjectionRunner(ordersProjection, first.target, events, store, undefined, 10_000);
    const b = new ProjectionRunner(ordersProjection, first.target, events, store, undefined, 10_000);
    const half = Math.floor(orderEvents.length / 2);
    await deliver(a, orderEvents.slice(0, half));
    // B takes the rest (every stream a's cache holds moves on behind its back)...
    await deliver(b, orderEvents.slice(half));
    // ...and A gets it all delivered again: its cache is stale for every stream, its writes conflict, it re-reads.
    store.reads = 0;
    await deliver(a, orderEvents.slice(half));
    expect(store.reads).toBeGreaterThan(0);
    expect(await documentsOf(a)).toEqual((await documentsOf(reference)).map((doc) => doc));
    expect(documents).not.toBe(first.target.documents);
  });

  it('stays within its size: the least recently used are dropped, and read again when needed', async () => {
    const small = await runner(3);
    store.reads = 0;
    await deliver(small, orderEvents, 5);
    const withSmallCache = store.reads;
    const none = await runner(0);
    store.reads = 0;
    await deliver(none, orderEvents, 5);
    expect(withSmallCache).toBeGreaterThan(0);
    expect(withSmallCache).toBeLessThanOrEqual(store.reads);
    expect(await documentsOf(small)).toEqual(await documentsOf(none));
  });
});
