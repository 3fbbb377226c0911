import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PersistentSubscriptionToAllResolvedEvent, ResolvedEvent } from '@eventstore/db-client';
import {
  EsdbGroupSubscription,
  bufferSizeFor,
  type GroupConnection,
  type GroupConnector,
} from '../../src/event-store/esdb/esdb-group-subscription.js';
import { MicroBatcher } from '../../src/event-store/esdb/esdb-micro-batcher.js';
import {
  backoffMs,
  parkReason,
  parseParkedReason,
  planSettlement,
} from '../../src/event-store/esdb/esdb-settlement.js';
import { outcomesOf } from '../../src/event-store/consumer-group-rules.js';
import { eventTypeRegex } from '../../src/event-store/esdb/esdb-mapping.js';
import type {
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryOutcome,
} from '../../src/event-store/consumer-groups.port.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import type { GroupProgress } from '../../src/event-store/esdb/esdb-group-recovery.js';

/** The EventStoreDB consumer-group logic without a server: a fake connector stands in for the client. */

async function until(assertion: () => void, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await sleep(5);
    }
  }
}

function resolved(
  n: number,
  retryCount = 0,
  options: { withPosition?: boolean; link?: boolean; missing?: boolean } = {},
): PersistentSubscriptionToAllResolvedEvent {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  // As the server sends a persistent subscription's records: both carry the position the group read the
  // record at — for a replayed parked event (a resolved link) the link's, on the event too. Client 6.2.1
  // always fills `position` (with 0 when the server sent none).
  const readAt = options.link ? 99_000n : BigInt(1000 + n);
  const event = {
    streamId: `cart-${n % 3}`,
    id,
    revision: BigInt(n),
    type: 'ItemAdded',
    created: new Date(1_700_000_000_000 + n),
    data: { n },
    metadata: { correlationId: `c-${n}` },
    isJson: true,
    position:
      options.withPosition === false ? { commit: 0n, prepare: 0n } : { commit: readAt, prepare: readAt },
  };
  const link = options.link
    ? {
        streamId: '$persistentsubscription-$all::g-parked',
        id: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        revision: 7n,
        type: '$>',
        created: new Date(),
        data: new Uint8Array(),
        metadata: undefined,
        isJson: false,
        position: { commit: readAt, prepare: readAt },
      }
    : undefined;
  return {
    retryCount,
    commitPosition: readAt,
    ...(options.missing ? {} : { event }),
    ...(link ? { link } : {}),
  } as unknown as PersistentSubscriptionToAllResolvedEvent;
}

/** As the client does for ack/nack (PersistentSubscriptionImpl): the link's id when there is a link. */
const idOf = (r: ResolvedEvent): string => r.link?.id ?? r.event?.id ?? '?';

class FakeConnection extends EventEmitter implements GroupConnection {
  readonly acks: string[][] = [];
  readonly nacks: { action: string; reason: string; ids: string[]; at: number }[] = [];
  unsubscribed = false;

  async ack(...events: ResolvedEvent[]): Promise<void> {
    this.acks.push(events.map(idOf));
  }

  async nack(action: string, reason: string, ...events: ResolvedEvent[]): Promise<void> {
    this.nacks.push({ action, reason, ids: events.map(idOf), at: Date.now() });
  }

  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
  }

  deliver(...events: PersistentSubscriptionToAllResolvedEvent[]): void {
    for (const event of events) this.emit('data', event);
  }

  get acked(): string[] {
    return this.acks.flat();
  }
}

class FakeConnector implements GroupConnector {
  readonly connections: FakeConnection[] = [];
  readonly connectCalls: { group: string; bufferSize: number }[] = [];
  readonly closed: FakeConnection[] = [];
  ensureCalls = 0;
  failEnsure = 0;
  readonly positionLookups: [string, bigint][] = [];
  /** What progress() answers (null: no such group), the settled mark, and what readMatching finds. */
  groupProgress: GroupProgress | null = null;
  mark: bigint | null = null;
  readonly marks: bigint[] = [];
  matching: RecordedEvent[] = [];
  readonly reads: { after: bigint; limit: number }[] = [];

  async ensureGroup(settings: ConsumerGroupSettings): Promise<string> {
    this.ensureCalls += 1;
    if (this.failEnsure > 0) {
      this.failEnsure -= 1;
      throw new Error('UNAVAILABLE: no connection');
    }
    return settings.group;
  }

  connect(group: string, bufferSize: number): GroupConnection {
    this.connectCalls.push({ group, bufferSize });
    const connection = new FakeConnection();
    this.connections.push(connection);
    return connection;
  }

  async close(connection: GroupConnection): Promise<void> {
    this.closed.push(connection as FakeConnection);
    await connection.unsubscribe();
  }

  async positionOf(streamId: string, revision: bigint): Promise<bigint | null> {
    this.positionLookups.push([streamId, revision]);
    return 1000n + revision;
  }

  async progress(): Promise<GroupProgress | null> {
    return this.groupProgress;
  }

  async settledMark(): Promise<bigint | null> {
    return this.mark;
  }

  async raiseSettledMark(_group: string, mark: bigint): Promise<void> {
    if (this.mark !== null && this.mark >= mark) return;
    this.mark = mark;
    this.marks.push(mark);
  }

  async readMatching(after: bigint, _types: readonly string[], limit: number): Promise<RecordedEvent[]> {
    this.reads.push({ after, limit });
    return this.matching.filter((e) => e.position > after).slice(0, limit);
  }

  get current(): FakeConnection {
    const last = this.connections[this.connections.length - 1];
    if (!last) throw new Error('not connected');
    return last;
  }
}

const settings = (overrides: Partial<ConsumerGroupSettings> = {}): ConsumerGroupSettings => ({
  group: 'orders-view',
  eventTypes: ['ItemAdded'],
  maxRetries: 2,
  batchSize: 2,
  ...overrides,
});

describe('EventStoreDB consumer groups: pure helpers', () => {
  it('backoff doubles from the base and is capped', () => {
    const backoff = { baseMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 5, 60].map((attempt) => backoffMs(attempt, backoff))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
    expect(backoffMs(-1, backoff)).toBe(100);
  });

  it('keeps twice a batch in flight per connection, within bounds', () => {
    expect(bufferSizeFor(1)).toBe(10);
    expect(bufferSizeFor(50)).toBe(100);
    expect(bufferSizeFor(500)).toBe(1_000);
    expect(bufferSizeFor(5_000)).toBe(2_000);
  });

  it('parked reasons carry the retry count through the server and back', () => {
    const sent = parkReason('projection failed: E11000\nsecond line', 3);
    // What the server records for nack(PARK, reason).
    expect(parseParkedReason(`Client explicitly NAK'ed message.\n${sent}`)).toEqual({
      reason: 'projection failed: E11000\nsecond line',
      retryCount: 3,
    });
    // The server's own reasons: max retries (timeouts, dropped connections) and anything else.
    expect(parseParkedReason('Reached retry count of 10')).toEqual({
      reason: 'Reached retry count of 10',
      retryCount: 10,
    });
    expect(parseParkedReason('Max retry count reached: 4')).toMatchObject({ retryCount: 4 });
    expect(parseParkedReason('something else')).toEqual({ reason: 'something else', retryCount: 0 });
  });

  it('maps outcomes onto ack, park and delayed retry, parking a retry that has no retries left', () => {
    const items = [0, 1, 2, 3, 4, 5].map((n) => ({
      token: `e${n}`,
      retryCount: n === 3 ? 2 : n === 4 ? 1 : 0,
    }));
    const outcomes: DeliveryOutcome[] = [
      { action: 'ack' },
      { action: 'retry', reason: 'busy' },
      { action: 'park', reason: 'bad' },
      { action: 'retry', reason: 'busy' }, // third retry with maxRetries 2: parked
      { action: 'retry', reason: 'busy' },
      { action: 'retry', reason: 'busy' },
    ];
    const plan = planSettlement(items, outcomes, 2, { baseMs: 100, maxMs: 10_000 });
    expect(plan.ack).toEqual(['e0']);
    expect(plan.park).toEqual([
      { reason: parkReason('bad', 0), events: ['e2'] },
      { reason: parkReason('busy', 2), events: ['e3'] },
    ]);
    expect(plan.retry).toEqual([
      { reason: 'busy', delayMs: 100, events: ['e1', 'e5'] },
      { reason: 'busy', delayMs: 200, events: ['e4'] },
    ]);
    // maxRetries 0: the first retry parks.
    expect(
      planSettlement([{ token: 'x', retryCount: 0 }], [{ action: 'retry', reason: 'r' }], 0, {
        baseMs: 1,
        maxMs: 1,
      }).park,
    ).toEqual([{ reason: parkReason('r', 0), events: ['x'] }]);
  });

  it('builds an exact, escaped event-type filter', () => {
    const regex = new RegExp(eventTypeRegex(['ItemAdded', 'Order.Paid', 'a+b', 'ItemAdded']));
    expect(regex.source).toBe('^(?:ItemAdded|Order\\.Paid|a\\+b)$');
    expect(regex.test('ItemAdded')).toBe(true);
    expect(regex.test('Order.Paid')).toBe(true);
    expect(regex.test('OrderxPaid')).toBe(false);
    expect(regex.test('ItemAddedLater')).toBe(false);
    expect(regex.test('$>')).toBe(false);
  });

  it('a handler that throws or miscounts gets the whole batch retried', async () => {
    const batch = [1, 2].map((n) => ({
      retryCount: 0,
      event: { id: `e${n}` },
    })) as unknown as DeliveredEvent[];
    expect(
      await outcomesOf(async () => {
        throw new Error('db down');
      }, batch),
    ).toEqual([
      { action: 'retry', reason: 'the handler failed: db down' },
      { action: 'retry', reason: 'the handler failed: db down' },
    ]);
    expect(await outcomesOf(async () => [{ action: 'ack' }], batch)).toEqual([
      { action: 'retry', reason: 'the handler answered 1 outcomes for 2 events' },
      { action: 'retry', reason: 'the handler answered 1 outcomes for 2 events' },
    ]);
  });
});

describe('MicroBatcher', () => {
  it('batches what arrives in one turn, up to the maximum, one batch at a time', async () => {
    const batches: number[][] = [];
    let active = 0;
    let maxActive = 0;
    const batcher = new MicroBatcher<number>(3, async (batch) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      batches.push(batch);
      await sleep(5);
      active -= 1;
    });
    for (let n = 0; n < 7; n++) batcher.push(n);
    await until(() => expect(batches.flat()).toHaveLength(7));
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(maxActive).toBe(1);
  });

  it('close() waits for the batch in flight and drops what is queued', async () => {
    let release!: () => void;
    const handled: number[][] = [];
    const batcher = new MicroBatcher<number>(1, async (batch) => {
      handled.push(batch);
      await new Promise<void>((resolve) => (release = resolve));
    });
    batcher.push(1);
    batcher.push(2);
    await until(() => expect(handled).toEqual([[1]]));
    let closed = false;
    const closing = batcher.close().then(() => (closed = true));
    await sleep(10);
    expect(closed).toBe(false);
    release();
    await closing;
    batcher.push(3);
    await sleep(10);
    expect(handled).toEqual([[1]]);
  });
});

describe('EsdbGroupSubscription (fake server)', () => {
  const fast = { retryBackoff: { baseMs: 20, maxMs: 200 }, reconnectBackoff: { baseMs: 10, maxMs: 40 } };
  const running: EsdbGroupSubscription[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  function start(
    connector: FakeConnector,
    handler: (batch: readonly DeliveredEvent[]) => Promise<readonly DeliveryOutcome[]>,
    overrides: Partial<ConsumerGroupSettings> = {},
    errors: unknown[] = [],
  ): EsdbGroupSubscription {
    const subscription = new EsdbGroupSubscription(connector, settings(overrides), handler, {
      ...fast,
      onError: (_group, error) => errors.push(error),
    }).start();
    running.push(subscription);
    return subscription;
  }
  const ackAll = async (batch: readonly DeliveredEvent[]): Promise<DeliveryOutcome[]> =>
    batch.map(() => ({ action: 'ack' }));

  it('creates the group, connects with a buffer for two batches, and acks micro-batches of at most batchSize', async () => {
    const connector = new FakeConnector();
    const batches: DeliveredEvent[][] = [];
    start(connector, async (batch) => {
      batches.push([...batch]);
      return ackAll(batch);
    });
    await until(() => expect(connector.connections).toHaveLength(1));
    expect(connector.ensureCalls).toBe(1);
    expect(connector.connectCalls).toEqual([{ group: 'orders-view', bufferSize: 10 }]);

    connector.current.deliver(...[0, 1, 2, 3, 4].map((n) => resolved(n)));
    await until(() => expect(connector.current.acked).toHaveLength(5));
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    const first = batches[0]![0]!;
    expect(first.retryCount).toBe(0);
    expect(first.event).toStrictEqual({
      streamId: 'cart-0',
      id: '00000000-0000-4000-8000-000000000000',
      revision: 0n,
      type: 'ItemAdded',
      created: new Date(1_700_000_000_000),
      data: { n: 0 },
      metadata: { correlationId: 'c-0' },
      position: 1000n,
    });
  });

  it('retries after the backoff, parks at once, and parks a retry that has no retries left', async () => {
    const connector = new FakeConnector();
    start(
      connector,
      async (batch) =>
        batch.map((d): DeliveryOutcome => {
          const n = d.event.data['n'];
          if (n === 0) return { action: 'retry', reason: 'not yet' };
          if (n === 1) return { action: 'park', reason: 'bad data' };
          return { action: 'retry', reason: 'still failing' };
        }),
      { batchSize: 10 },
    );
    await until(() => expect(connector.connections).toHaveLength(1));
    const handedAt = Date.now();
    connector.current.deliver(resolved(0, 1), resolved(1), resolved(2, 2));

    await until(() => expect(connector.current.nacks).toHaveLength(3));
    const [park, parkAtLimit, retry] = connector.current.nacks;
    expect(park).toMatchObject({ action: 'park', reason: parkReason('bad data', 0) });
    expect(parkAtLimit).toMatchObject({ action: 'park', reason: parkReason('still failing', 2) });
    // Retry count 1 → 20 ms × 2.
    expect(retry).toMatchObject({ action: 'retry', reason: 'not yet', ids: [resolved(0).event!.id] });
    expect(retry!.at - handedAt).toBeGreaterThanOrEqual(35);
    expect(connector.current.acks).toEqual([]);
  });

  it('a handler that throws gets its batch retried', async () => {
    const connector = new FakeConnector();
    start(connector, async () => {
      throw new Error('read store down');
    });
    await until(() => expect(connector.connections).toHaveLength(1));
    connector.current.deliver(resolved(0), resolved(1));
    await until(() => expect(connector.current.nacks).toHaveLength(1));
    expect(connector.current.nacks[0]).toMatchObject({
      action: 'retry',
      reason: 'the handler failed: read store down',
      ids: [resolved(0).event!.id, resolved(1).event!.id],
    });
  });

  it('resubscribes with backoff after an error or an end, and drops what the dead connection had queued', async () => {
    const connector = new FakeConnector();
    connector.failEnsure = 2;
    const errors: unknown[] = [];
    const seen: string[] = [];
    const subscription = start(
      connector,
      async (batch) => {
        seen.push(...batch.map((d) => d.event.id));
        return ackAll(batch);
      },
      {},
      errors,
    );
    // Two failed attempts (10 ms, then 20 ms), then connected.
    await until(() => expect(connector.connections).toHaveLength(1));
    expect(connector.ensureCalls).toBe(3);
    expect(errors).toHaveLength(2);

    const first = connector.current;
    first.deliver(resolved(0));
    first.emit('error', new Error('14 UNAVAILABLE'));
    first.emit('close');
    await until(() => expect(connector.connections).toHaveLength(2));
    expect(first.unsubscribed).toBe(true);
    expect(seen).toEqual([]);

    // The server delivers it again on the new connection.
    connector.current.emit('confirmation');
    connector.current.deliver(resolved(0, 1));
    await until(() => expect(connector.current.acked).toEqual([resolved(0).event!.id]));
    expect(seen).toEqual([resolved(0).event!.id]);

    connector.current.emit('end');
    await until(() => expect(connector.connections).toHaveLength(3));
    expect(subscription.connects).toBe(3);
  });

  it('stop() settles the batch in flight, sends waiting retries at once, unsubscribes, and stays stopped', async () => {
    const connector = new FakeConnector();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const subscription = start(
      connector,
      async (batch) => {
        await gate;
        return batch.map((d): DeliveryOutcome =>
          d.event.data['n'] === 0 ? { action: 'ack' } : { action: 'retry', reason: 'later' },
        );
      },
      { batchSize: 10 },
    );
    await until(() => expect(connector.connections).toHaveLength(1));
    const connection = connector.current;
    connection.deliver(resolved(0), resolved(1, 1));
    await sleep(10);

    let stopped = false;
    const stopping = subscription.stop().then(() => (stopped = true));
    await sleep(10);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(connection.acked).toEqual([resolved(0).event!.id]);
    // The retry had a 40 ms backoff to go: sent at stop instead.
    expect(connection.nacks).toMatchObject([{ action: 'retry', ids: [resolved(1).event!.id] }]);
    expect(connection.unsubscribed).toBe(true);

    connection.emit('end');
    await sleep(60);
    expect(connector.connections).toHaveLength(1);
  });

  it('looks up the position of a replayed parked event, and parks an event that cannot be read', async () => {
    const connector = new FakeConnector();
    const seen: DeliveredEvent[] = [];
    start(connector, async (batch) => {
      seen.push(...batch);
      return ackAll(batch);
    });
    await until(() => expect(connector.connections).toHaveLength(1));
    // The event carries the link's position (99000), as the server sends it: never taken as the event's.
    const replayed = resolved(4, 0, { link: true });
    connector.current.deliver(replayed, resolved(5, 0, { missing: true, link: true }));

    await until(() => expect(seen).toHaveLength(1));
    expect(seen[0]!.event.position).toBe(1004n);
    expect(connector.positionLookups).toEqual([['cart-1', 4n]]);
    await until(() => expect(connector.current.nacks).toHaveLength(1));
    expect(connector.current.nacks[0]).toMatchObject({
      action: 'park',
      reason: parkReason('the event no longer exists (unresolved link)', 0),
    });
    // Acked by the link's id: that is what the server tracks for a replayed event.
    expect(connector.current.acked).toEqual([replayed.link!.id]);
  });

  it('counts deliveries itself: a dropped connection does not make an event look retried', async () => {
    const connector = new FakeConnector();
    const seen: DeliveredEvent[] = [];
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    start(
      connector,
      async (batch) => {
        seen.push(...batch);
        await gate;
        return ackAll(batch);
      },
      { batchSize: 1 },
    );
    await until(() => expect(connector.connections).toHaveLength(1));
    const first = connector.current;
    // 0 goes to the handler, 1 waits in the queue; then the connection drops.
    first.deliver(resolved(0), resolved(1));
    await until(() => expect(seen).toHaveLength(1));
    first.emit('error', new Error('14 UNAVAILABLE'));
    await until(() => expect(connector.connections).toHaveLength(2));
    release();
    gate = Promise.resolve();
    // The server adds one to both (the disconnect); only 0 was ever handed to the handler.
    connector.current.deliver(resolved(0, 1), resolved(1, 1));
    await until(() => expect(seen).toHaveLength(3));
    expect(seen.map((d) => [d.event.data['n'], d.retryCount])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
    ]);
    // An event this process never saw keeps the server's count.
    connector.current.deliver(resolved(2, 3));
    await until(() => expect(seen).toHaveLength(4));
    expect(seen[3]!.retryCount).toBe(3);
  });

  it('stop() ends its connection through the connector, after the last acks', async () => {
    const connector = new FakeConnector();
    const subscription = start(connector, ackAll);
    await until(() => expect(connector.connections).toHaveLength(1));
    connector.current.deliver(resolved(0));
    await until(() => expect(connector.current.acked).toHaveLength(1));
    await subscription.stop();
    expect(connector.closed).toEqual([connector.current]);
    expect(connector.current.unsubscribed).toBe(true);
  });
});

describe('GroupRecovery (fake server): the checkpoint is approximate', () => {
  const fast = { retryBackoff: { baseMs: 5, maxMs: 20 }, reconnectBackoff: { baseMs: 10, maxMs: 40 } };
  const running: EsdbGroupSubscription[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  const recorded = (n: number, position: bigint): RecordedEvent => ({
    streamId: `cart-${n}`,
    id: `20000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: 'ItemAdded',
    revision: 0n,
    position,
    created: new Date(0),
    data: { n },
    metadata: {},
  });
  const progress = (checkpoint: bigint | null, drained = false): GroupProgress => ({
    checkpoint,
    drained,
    subscribers: 1,
  });
  function subscribe(
    connector: FakeConnector,
    seen: DeliveredEvent[],
    decide: (d: DeliveredEvent) => DeliveryOutcome = () => ({ action: 'ack' }),
    errors: unknown[] = [],
  ): EsdbGroupSubscription {
    const subscription = new EsdbGroupSubscription(
      connector,
      settings({ batchSize: 2 }),
      async (batch) => {
        seen.push(...batch);
        return batch.map(decide);
      },
      { ...fast, settledPollMs: 20, onError: (_group, error) => errors.push(error) },
    ).start();
    running.push(subscription);
    return subscription;
  }

  it('after each connection, re-reads what lies between the settled mark and the checkpoint, then moves the mark', async () => {
    const connector = new FakeConnector();
    connector.mark = 100n;
    // The server's checkpoint may have passed events it never delivered (a reload lost its buffer).
    connector.groupProgress = progress(300n);
    connector.matching = [
      recorded(1, 90n),
      recorded(2, 150n),
      recorded(3, 200n),
      recorded(4, 260n),
      recorded(5, 310n),
    ];
    const seen: DeliveredEvent[] = [];
    subscribe(connector, seen);
    await until(() => expect(connector.connections).toHaveLength(1));
    connector.current.emit('confirmation');

    await until(() => expect(connector.marks).toEqual([300n]));
    expect(seen.map((d) => d.event.position)).toEqual([150n, 200n, 260n]);
    expect(seen.every((d) => d.retryCount === 0)).toBe(true);
    expect(connector.reads[0]).toEqual({ after: 100n, limit: 2 });
  });

  it('moves the mark only while the group is drained (then its checkpoint is exact)', async () => {
    const connector = new FakeConnector();
    connector.mark = 300n;
    connector.groupProgress = progress(300n);
    const seen: DeliveredEvent[] = [];
    subscribe(connector, seen);
    await until(() => expect(connector.connections).toHaveLength(1));
    connector.current.emit('confirmation');
    await sleep(50); // the reconciliation at connect found nothing to re-read
    connector.groupProgress = progress(350n);
    await sleep(80);
    expect(seen).toEqual([]);
    expect(connector.marks).toEqual([]);

    connector.groupProgress = progress(420n, true);
    await until(() => expect(connector.marks).toEqual([420n]));
  });

  it('a stopping subscriber waits for its group to checkpoint what it settled, and marks it', async () => {
    const connector = new FakeConnector();
    connector.mark = -1n;
    const seen: DeliveredEvent[] = [];
    const subscription = subscribe(connector, seen);
    await until(() => expect(connector.connections).toHaveLength(1));
    connector.current.deliver(resolved(0), resolved(1));
    await until(() => expect(connector.current.acked).toHaveLength(2));
    // Drained, but the server has not checkpointed event 1 (position 1001) yet: the mark waits for it.
    connector.groupProgress = progress(1000n, true);
    const stopping = subscription.stop();
    await sleep(300);
    expect(connector.marks).toEqual([]);
    connector.groupProgress = progress(1001n, true);
    await stopping;
    expect(connector.marks).toEqual([1001n]);
  });

  it('retries a recovered event the handler refuses, then reports it (it cannot be parked from outside)', async () => {
    const connector = new FakeConnector();
    connector.mark = -1n;
    connector.groupProgress = progress(10n);
    connector.matching = [recorded(1, 5n)];
    const seen: DeliveredEvent[] = [];
    const errors: unknown[] = [];
    subscribe(connector, seen, () => ({ action: 'retry', reason: 'not yet' }), errors);
    await until(() => expect(connector.connections).toHaveLength(1));
    connector.current.emit('confirmation');
    await until(() => expect(connector.marks).toEqual([10n]));
    // maxRetries 2: delivered three times, then reported.
    expect(seen.map((d) => d.retryCount)).toEqual([0, 1, 2]);
    expect(String(errors[0])).toMatch(/cannot be parked from outside the group: not yet/);
  });
});
