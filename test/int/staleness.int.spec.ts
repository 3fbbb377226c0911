import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cartsProjection } from '../../src/carts/read-model/carts.projection.js';
import type {
  DeliveredEvent,
  DeliveryOutcome,
  GroupSubscription,
} from '../../src/event-store/consumer-groups.port.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import type { AnyProjection } from '../../src/read-side/runtime/projection.js';
import { projectionGroup } from '../../src/read-side/runtime/projection-supervisor.js';
import { ReadModelStaleness } from '../../src/read-side/runtime/staleness.js';
import { eventually } from '../support/eventually.js';

/**
 * The definitions of docs/consistency.md#staleness against a real embedded event store and its consumer
 * groups, with a clock the test holds: a document trails by the time since the append of the first event of
 * its stream it does not reflect; a read model, by the time since the append of the oldest matching event its
 * group has not applied — after the checkpoint, or parked.
 */
describe('ReadModelStaleness (embedded event store)', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  let now: number;
  let staleness: ReadModelStaleness;
  let subscription: GroupSubscription | null = null;
  /** A projection of its own per test (its group starts from nothing), over the cart event types. */
  let projection: AnyProjection;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-staleness-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'), { retryBaseMs: 10 });
    now = Date.now() + 60_000;
    staleness = new ReadModelStaleness(events, events.consumerGroups, () => now);
    projection = { ...cartsProjection, name: `carts_${randomUUID().slice(0, 8)}` };
  });
  afterEach(async () => {
    await subscription?.stop();
    subscription = null;
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Appends one event per type, each in an append of its own a few milliseconds after the previous one, so
   * that their append times differ (the store records milliseconds) and each assertion tells them apart.
   */
  async function append(streamId: string, ...types: string[]): Promise<RecordedEvent[]> {
    for (const type of types) {
      await sleep(3);
      const revision = await events.streamRevision(streamId);
      await events.append(streamId, [{ id: randomUUID(), type, data: {}, metadata: {} }], revision);
    }
    const recorded = (await events.readStream(streamId)).slice(-types.length);
    for (let i = 1; i < recorded.length; i++) {
      expect(recorded[i]!.created.getTime()).toBeGreaterThan(recorded[i - 1]!.created.getTime());
    }
    return recorded;
  }

  it('a document: since the append of revision R + 1 of its stream, 0 at its last revision', async () => {
    const [opened, added, removed] = await append(
      `cart-${randomUUID()}`,
      'CartOpened',
      'ItemAdded',
      'ItemRemoved',
    );
    const stream = opened!.streamId;
    expect(await staleness.ofDocument(stream, 2n)).toBe(0);
    expect(await staleness.ofDocument(stream, 1n)).toBe(now - removed!.created.getTime());
    // The first one missing counts, not the later ones (appended after it: less stale).
    expect(await staleness.ofDocument(stream, 0n)).toBe(now - added!.created.getTime());
    expect(await staleness.ofDocument(stream, 0n)).toBeGreaterThan(now - removed!.created.getTime());
    // A clock behind the store's: 0, never negative.
    now = 0;
    expect(await staleness.ofDocument(stream, 0n)).toBe(0);
  });

  it('a read model: since the oldest matching event its group has not applied; other types do not count', async () => {
    // An order event first: not the carts projection's.
    await append(`order-${randomUUID()}`, 'OrderPlaced');
    const [first] = await append(`cart-${randomUUID()}`, 'CartOpened', 'ItemAdded');
    await append(`cart-${randomUUID()}`, 'CartOpened');
    // The group has settled nothing yet: everything of its types is missing, the oldest first.
    expect(await staleness.ofProjection(projection)).toBe(now - first!.created.getTime());

    subscription = events.consumerGroups.subscribeToGroup(
      { group: projectionGroup(projection), eventTypes: projection.eventTypes, maxRetries: 0, batchSize: 10 },
      async (batch) => batch.map((): DeliveryOutcome => ({ action: 'ack' })),
    );
    const caughtUp = await eventually(
      () => staleness.ofProjection(projection),
      (ms) => ms === 0,
    );
    expect(caughtUp).toBe(0);
    // A new event is missing until the group applies it.
    await subscription.stop();
    subscription = null;
    const [late] = await append(`cart-${randomUUID()}`, 'CartOpened');
    expect(await staleness.ofProjection(projection)).toBe(now - late!.created.getTime());
  });

  it('a parked event is not applied: the read model trails since its append until it is replayed', async () => {
    const [poison] = await append(`cart-${randomUUID()}`, 'CartOpened');
    await append(`cart-${randomUUID()}`, 'CartOpened', 'ItemAdded');
    let broken = true;
    const handle = async (batch: readonly DeliveredEvent[]): Promise<DeliveryOutcome[]> =>
      batch.map(({ event }) =>
        broken && event.id === poison!.id ? { action: 'park', reason: 'poison' } : { action: 'ack' },
      );
    const group = projectionGroup(projection);
    subscription = events.consumerGroups.subscribeToGroup(
      { group, eventTypes: projection.eventTypes, maxRetries: 0, batchSize: 10 },
      handle,
    );
    const head = await events.headPosition();
    await eventually(
      () => events.consumerGroups.groupInfo(group),
      (info) => info.checkpoint === head && info.parkedCount === 1,
    );
    // Everything after it is applied, the checkpoint passed it: the parked event alone makes it stale.
    expect(await staleness.ofProjection(projection)).toBe(now - poison!.created.getTime());

    broken = false;
    await events.consumerGroups.replayParked(group);
    expect(
      await eventually(
        () => staleness.ofProjection(projection),
        (ms) => ms === 0,
      ),
    ).toBe(0);
  });
});
