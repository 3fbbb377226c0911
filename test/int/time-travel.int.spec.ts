import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { auditedOrder } from '../../src/audit/application/audited-aggregates.js';
import { TimeTravel, type AuditedStreamRef } from '../../src/audit/application/time-travel.js';
import { cartAggregate } from '../../src/carts/cart.aggregate.js';
import type { CartEvent } from '../../src/carts/domain/cart.events.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';
import { orderAggregate } from '../../src/orders/order.aggregate.js';
import { AggregateStore, type AggregateStoreOptions } from '../../src/write-path/aggregate-store.js';
import type { AggregateType, LoadedAggregate } from '../../src/write-path/aggregate-type.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PointNotFoundError } from '../../src/shared/application/errors.js';
import type { DomainEvent } from '../../src/shared/domain/index.js';
import { DelegatingEventStore } from '../support/delegating-event-store.js';
import { cartHistory, orderHistory, stepsArb } from '../support/generated-history.js';

/** Counts readStream calls and the events they return. */
class CountingEventStore extends DelegatingEventStore {
  calls = 0;
  eventsRead = 0;
  override async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const events = await this.inner.readStream(streamId, options);
    this.calls++;
    this.eventsRead += events.length;
    return events;
  }
}

function options(overrides: Partial<AggregateStoreOptions> = {}): AggregateStoreOptions {
  return { snapshotEvery: 5, snapshotsKept: 0, idempotencyKeysPerStream: 20, cacheSize: 0, ...overrides };
}

/**
 * Writes `events` through AggregateStore.append in chunks (each chunk one command's worth), the way the
 * write side does, so snapshots are written where the real service writes them.
 */
async function writeThrough<S, E extends DomainEvent>(
  store: AggregateStore,
  type: AggregateType<S, E>,
  id: string,
  events: readonly E[],
  chunks: readonly number[],
): Promise<void> {
  let current: LoadedAggregate<S> = await store.load(type, id);
  let next = 0;
  for (let c = 0; next < events.length; c++) {
    const size = Math.max(1, chunks.length === 0 ? 1 : chunks[c % chunks.length]!);
    const batch = events.slice(next, next + size).map((event) => ({
      id: randomUUID(),
      event,
      metadata: { schemaVersion: 1, correlationId: randomUUID() },
    }));
    ({ aggregate: current } = await store.append(type, current, batch));
    next += size;
  }
  await store.flushSnapshots();
}

/** The reference: a fresh fold of the stored events 0..revision, with nothing but the domain's evolve. */
async function freshFold<S, E extends DomainEvent>(
  events: EventStore,
  type: AggregateType<S, E>,
  streamId: string,
  revision: number,
): Promise<S> {
  const stored = await events.readStream(streamId, { limit: revision + 1 });
  return stored.reduce(
    (state, recorded) => type.evolve(state, type.toDomainEvent(recorded)),
    type.initialState,
  );
}

describe('time travel (AggregateStore.loadAt) on the embedded store', () => {
  let dir: string;
  let events: EmbeddedEventStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-time-travel-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
  });
  afterAll(async () => {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives exactly the state a fresh fold to that revision gives, for every revision of generated carts', async () => {
    await fc.assert(
      fc.asyncProperty(
        stepsArb(0, 120),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 8 }),
        async (steps, snapshotEvery, chunks) => {
          const cartId = randomUUID();
          const { events: history, states } = cartHistory(steps, { cartId });
          await writeThrough(
            new AggregateStore(events, options({ snapshotEvery })),
            cartAggregate,
            cartId,
            history,
            chunks,
          );
          const reader = new AggregateStore(events, options({ snapshotEvery }));
          for (let revision = 0; revision < history.length; revision++) {
            const at = await reader.loadAt(cartAggregate, cartId, BigInt(revision));
            const expected = await freshFold(events, cartAggregate, `cart-${cartId}`, revision);
            expect(at?.state).toStrictEqual(expected);
            expect(at?.state).toStrictEqual(states[revision]);
            expect(at?.revision).toBe(BigInt(revision));
            expect(at?.event.revision).toBe(BigInt(revision));
          }
          expect(await reader.loadAt(cartAggregate, cartId, BigInt(history.length))).toBeNull();
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('does so for every revision of generated orders too', async () => {
    await fc.assert(
      fc.asyncProperty(stepsArb(0, 80), fc.integer({ min: 1, max: 6 }), async (steps, snapshotEvery) => {
        const orderId = randomUUID();
        const { events: history } = orderHistory(steps, { orderId });
        await writeThrough(
          new AggregateStore(events, options({ snapshotEvery })),
          orderAggregate,
          orderId,
          history,
          [1],
        );
        const reader = new AggregateStore(events, options({ snapshotEvery }));
        for (let revision = 0; revision < history.length; revision++) {
          const at = await reader.loadAt(orderAggregate, orderId, BigInt(revision));
          expect(at?.state).toStrictEqual(
            await freshFold(events, orderAggregate, `order-${orderId}`, revision),
          );
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('stays exact with unaligned snapshots, snapshots of another state schema and a capped snapshot stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        stepsArb(20, 150),
        fc.array(
          fc.record({
            every: fc.integer({ min: 1, max: 9 }),
            schema: fc.constantFrom(1, 1, 2),
            kept: fc.constantFrom(0, 0, 2),
            length: fc.integer({ min: 1, max: 40 }),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        async (steps, eras) => {
          const cartId = randomUUID();
          const { events: history } = cartHistory(steps, { cartId });
          // Each era writes with its own settings, as after redeploys: another SNAPSHOT_EVERY (unaligned
          // snapshot revisions), another state schema (snapshots the code must ignore), a cap.
          let written = 0;
          for (const [i, era] of eras.entries()) {
            const slice = history.slice(written, i === eras.length - 1 ? undefined : written + era.length);
            if (slice.length === 0) break;
            // A state schema 2 is a state of another shape: trusting one of its snapshots would show.
            const type: AggregateType<CartState, CartEvent> =
              era.schema === 1
                ? cartAggregate
                : {
                    ...cartAggregate,
                    stateSchemaVersion: era.schema,
                    evolve: (state, event) => ({ ...cartAggregate.evolve(state, event), shape: era.schema }),
                  };
            const writer = new AggregateStore(
              events,
              options({ snapshotEvery: era.every, snapshotsKept: era.kept }),
            );
            const current = await writer.load(type, cartId);
            let aggregate = current;
            for (const event of slice) {
              ({ aggregate } = await writer.append(type, aggregate, [
                { id: randomUUID(), event, metadata: { schemaVersion: 1 } },
              ]));
            }
            await writer.flushSnapshots();
            written += slice.length;
          }
          const reader = new AggregateStore(events, options());
          for (let revision = 0; revision < written; revision++) {
            const at = await reader.loadAt(cartAggregate, cartId, BigInt(revision));
            expect(at?.state).toStrictEqual(
              await freshFold(events, cartAggregate, `cart-${cartId}`, revision),
            );
            if (at?.snapshotRevision != null) expect(at.snapshotRevision <= BigInt(revision)).toBe(true);
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);

  it('keeps every snapshot with snapshotsKept 0, lifting a cap an older configuration had set', async () => {
    const cartId = randomUUID();
    const snapshotStream = `cartsnapshot-${cartId}`;
    await events.setStreamMetadata(snapshotStream, { maxCount: 2 });
    const steps = Array.from({ length: 60 }, (_, i) => [i % 50, i % 6, 2] as const);
    const { events: history } = cartHistory(steps, { cartId });
    expect(history.length).toBeGreaterThanOrEqual(40);
    await writeThrough(
      new AggregateStore(events, options({ snapshotEvery: 5, snapshotsKept: 0 })),
      cartAggregate,
      cartId,
      history,
      [1],
    );
    expect(await events.getStreamMetadata(snapshotStream)).toEqual({});
    const snapshots = await events.readStream(snapshotStream);
    expect(snapshots.map((s) => s.data.revision)).toEqual(
      Array.from({ length: Math.floor(history.length / 5) }, (_, k) => String(5 * k + 4)),
    );
  });

  it('reads O(log n) snapshots and at most SNAPSHOT_EVERY events, wherever the revision is', async () => {
    const cartId = randomUUID();
    const every = 10;
    const steps = Array.from({ length: 3000 }, (_, i) => [(i * 37) % 96, i % 10, 1 + (i % 9)] as const);
    const { events: history } = cartHistory(steps, { cartId });
    expect(history.length).toBeGreaterThan(2500);
    await writeThrough(
      new AggregateStore(events, options({ snapshotEvery: every })),
      cartAggregate,
      cartId,
      history,
      [1],
    );
    const counting = new CountingEventStore(events);
    const reader = new AggregateStore(counting, options({ snapshotEvery: every }));
    const snapshots = history.length / every;
    let worstCalls = 0;
    for (const revision of [0, 1, 9, 10, 11, 999, 1234, 2000, history.length - 2, history.length - 1]) {
      counting.calls = 0;
      counting.eventsRead = 0;
      const at = await reader.loadAt(cartAggregate, cartId, BigInt(revision));
      expect(at?.state).toStrictEqual(await freshFold(events, cartAggregate, `cart-${cartId}`, revision));
      expect(at?.snapshotRevision ?? -1n).toBeGreaterThanOrEqual(BigInt(revision - every));
      worstCalls = Math.max(worstCalls, counting.calls);
      // Snapshots probed plus at most `every` events of the stream itself.
      expect(counting.eventsRead).toBeLessThanOrEqual(counting.calls + every);
    }
    expect(worstCalls).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(snapshots)) + 4);
    // Aligned snapshots: interpolation finds them in a couple of probes.
    counting.calls = 0;
    await reader.loadAt(cartAggregate, cartId, 1234n);
    expect(counting.calls).toBeLessThanOrEqual(6);
  }, 60_000);
});

describe('asOf: the last revision recorded at or before an instant', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  let timeTravel: TimeTravel;
  const T0 = Date.parse('2026-05-02T14:03:00.000Z');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-as-of-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    timeTravel = new TimeTravel(new AggregateStore(events, options()), events);
    // Only Date is faked: the store stamps `created` with Date.now(), everything else runs for real.
    jest.useFakeTimers({
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
  });
  afterAll(async () => {
    jest.useRealTimers();
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Appends the generated order history in groups, each group at a chosen instant (several may share one). */
  async function writeAt(groups: readonly { gap: number; size: number }[]): Promise<AuditedStreamRef> {
    const orderId = randomUUID();
    // Placed, paid, then small refunds: a stream as long as the groups need.
    const steps = [[0, 2, 1] as const, ...Array.from({ length: 120 }, () => [50, 2, 1] as const)];
    const { events: history } = orderHistory(steps, { orderId });
    let now = T0;
    let next = 0;
    for (const { gap, size } of groups) {
      if (next >= history.length) break;
      now += gap;
      jest.setSystemTime(now);
      const batch = history.slice(next, next + size).map((event) => ({
        id: randomUUID(),
        type: event.type,
        data: event.data as never,
        metadata: { schemaVersion: 1 },
      }));
      await events.append(`order-${orderId}`, batch, next === 0 ? 'no_stream' : BigInt(next - 1));
      next += batch.length;
    }
    return timeTravel.open(auditedOrder, orderId, { id: 'auditor', roles: ['auditor'] });
  }

  it('matches a linear scan for any instant, with events sharing milliseconds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ gap: fc.constantFrom(0, 0, 1, 2, 5), size: fc.integer({ min: 1, max: 3 }) }), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.array(fc.integer({ min: -3, max: 80 }), { minLength: 1, maxLength: 10 }),
        async (groups, offsets) => {
          const stream = await writeAt(groups);
          const recorded = await events.readStream(stream.streamId);
          for (const offset of offsets) {
            const instant = new Date(T0 + offset);
            let expected: bigint | null = null;
            for (const event of recorded) if (event.created <= instant) expected = event.revision;
            expect(await timeTravel.revisionAsOf(stream, instant)).toBe(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('boundaries: exactly at an event, within a shared millisecond, before the first event, in the future', async () => {
    // Revisions 0-1 at T0, 2-4 at T0+5 (one append), 5 at T0+5 too (another append), 6 at T0+9.
    const stream = await writeAt([
      { gap: 0, size: 2 },
      { gap: 5, size: 3 },
      { gap: 0, size: 1 },
      { gap: 4, size: 1 },
    ]);
    const recorded = await events.readStream(stream.streamId);
    expect(recorded.map((e) => e.created.getTime() - T0)).toEqual([0, 0, 5, 5, 5, 5, 9]);
    const at = (ms: number) => timeTravel.resolve(stream, { asOf: new Date(T0 + ms) });
    expect(await at(0)).toBe(1n); // the last of the events sharing T0
    expect(await at(4)).toBe(1n);
    expect(await at(5)).toBe(5n); // exactly T: every event recorded at T counts, the last one wins
    expect(await at(8)).toBe(5n);
    expect(await at(9)).toBe(6n);
    expect(await at(3_600_000)).toBe(6n); // the future: the current state
    const before = await at(-1).catch((error: unknown) => error);
    expect(before).toBeInstanceOf(PointNotFoundError);
    expect(before).toMatchObject({
      code: 'NOT_FOUND_AT_INSTANT',
      details: { firstEventAt: new Date(T0).toISOString() },
    });
    await expect(timeTravel.resolve(stream, { revision: 7n })).rejects.toMatchObject({
      code: 'REVISION_NOT_FOUND',
      details: { lastRevision: 6 },
    });
    const state = await timeTravel.stateAt(stream, await at(5));
    expect(state).toMatchObject({ revision: 5n, at: new Date(T0 + 5) });
  });

  it('finds the revision in O(log n) single-event reads', async () => {
    const orderId = randomUUID();
    const streamId = `order-${orderId}`;
    // Paid, then 2,100 refunds of one cent (the order's total is 3,500).
    const { events: history } = orderHistory(
      [[0, 2, 1], ...Array.from({ length: 2100 }, () => [50, 2, 1] as const)],
      {
        orderId,
      },
    );
    expect(history.length).toBe(2102);
    for (let i = 0; i < history.length; i++) {
      jest.setSystemTime(T0 + i * 10);
      await events.append(
        streamId,
        [{ id: randomUUID(), type: history[i]!.type, data: history[i]!.data as never, metadata: {} }],
        i === 0 ? 'no_stream' : BigInt(i - 1),
      );
    }
    const counting = new CountingEventStore(events);
    const counted = new TimeTravel(new AggregateStore(counting, options()), counting);
    const stream = await counted.open(auditedOrder, orderId, { id: 'a', roles: ['auditor'] });
    counting.calls = 0;
    expect(await counted.revisionAsOf(stream, new Date(T0 + 12_345))).toBe(1234n);
    expect(counting.calls).toBeLessThanOrEqual(Math.ceil(Math.log2(history.length)) + 2);
  }, 60_000);
});
