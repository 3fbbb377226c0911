import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cartAggregate } from '../../src/carts/cart.aggregate.js';
import { evolveCart, initialCartState } from '../../src/carts/domain/cart.decider.js';
import type { CartEvent } from '../../src/carts/domain/cart.events.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';
import { AggregateStore, type AggregateStoreOptions } from '../../src/write-path/aggregate-store.js';
import { SNAPSHOT_EVENT_TYPE } from '../../src/write-path/snapshots.js';
import type { LoadedAggregate, PendingEvent } from '../../src/write-path/aggregate-type.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type {
  EventStore,
  JsonObject,
  ReadStreamOptions,
  RecordedEvent,
} from '../../src/event-store/event-store.port.js';
import { DelegatingEventStore } from '../support/delegating-event-store.js';

interface RecordedRead {
  readonly streamId: string;
  readonly options: ReadStreamOptions | undefined;
}

/** Passes everything through to a real store and records every readStream call. */
class RecordingEventStore extends DelegatingEventStore {
  readonly reads: RecordedRead[] = [];

  readsOf(streamId: string): RecordedRead[] {
    return this.reads.filter((read) => read.streamId === streamId);
  }

  override readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.reads.push({ streamId, options });
    return this.inner.readStream(streamId, options);
  }
}

const OPTIONS: AggregateStoreOptions = {
  snapshotEvery: 10,
  snapshotsKept: 3,
  idempotencyKeysPerStream: 50,
  cacheSize: 100,
};

const cartStream = (cartId: string): string => `cart-${cartId}`;
const snapshotStream = (cartId: string): string => `cartsnapshot-${cartId}`;

function pending(event: CartEvent, metadata: JsonObject = {}): PendingEvent<CartEvent> {
  return { id: randomUUID(), event, metadata: { schemaVersion: 1, ...metadata } };
}

/** A cart's history: opened, then `count - 1` item events touching a few skus (adds, changes, removals). */
function cartHistory(cartId: string, count: number): CartEvent[] {
  const events: CartEvent[] = [
    { type: 'CartOpened', data: { cartId, customerId: 'customer-42', currency: 'EUR' } },
  ];
  for (let n = 1; n < count; n++) {
    const sku = `sku-${n % 4}`;
    if (n % 5 === 3) events.push({ type: 'ItemQuantityChanged', data: { sku, quantity: n } });
    else if (n % 7 === 6) events.push({ type: 'ItemRemoved', data: { sku } });
    else
      events.push({
        type: 'ItemAdded',
        data: { sku, name: `Article ${sku} — ü`, quantity: 1 + (n % 3), unitPrice: 100 * (1 + (n % 4)) },
      });
  }
  return events;
}

function toAppend(event: CartEvent) {
  return {
    id: randomUUID(),
    type: event.type,
    data: event.data as unknown as JsonObject,
    metadata: { schemaVersion: 1 },
  };
}

function fold(events: readonly CartEvent[]): CartState {
  return events.reduce(evolveCart, initialCartState);
}

/** The reference: the whole stream read from the store and folded from the start. */
async function fullFold(events: EventStore, cartId: string): Promise<CartState> {
  const recorded = await events.readStream(cartStream(cartId));
  return recorded.reduce(
    (state, event) => cartAggregate.evolve(state, cartAggregate.toDomainEvent(event)),
    cartAggregate.initialState,
  );
}

/** Appends through the aggregate store one event per command, as the command handlers do. */
async function appendOneByOne(
  aggregates: AggregateStore,
  cartId: string,
  events: readonly PendingEvent<CartEvent>[],
): Promise<LoadedAggregate<CartState>> {
  let current = await aggregates.load(cartAggregate, cartId);
  for (const event of events) {
    ({ aggregate: current } = await aggregates.append(cartAggregate, current, [event]));
  }
  return current;
}

const BOGUS_STATE: CartState = {
  status: 'checked-out',
  cartId: 'bogus',
  customerId: 'mallory',
  currency: 'XXX',
  lines: [{ sku: 'bogus', name: 'bogus', quantity: 999, unitPrice: 1 }],
  orderId: 'bogus-order',
};

describe('AggregateStore on a real embedded event store', () => {
  let dir: string;
  let events: EmbeddedEventStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-aggregates-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh aggregate store (nothing cached) reading through a recording decorator. */
  function freshReader(options: Partial<AggregateStoreOptions> = {}): {
    aggregates: AggregateStore;
    recording: RecordingEventStore;
  } {
    const recording = new RecordingEventStore(events);
    return { aggregates: new AggregateStore(recording, { ...OPTIONS, cacheSize: 0, ...options }), recording };
  }

  async function writeSnapshot(cartId: string, type: string, data: JsonObject): Promise<void> {
    await events.append(
      snapshotStream(cartId),
      [{ id: randomUUID(), type, data, metadata: { schemaVersion: 1 } }],
      'any',
    );
  }

  describe('snapshots', () => {
    it('are written to cartsnapshot-<id> when a stream crosses snapshotEvery, and loads read only the tail after them', async () => {
      const cartId = randomUUID();
      const history = cartHistory(cartId, 13); // revisions 0..12: crosses 10 events at revision 9
      const writer = new AggregateStore(events, OPTIONS);
      const written = await appendOneByOne(
        writer,
        cartId,
        history.map((e) => pending(e)),
      );
      await writer.flushSnapshots();
      expect(written.revision).toBe(12n);

      const snapshots = await events.readStream(snapshotStream(cartId));
      expect(snapshots).toHaveLength(1);
      expect(snapshots[0]!.type).toBe(SNAPSHOT_EVENT_TYPE);
      expect(snapshots[0]!.data).toStrictEqual({
        stateSchemaVersion: cartAggregate.stateSchemaVersion,
        revision: '9',
        state: fold(history.slice(0, 10)),
        idempotency: [],
      });

      // Snapshots never land in a cart-… stream (that category feeds $ce-cart and the projections).
      const all = await events.readAll();
      expect(new Set(all.map((e) => e.streamId))).toEqual(
        new Set([cartStream(cartId), snapshotStream(cartId)]),
      );
      expect(all.filter((e) => e.streamId.startsWith('cart-')).map((e) => e.type)).not.toContain(
        SNAPSHOT_EVENT_TYPE,
      );
      expect(all.filter((e) => e.type === SNAPSHOT_EVENT_TYPE).map((e) => e.streamId)).toEqual([
        snapshotStream(cartId),
      ]);

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      expect(recording.reads).toEqual([
        { streamId: snapshotStream(cartId), options: { direction: 'backwards', limit: 1 } },
        { streamId: cartStream(cartId), options: { from: 10n } },
      ]);
      expect(loaded.revision).toBe(12n);
      expect(loaded.state).toEqual(fold(history));
      expect(loaded.state).toEqual(await fullFold(events, cartId));
      expect(loaded.state).toEqual(written.state);
    });

    it('a snapshot taken by a batch append that jumps over the multiple holds the state at its last event', async () => {
      const cartId = randomUUID();
      const history = cartHistory(cartId, 14);
      const writer = new AggregateStore(events, OPTIONS);
      const opened = await writer.load(cartAggregate, cartId);
      const { aggregate } = await writer.append(
        cartAggregate,
        opened,
        history.slice(0, 8).map((e) => pending(e)),
      );
      // Revisions 8..13 in one append: the count goes from 8 to 14, crossing 10.
      await writer.append(
        cartAggregate,
        aggregate,
        history.slice(8).map((e) => pending(e)),
      );
      await writer.flushSnapshots();

      const [snapshot] = await events.readStream(snapshotStream(cartId), {
        direction: 'backwards',
        limit: 1,
      });
      expect(snapshot!.data.revision).toBe('13');
      expect(snapshot!.data.state).toEqual(fold(history));

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      expect(recording.readsOf(cartStream(cartId))).toEqual([
        { streamId: cartStream(cartId), options: { from: 14n } },
      ]);
      expect(loaded.revision).toBe(13n);
      expect(loaded.state).toEqual(await fullFold(events, cartId));
    });

    it('the snapshot stream is capped at snapshotsKept', async () => {
      const cartId = randomUUID();
      const writer = new AggregateStore(events, { ...OPTIONS, snapshotEvery: 2, snapshotsKept: 3 });
      const history = cartHistory(cartId, 20);
      await appendOneByOne(
        writer,
        cartId,
        history.map((e) => pending(e)),
      );
      await writer.flushSnapshots();

      // Ten snapshots were written (revisions 1, 3, …, 19)…
      const written = (await events.readAll()).filter((e) => e.streamId === snapshotStream(cartId));
      expect(written.map((e) => e.data.revision)).toEqual([
        '1',
        '3',
        '5',
        '7',
        '9',
        '11',
        '13',
        '15',
        '17',
        '19',
      ]);
      // …but only the newest three stay readable.
      expect(await events.getStreamMetadata(snapshotStream(cartId))).toStrictEqual({ maxCount: 3 });
      const kept = await events.readStream(snapshotStream(cartId));
      expect(kept.map((e) => e.data.revision)).toEqual(['15', '17', '19']);
      expect(await events.readStream(snapshotStream(cartId), { direction: 'backwards' })).toHaveLength(3);

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      expect(recording.readsOf(cartStream(cartId))[0]!.options).toEqual({ from: 20n });
      expect(loaded.state).toEqual(fold(history));
    });

    it('a snapshot with the code’s state schema version is trusted (control for the tests below)', async () => {
      const cartId = randomUUID();
      await appendOneByOne(
        new AggregateStore(events, { ...OPTIONS, snapshotEvery: 1000 }),
        cartId,
        cartHistory(cartId, 5).map((e) => pending(e)),
      );
      await writeSnapshot(cartId, SNAPSHOT_EVENT_TYPE, {
        stateSchemaVersion: cartAggregate.stateSchemaVersion,
        revision: '4',
        state: BOGUS_STATE as unknown as JsonObject,
        idempotency: [],
      });

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      expect(recording.readsOf(cartStream(cartId))[0]!.options).toEqual({ from: 5n });
      expect(loaded.state).toEqual(BOGUS_STATE);
    });

    it('a snapshot of another state schema version is ignored: the whole stream is folded', async () => {
      const cartId = randomUUID();
      const history = cartHistory(cartId, 5);
      await appendOneByOne(
        new AggregateStore(events, { ...OPTIONS, snapshotEvery: 1000 }),
        cartId,
        history.map((e) => pending(e)),
      );
      await writeSnapshot(cartId, SNAPSHOT_EVENT_TYPE, {
        stateSchemaVersion: cartAggregate.stateSchemaVersion + 1,
        revision: '4',
        state: BOGUS_STATE as unknown as JsonObject,
        idempotency: [],
      });

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      const cartReads = recording.readsOf(cartStream(cartId));
      expect(cartReads).toHaveLength(1);
      expect(cartReads[0]!.options?.from ?? 0n).toBe(0n);
      expect(loaded.revision).toBe(4n);
      expect(loaded.state).toEqual(fold(history));
      expect(loaded.state).not.toEqual(BOGUS_STATE);
    });

    const valid = { stateSchemaVersion: 1, revision: '4', idempotency: [] };
    const bogus = BOGUS_STATE as unknown as JsonObject;
    it.each<[string, string, JsonObject]>([
      ['not a snapshot at all', SNAPSHOT_EVENT_TYPE, { garbage: true }],
      ['a non-numeric revision', SNAPSHOT_EVENT_TYPE, { ...valid, revision: 'four', state: bogus }],
      ['a negative revision', SNAPSHOT_EVENT_TYPE, { ...valid, revision: '-1', state: bogus }],
      ['a numeric (not string) revision', SNAPSHOT_EVENT_TYPE, { ...valid, revision: 4, state: bogus }],
      ['no state', SNAPSHOT_EVENT_TYPE, { ...valid, state: null }],
      ['a string state', SNAPSHOT_EVENT_TYPE, { ...valid, state: 'bogus' }],
      ['a string schema version', SNAPSHOT_EVENT_TYPE, { ...valid, stateSchemaVersion: '1', state: bogus }],
      [
        'malformed idempotency entries',
        SNAPSHOT_EVENT_TYPE,
        { ...valid, state: bogus, idempotency: [['k', 'h']] },
      ],
      [
        'idempotency that is not a list',
        SNAPSHOT_EVENT_TYPE,
        { ...valid, state: bogus, idempotency: 'none' },
      ],
      ['another event type', 'SomethingElse', { ...valid, state: bogus }],
    ])('a garbled snapshot (%s) is ignored: the whole stream is folded', async (_case, type, data) => {
      const cartId = randomUUID();
      const history = cartHistory(cartId, 5);
      await appendOneByOne(
        new AggregateStore(events, { ...OPTIONS, snapshotEvery: 1000 }),
        cartId,
        history.map((e) => pending(e)),
      );
      await writeSnapshot(cartId, type, data);

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      expect(recording.readsOf(cartStream(cartId))[0]!.options?.from ?? 0n).toBe(0n);
      expect(loaded.revision).toBe(4n);
      expect(loaded.state).toEqual(fold(history));
      expect(loaded.idempotency.size).toBe(0);
    });

    it('idempotency keys seen before a snapshot are still known after a fresh load from it', async () => {
      const cartId = randomUUID();
      const history = cartHistory(cartId, 7);
      const writer = new AggregateStore(events, { ...OPTIONS, snapshotEvery: 5 });
      await appendOneByOne(
        writer,
        cartId,
        history.map((e, n) =>
          n === 1
            ? pending(e, { idempotencyKey: 'key-before', requestHash: 'hash-before' })
            : n === 6
              ? pending(e, { idempotencyKey: 'key-after', requestHash: 'hash-after' })
              : pending(e),
        ),
      );
      await writer.flushSnapshots();
      const [snapshot] = await events.readStream(snapshotStream(cartId));
      expect(snapshot!.data).toMatchObject({
        revision: '4',
        idempotency: [['key-before', 'hash-before', '1']],
      });

      const { aggregates, recording } = freshReader();
      const loaded = await aggregates.load(cartAggregate, cartId);
      // The event that carried the key (revision 1) is not read again: the key comes from the snapshot.
      expect(recording.readsOf(cartStream(cartId))[0]!.options).toEqual({ from: 5n });
      expect([...loaded.idempotency]).toEqual([
        ['key-before', { requestHash: 'hash-before', revision: 1n }],
        ['key-after', { requestHash: 'hash-after', revision: 6n }],
      ]);
    });
  });

  describe('LRU cache', () => {
    async function seedCarts(count: number): Promise<string[]> {
      const writer = new AggregateStore(events, { ...OPTIONS, snapshotEvery: 1000 });
      const ids = Array.from({ length: count }, () => randomUUID());
      for (const id of ids)
        await appendOneByOne(
          writer,
          id,
          cartHistory(id, 3).map((e) => pending(e)),
        );
      return ids;
    }

    it('with cacheSize 1, loading a second aggregate evicts the first', async () => {
      const [a, b] = (await seedCarts(2)) as [string, string];
      const { aggregates, recording } = freshReader({ cacheSize: 1 });

      const first = await aggregates.load(cartAggregate, a);
      expect(recording.readsOf(cartStream(a))).toHaveLength(1);
      expect(await aggregates.load(cartAggregate, a)).toBe(first); // cached: no read
      expect(recording.readsOf(cartStream(a))).toHaveLength(1);

      await aggregates.load(cartAggregate, b);
      expect(recording.readsOf(cartStream(b))).toHaveLength(1);

      const again = await aggregates.load(cartAggregate, a); // evicted by b: read again
      expect(recording.readsOf(cartStream(a))).toHaveLength(2);
      expect(again).not.toBe(first);
      expect(again.state).toEqual(first.state);
    });

    it('evicts the least recently used, not the oldest inserted', async () => {
      const [a, b, c] = (await seedCarts(3)) as [string, string, string];
      const { aggregates, recording } = freshReader({ cacheSize: 2 });

      await aggregates.load(cartAggregate, a);
      await aggregates.load(cartAggregate, b);
      await aggregates.load(cartAggregate, a); // a is now the most recently used
      await aggregates.load(cartAggregate, c); // evicts b
      expect(recording.readsOf(cartStream(a))).toHaveLength(1);

      await aggregates.load(cartAggregate, a);
      expect(recording.readsOf(cartStream(a))).toHaveLength(1);
      await aggregates.load(cartAggregate, b);
      expect(recording.readsOf(cartStream(b))).toHaveLength(2);
    });

    it('with cacheSize 0 every load reads the store', async () => {
      const [a] = (await seedCarts(1)) as [string];
      const { aggregates, recording } = freshReader({ cacheSize: 0 });
      await aggregates.load(cartAggregate, a);
      await aggregates.load(cartAggregate, a);
      expect(recording.readsOf(cartStream(a))).toHaveLength(2);
    });

    it('never keeps an aggregate that does not exist: one created behind its back is seen at the next load', async () => {
      const cartId = randomUUID();
      const aggregates = new AggregateStore(events, { ...OPTIONS, cacheSize: 10 });
      expect((await aggregates.load(cartAggregate, cartId)).revision).toBe('no_stream');
      // Another writer (a process manager, another instance) creates it without this store.
      await events.append(cartStream(cartId), [toAppend(cartHistory(cartId, 1)[0]!)], 'no_stream');
      const seen = await aggregates.load(cartAggregate, cartId);
      expect(seen.revision).toBe(0n);
      expect(seen.state.customerId).toBe('customer-42');
    });
  });
});
