import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import {
  EmbeddedEventStore,
  type EmbeddedEventStoreOptions,
} from '../../src/event-store/embedded/embedded-event-store.js';
import type { DeliveredEvent, GroupSubscription } from '../../src/event-store/consumer-groups.port.js';
import { EventStoreUnavailableError } from '../../src/event-store/event-store.port.js';
import {
  RecordingConsumer,
  describeConsumerGroupContract,
  eventually,
  uniqueGroup,
  uniqueTypes,
} from './consumer-groups.contract.js';
import { newEvent, uniqueStreamId } from './event-store.contract.js';

describeConsumerGroupContract('embedded SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-groups-contract-'));
  const store = new EmbeddedEventStore(join(dir, 'events.sqlite'));
  return {
    groups: store.consumerGroups,
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('EmbeddedConsumerGroups (SQLite file specifics)', () => {
  let dir: string;
  let file: string;
  const open: EmbeddedEventStore[] = [];
  const subscriptions: GroupSubscription[] = [];
  const openStore = (options?: EmbeddedEventStoreOptions): EmbeddedEventStore => {
    const store = new EmbeddedEventStore(file, options);
    open.push(store);
    return store;
  };
  const until = <T>(assertion: () => T | Promise<T>): Promise<T> => eventually(assertion, 5_000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-groups-'));
    file = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps pending retries, parked events and the checkpoint across close and reopen', async () => {
    const t = uniqueTypes('Durable');
    const group = uniqueGroup();
    const first = openStore({ retryBaseMs: 300 });
    const streamId = uniqueStreamId();
    await first.append(
      streamId,
      [newEvent(t.Durable, { n: 0 }), newEvent(t.Durable, { n: 1 }), newEvent(t.Durable, { n: 2 })],
      'no_stream',
    );
    const [retried, parked, acked] = await first.readStream(streamId);
    const consumer = new RecordingConsumer();
    consumer.decide = (d) =>
      d.event.id === retried!.id
        ? { action: 'retry', reason: 'read store down' }
        : d.event.id === parked!.id
          ? { action: 'park', reason: 'bad data' }
          : { action: 'ack' };
    const subscription = first.consumerGroups.subscribeToGroup(
      { group, eventTypes: [t.Durable], maxRetries: 5, batchSize: 10 },
      consumer.handler,
    );
    await until(() => consumer.expectDelivered([retried!.id, parked!.id, acked!.id]));
    // stop() resolves after the batch is settled: the retry is pending (due in 300 ms), not yet redelivered.
    await subscription.stop();
    expect(consumer.deliveriesOf(retried!.id)).toHaveLength(1);
    await first.close();

    const second = openStore({ retryBaseMs: 300 });
    expect(await second.consumerGroups.groupInfo(group)).toStrictEqual({
      group,
      checkpoint: acked!.position,
      parkedCount: 1,
      owner: null,
    });
    const [stillParked] = await second.consumerGroups.listParked(group);
    expect(stillParked).toMatchObject({ reason: 'bad data', retryCount: 0 });
    expect(stillParked!.event).toStrictEqual(parked);

    const resumed = new RecordingConsumer();
    subscriptions.push(
      second.consumerGroups.subscribeToGroup(
        { group, eventTypes: [t.Durable], maxRetries: 5, batchSize: 10 },
        resumed.handler,
      ),
    );
    await until(() => resumed.expectDelivered([retried!.id]));
    expect(resumed.deliveries.map((d) => [d.event.id, d.retryCount])).toEqual([[retried!.id, 1]]);
    expect(resumed.deliveries[0]!.event).toStrictEqual(retried);
  });

  it('does not read the file while idle, and wakes up on an append or on a retry falling due', async () => {
    const store = openStore({ retryBaseMs: 250 });
    const t = uniqueTypes('Quiet');
    const group = uniqueGroup();
    const consumer = new RecordingConsumer();
    subscriptions.push(
      store.consumerGroups.subscribeToGroup(
        { group, eventTypes: [t.Quiet], maxRetries: 3, batchSize: 10 },
        consumer.handler,
      ),
    );
    const [first] = await appendTo(store, [newEvent(t.Quiet)]);
    await until(() => consumer.expectDelivered([first!.id]));

    const idleReads = store.consumerGroups.stats(group)!.reads;
    await sleep(300);
    expect(store.consumerGroups.stats(group)!.reads).toBe(idleReads);

    // An append wakes it at once.
    const [second] = await appendTo(store, [newEvent(t.Quiet)]);
    await until(() => consumer.expectDelivered([second!.id]));
    expect(store.consumerGroups.stats(group)!.reads).toBeGreaterThan(idleReads);

    // A retry due in 250 ms: nothing is read before it is due, then it comes by itself (one timer).
    consumer.decide = (d) => (d.retryCount === 0 ? { action: 'retry', reason: 'later' } : { action: 'ack' });
    const [third] = await appendTo(store, [newEvent(t.Quiet)]);
    await until(() => expect(consumer.deliveriesOf(third!.id)).toHaveLength(1));
    await until(() => expect(store.consumerGroups.stats(group)!.batches).toBe(3));
    const waitingReads = store.consumerGroups.stats(group)!.reads;
    await sleep(150);
    expect(store.consumerGroups.stats(group)!.reads).toBe(waitingReads);
    await until(() => expect(consumer.deliveriesOf(third!.id).map((d) => d.retryCount)).toEqual([0, 1]));
  });

  it('moves the checkpoint past events of other types without calling the handler', async () => {
    const store = openStore();
    const t = uniqueTypes('Wanted', 'Other');
    const group = uniqueGroup();
    let calls = 0;
    subscriptions.push(
      store.consumerGroups.subscribeToGroup(
        { group, eventTypes: [t.Wanted], maxRetries: 3, batchSize: 10 },
        async (batch) => {
          calls += 1;
          return batch.map(() => ({ action: 'ack' }));
        },
      ),
    );
    const others = await appendTo(store, [newEvent(t.Other), newEvent(t.Other), newEvent(t.Other)]);
    await until(async () =>
      expect((await store.consumerGroups.groupInfo(group)).checkpoint).toBe(others[2]!.position),
    );
    expect(calls).toBe(0);
    // Written lazily (no durability needed to skip), but written by the time the group stops.
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await store.close();
    expect((await openStore().consumerGroups.groupInfo(group)).checkpoint).toBe(others[2]!.position);
  });

  it('settles appends in FULL and consumer state in NORMAL, on two connections to one WAL file', async () => {
    const store = openStore();
    const own = (store as unknown as { db: Database.Database }).db;
    const consumers = (store.consumerGroups as unknown as { tables: { db: Database.Database } }).tables.db;
    expect(own.pragma('synchronous', { simple: true })).toBe(2);
    expect(consumers.pragma('synchronous', { simple: true })).toBe(1);
    expect(consumers.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(consumers).not.toBe(own);
  });

  it('close() waits for the batch in flight, settles it, then closes', async () => {
    const t = uniqueTypes('Closing');
    const group = uniqueGroup();
    const store = openStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    store.consumerGroups.subscribeToGroup(
      { group, eventTypes: [t.Closing], maxRetries: 3, batchSize: 10 },
      async (batch) => {
        entered();
        await gate;
        return batch.map(() => ({ action: 'ack' }));
      },
    );
    const [event] = await appendTo(store, [newEvent(t.Closing)]);
    await inHandler;

    let closed = false;
    const closing = store.close().then(() => (closed = true));
    await sleep(50);
    expect(closed).toBe(false);
    expect(() =>
      store.consumerGroups.subscribeToGroup(
        { group: uniqueGroup(), eventTypes: ['X'], maxRetries: 0, batchSize: 1 },
        async () => [],
      ),
    ).toThrow(EventStoreUnavailableError);
    release();
    await closing;
    await expect(store.consumerGroups.groupInfo(group)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.consumerGroups.listParked(group)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailableError);

    const reopened = openStore();
    expect((await reopened.consumerGroups.groupInfo(group)).checkpoint).toBe(event!.position);
  });

  it('several subscribers of one group share its events: each batch goes to one of them', async () => {
    const store = openStore();
    const t = uniqueTypes('Shared');
    const group = uniqueGroup();
    const settings = { group, eventTypes: [t.Shared], maxRetries: 3, batchSize: 2 };
    const a = new RecordingConsumer();
    const b = new RecordingConsumer();
    subscriptions.push(
      store.consumerGroups.subscribeToGroup(settings, a.handler),
      store.consumerGroups.subscribeToGroup(settings, b.handler),
    );
    expect(() => store.consumerGroups.subscribeToGroup({ ...settings, batchSize: 3 }, a.handler)).toThrow(
      /other settings/,
    );

    const events = await appendTo(
      store,
      Array.from({ length: 10 }, (_, n) => newEvent(t.Shared, { n })),
    );
    const ids = events.map((e) => e.id);
    await until(() => expect([...a.deliveredIds(), ...b.deliveredIds()].sort()).toEqual([...ids].sort()));
    expect(a.batches.length).toBeGreaterThan(0);
    expect(b.batches.length).toBeGreaterThan(0);
    expect(a.deliveredIds().filter((id) => b.deliveredIds().includes(id))).toEqual([]);

    // The last subscriber out stops the loop; a new one resumes from the checkpoint.
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    expect(store.consumerGroups.stats(group)).toBeNull();
    const c = new RecordingConsumer();
    subscriptions.push(store.consumerGroups.subscribeToGroup(settings, c.handler));
    const [later] = await appendTo(store, [newEvent(t.Shared)]);
    await until(() => c.expectDelivered([later!.id]));
    expect(c.deliveredIds()).toEqual([later!.id]);
  });

  it('runs many groups side by side (one append listener each, no listener limit)', async () => {
    const store = openStore();
    const t = uniqueTypes('Fanout');
    const consumers = Array.from({ length: 15 }, () => new RecordingConsumer());
    for (const consumer of consumers) {
      subscriptions.push(
        store.consumerGroups.subscribeToGroup(
          { group: uniqueGroup(), eventTypes: [t.Fanout], maxRetries: 1, batchSize: 10 },
          consumer.handler,
        ),
      );
    }
    const [event] = await appendTo(store, [newEvent(t.Fanout)]);
    await until(() => consumers.forEach((consumer) => consumer.expectDelivered([event!.id])));
    // EventEmitter warns (MaxListenersExceededWarning) past its limit, ten by default.
    const emitter = (store as unknown as { emitter: EventEmitter }).emitter;
    expect(emitter.listenerCount('appended')).toBe(15);
    expect(emitter.getMaxListeners()).toBe(0);
  });

  it('names this process (its instance id) as the owner of a group while a subscriber runs here', async () => {
    const store = openStore({ instanceId: 'embedded-here' });
    const t = uniqueTypes('Owned');
    const group = uniqueGroup();
    expect((await store.consumerGroups.groupInfo(group)).owner).toBeNull();
    const subscription = store.consumerGroups.subscribeToGroup(
      { group, eventTypes: [t.Owned], maxRetries: 1, batchSize: 10 },
      async (batch) => batch.map(() => ({ action: 'ack' })),
    );
    expect((await store.consumerGroups.groupInfo(group)).owner).toBe('embedded-here');
    await subscription.stop();
    expect((await store.consumerGroups.groupInfo(group)).owner).toBeNull();
  });

  it('refuses invalid settings at once', () => {
    const store = openStore();
    const handler = async (batch: readonly DeliveredEvent[]) => batch.map(() => ({ action: 'ack' as const }));
    const base = { group: uniqueGroup(), eventTypes: ['A'], maxRetries: 1, batchSize: 1 };
    expect(() => store.consumerGroups.subscribeToGroup({ ...base, batchSize: 0 }, handler)).toThrow(
      RangeError,
    );
    expect(() => store.consumerGroups.subscribeToGroup({ ...base, maxRetries: -1 }, handler)).toThrow(
      RangeError,
    );
    expect(() => store.consumerGroups.subscribeToGroup({ ...base, eventTypes: [] }, handler)).toThrow(
      RangeError,
    );
    expect(() => store.consumerGroups.subscribeToGroup({ ...base, group: '' }, handler)).toThrow(RangeError);
  });

  it('a catch-up yields to the event loop between batches: appends are not held up behind it', async () => {
    const store = openStore();
    const t = uniqueTypes('Backlog');
    const total = 5_000;
    for (let chunk = 0; chunk < total / 500; chunk++) {
      await appendTo(
        store,
        Array.from({ length: 500 }, (_, n) => newEvent(t.Backlog, { n: chunk * 500 + n })),
      );
    }
    let delivered = 0;
    subscriptions.push(
      store.consumerGroups.subscribeToGroup(
        { group: uniqueGroup(), eventTypes: [t.Backlog], maxRetries: 3, batchSize: 100 },
        async (batch) => {
          delivered += batch.length;
          return batch.map(() => ({ action: 'ack' }));
        },
      ),
    );
    await appendTo(store, [newEvent('Unrelated')]);
    expect(delivered).toBeLessThan(total);
    await until(() => expect(delivered).toBe(total));
  });

  it('headPosition is -1 for an empty store, then the position of the newest event', async () => {
    const store = openStore();
    expect(await store.headPosition()).toBe(-1n);
    const result = await store.append(uniqueStreamId(), [newEvent(), newEvent()], 'no_stream');
    expect(await store.headPosition()).toBe(result.position);
  });
});

async function appendTo(store: EmbeddedEventStore, events: ReturnType<typeof newEvent>[]) {
  const streamId = uniqueStreamId('groupspec');
  await store.append(streamId, events, 'no_stream');
  return store.readStream(streamId);
}
