import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ConsumerGroups,
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryHandler,
  DeliveryOutcome,
  GroupSubscription,
} from '../../src/event-store/consumer-groups.port.js';
import type { EventStore, EventToAppend, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { appendAtCommit, newEvent, uniqueStreamId, type HeldAppends } from './event-store.contract.js';

/** Consumer groups opened for the contract suite, the same adapter's event store, and how to release both. */
export interface ConsumerGroupsUnderTest {
  readonly groups: ConsumerGroups;
  /** Where the suite appends the events the groups deliver. */
  readonly store: EventStore;
  /** Appends whose transactions the suite can interleave (default: appendAtCommit). */
  readonly heldAppends?: HeldAppends;
  cleanup(): Promise<void>;
}

export interface ConsumerGroupContractOptions {
  /** Per-test timeout (ms). */
  readonly timeoutMs?: number;
  /** How long `eventually` waits for a delivery, a checkpoint or a parked event (ms). */
  readonly waitMs?: number;
  /** How soon an event appended to a live group must be delivered (ms). */
  readonly promptMs?: number;
}

/** A group name nobody else uses, so the suite also runs against a shared EventStoreDB server. */
export function uniqueGroup(): string {
  return `contract-group-${randomUUID()}`;
}

/**
 * Event types of this test only: a new group starts at the very first event of the store, and on a shared
 * server only types nobody else appends keep other tests' events out of it.
 */
export function uniqueTypes<const Names extends readonly string[]>(
  ...names: Names
): { readonly [K in Names[number]]: string } {
  const tag = randomUUID().slice(0, 8);
  return Object.fromEntries(names.map((name) => [name, `${name}_${tag}`])) as {
    readonly [K in Names[number]]: string;
  };
}

/**
 * Polls an assertion until it passes or the deadline is reached (then throws its last failure). No fixed
 * sleeps in the tests: they wait exactly as long as the store needs.
 */
export async function eventually<T>(assertion: () => T | Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await sleep(10);
    }
  }
}

/** Records every batch it is given and answers what `decide` says for each event (ack by default). */
export class RecordingConsumer {
  readonly batches: DeliveredEvent[][] = [];
  decide: (delivered: DeliveredEvent) => DeliveryOutcome = () => ({ action: 'ack' });

  readonly handler: DeliveryHandler = async (batch) => {
    this.batches.push([...batch]);
    return batch.map((delivered) => this.decide(delivered));
  };

  get deliveries(): DeliveredEvent[] {
    return this.batches.flat();
  }

  /** Ids of every delivered event (each once), in first-delivery order. */
  deliveredIds(): string[] {
    return [...new Set(this.deliveries.map((d) => d.event.id))];
  }

  deliveriesOf(id: string): DeliveredEvent[] {
    return this.deliveries.filter((d) => d.event.id === id);
  }

  /** Throws (for `eventually`) until every id was delivered at least once. */
  expectDelivered(ids: readonly string[]): void {
    expect(this.deliveredIds()).toEqual(expect.arrayContaining([...ids]));
  }
}

/**
 * The ConsumerGroups port, run against every adapter (test/contract/*-consumer-groups.int.spec.ts). `open`
 * is called once for the suite; every test uses groups, streams and event types of its own.
 */
export function describeConsumerGroupContract(
  name: string,
  open: () => Promise<ConsumerGroupsUnderTest>,
  options: ConsumerGroupContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 20_000;
  const waitMs = options.waitMs ?? 5_000;
  const promptMs = options.promptMs ?? 1_000;

  describe(`ConsumerGroups contract: ${name}`, () => {
    let opened: ConsumerGroupsUnderTest | undefined;
    const subscriptions: GroupSubscription[] = [];
    const underTest = (): ConsumerGroupsUnderTest => {
      if (!opened) throw new Error('the consumer groups under test are not open');
      return opened;
    };
    const store = (): EventStore => underTest().store;
    const groups = (): ConsumerGroups => underTest().groups;
    const until = <T>(assertion: () => T | Promise<T>): Promise<T> => eventually(assertion, waitMs);

    beforeAll(async () => {
      opened = await open();
    }, timeout);

    afterEach(async () => {
      // A failed test must not leave a loop delivering into the next one.
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    }, timeout);

    afterAll(async () => {
      await opened?.cleanup();
    }, timeout);

    function subscribe(
      settings: Partial<ConsumerGroupSettings> & Pick<ConsumerGroupSettings, 'group' | 'eventTypes'>,
      consumer: RecordingConsumer | DeliveryHandler,
    ): GroupSubscription {
      const subscription = groups().subscribeToGroup(
        { maxRetries: 3, batchSize: 50, ...settings },
        consumer instanceof RecordingConsumer ? consumer.handler : consumer,
      );
      subscriptions.push(subscription);
      return subscription;
    }

    async function stop(subscription: GroupSubscription): Promise<void> {
      await subscription.stop();
      subscriptions.splice(subscriptions.indexOf(subscription), 1);
    }

    /** Appends to a new stream; answers the recorded events. */
    async function appendNew(events: EventToAppend[]): Promise<RecordedEvent[]> {
      const streamId = uniqueStreamId('groupcontract');
      await store().append(streamId, events, 'no_stream');
      return store().readStream(streamId);
    }

    async function checkpointOf(group: string): Promise<bigint | null> {
      return (await groups().groupInfo(group)).checkpoint;
    }

    async function untilCheckpointCovers(group: string, position: bigint): Promise<void> {
      await until(async () => {
        const checkpoint = await checkpointOf(group);
        expect(checkpoint).not.toBeNull();
        expect(checkpoint! >= position).toBe(true);
      });
    }

    it(
      'a new group delivers from the very first matching event, including those appended before it subscribed, and only the filtered types',
      async () => {
        const t = uniqueTypes('Wanted', 'AlsoWanted', 'Unwanted');
        const before = [
          ...(await appendNew([
            newEvent(t.Wanted, { n: 0 }),
            newEvent(t.Unwanted),
            newEvent(t.AlsoWanted, { n: 1 }),
          ])),
          ...(await appendNew([newEvent(t.Unwanted), newEvent(t.Wanted, { n: 2 }, { who: 'me' })])),
        ];
        const wanted = before.filter((e) => e.type !== t.Unwanted);
        const consumer = new RecordingConsumer();
        subscribe({ group: uniqueGroup(), eventTypes: [t.Wanted, t.AlsoWanted] }, consumer);

        await until(() => consumer.expectDelivered(wanted.map((e) => e.id)));
        const after = await appendNew([newEvent(t.Unwanted), newEvent(t.AlsoWanted, { n: 3 })]);
        await until(() => consumer.expectDelivered([after[1]!.id]));

        expect(consumer.deliveries.every((d) => d.event.type !== t.Unwanted)).toBe(true);
        // Delivered exactly as recorded: the same mapping as readStream.
        const byId = new Map(consumer.deliveries.map((d) => [d.event.id, d.event]));
        for (const recorded of [...wanted, after[1]!]) expect(byId.get(recorded.id)).toStrictEqual(recorded);
        expect(consumer.deliveries.every((d) => d.retryCount === 0)).toBe(true);
      },
      timeout,
    );

    it(
      'events appended while subscribed arrive promptly (woken by the append, not by a polling interval)',
      async () => {
        const t = uniqueTypes('Live');
        const consumer = new RecordingConsumer();
        const [first] = await appendNew([newEvent(t.Live)]);
        subscribe({ group: uniqueGroup(), eventTypes: [t.Live] }, consumer);
        await until(() => consumer.expectDelivered([first!.id]));

        for (let round = 0; round < 3; round++) {
          const appendedAt = Date.now();
          const [event] = await appendNew([newEvent(t.Live, { round })]);
          await eventually(() => consumer.expectDelivered([event!.id]), promptMs);
          expect(Date.now() - appendedAt).toBeLessThan(promptMs);
        }
      },
      timeout,
    );

    it(
      'a live group delivers both of two appends that commit out of position order',
      async () => {
        const held = underTest().heldAppends ?? appendAtCommit(store());
        const t = uniqueTypes('Interleaved');
        const group = uniqueGroup();
        const consumer = new RecordingConsumer();
        const [warm] = await appendNew([newEvent(t.Interleaved, { n: 0 })]);
        subscribe({ group, eventTypes: [t.Interleaved] }, consumer);
        await until(() => consumer.expectDelivered([warm!.id]));

        const [first, second] = [newEvent(t.Interleaved, { n: 'A' }), newEvent(t.Interleaved, { n: 'B' })];
        // A begins first (and takes its position first, where positions are taken before commit)...
        const a = await held.begin(uniqueStreamId('groupcontract'), [first], 'no_stream');
        const b = await held.begin(uniqueStreamId('groupcontract'), [second], 'no_stream');
        // ...but B commits first. A store that delivered B now and moved its checkpoint past it would never
        // deliver A: give the group the time to deliver B if it is going to, then commit A.
        const committedB = await b.commit();
        await eventually(() => consumer.expectDelivered([second.id]), promptMs).catch(() => undefined);
        const committedA = await a.commit();

        await until(() => consumer.expectDelivered([first.id, second.id]));
        const last = committedA.position > committedB.position ? committedA.position : committedB.position;
        await untilCheckpointCovers(group, last);
      },
      timeout,
    );

    it(
      'delivers every event at least once, and acknowledged events do not come again after stop and resubscribe',
      async () => {
        const t = uniqueTypes('Counted');
        const group = uniqueGroup();
        const first = await appendNew(Array.from({ length: 5 }, (_, n) => newEvent(t.Counted, { n })));
        const consumer = new RecordingConsumer();
        const subscription = subscribe({ group, eventTypes: [t.Counted] }, consumer);
        await until(() => consumer.expectDelivered(first.map((e) => e.id)));
        await untilCheckpointCovers(group, first[4]!.position);
        await stop(subscription);

        const later = await appendNew([newEvent(t.Counted, { n: 5 }), newEvent(t.Counted, { n: 6 })]);
        const again = new RecordingConsumer();
        subscribe({ group, eventTypes: [t.Counted] }, again);
        await until(() => again.expectDelivered(later.map((e) => e.id)));
        expect(again.deliveredIds()).toEqual(later.map((e) => e.id));
      },
      timeout,
    );

    it(
      'retry delivers the event again with its retry count incremented, without holding the others back',
      async () => {
        const t = uniqueTypes('Flaky');
        const events = await appendNew([newEvent(t.Flaky, { n: 0 }), newEvent(t.Flaky, { n: 1 })]);
        const [flaky, steady] = [events[0]!, events[1]!];
        const consumer = new RecordingConsumer();
        consumer.decide = (d) =>
          d.event.id === flaky.id && d.retryCount < 2
            ? { action: 'retry', reason: 'not yet' }
            : { action: 'ack' };
        subscribe({ group: uniqueGroup(), eventTypes: [t.Flaky], maxRetries: 5 }, consumer);

        await until(() =>
          expect(consumer.deliveriesOf(flaky.id).map((d) => d.retryCount)).toEqual([0, 1, 2]),
        );
        expect(consumer.deliveriesOf(steady.id).map((d) => d.retryCount)).toEqual([0]);
        // A redelivery carries the same recorded event.
        expect(consumer.deliveriesOf(flaky.id)[1]!.event).toStrictEqual(flaky);
      },
      timeout,
    );

    it(
      'after maxRetries the event is parked with its reason and recorded event, while other events keep flowing',
      async () => {
        const t = uniqueTypes('Poison', 'Fine');
        const group = uniqueGroup();
        const startedAt = Date.now();
        const [poison] = await appendNew([newEvent(t.Poison, { bad: true })]);
        const fine = await appendNew([newEvent(t.Fine, { n: 0 }), newEvent(t.Fine, { n: 1 })]);
        const consumer = new RecordingConsumer();
        consumer.decide = (d) =>
          d.event.type === t.Poison ? { action: 'retry', reason: 'poison: cannot apply' } : { action: 'ack' };
        subscribe({ group, eventTypes: [t.Poison, t.Fine], maxRetries: 2 }, consumer);

        // Others flow while the poison event is being retried.
        await until(() => consumer.expectDelivered(fine.map((e) => e.id)));
        const more = await appendNew([newEvent(t.Fine, { n: 2 })]);
        await until(() => consumer.expectDelivered([more[0]!.id]));

        const [parked] = await until(async () => {
          const list = await groups().listParked(group);
          expect(list).toHaveLength(1);
          return list;
        });
        expect(parked!.event).toStrictEqual(poison);
        expect(parked!.reason).toContain('poison: cannot apply');
        expect(parked!.retryCount).toBe(2);
        expect(parked!.parkedAt).toBeInstanceOf(Date);
        expect(parked!.parkedAt.getTime()).toBeGreaterThanOrEqual(startedAt - 5_000);
        expect(consumer.deliveriesOf(poison!.id).map((d) => d.retryCount)).toEqual([0, 1, 2]);
        await until(async () => expect((await groups().groupInfo(group)).parkedCount).toBe(1));

        // Parked means no more deliveries: a later event arrives, the poison one does not come again.
        const marker = await appendNew([newEvent(t.Fine, { n: 3 })]);
        await until(() => consumer.expectDelivered([marker[0]!.id]));
        expect(consumer.deliveriesOf(poison!.id)).toHaveLength(3);
        expect(fine.every((e) => consumer.deliveriesOf(e.id).length >= 1)).toBe(true);
      },
      timeout,
    );

    it(
      'park parks at once, without retries',
      async () => {
        const t = uniqueTypes('Unfit', 'Fit');
        const group = uniqueGroup();
        const [unfit] = await appendNew([newEvent(t.Unfit, { x: 1 })]);
        const consumer = new RecordingConsumer();
        consumer.decide = (d) =>
          d.event.type === t.Unfit
            ? { action: 'park', reason: 'schema version 9 unknown' }
            : { action: 'ack' };
        subscribe({ group, eventTypes: [t.Unfit, t.Fit], maxRetries: 5 }, consumer);

        const [parked] = await until(async () => {
          const list = await groups().listParked(group);
          expect(list).toHaveLength(1);
          return list;
        });
        expect(parked!.event).toStrictEqual(unfit);
        expect(parked!.reason).toContain('schema version 9 unknown');
        expect(parked!.retryCount).toBe(0);
        await until(async () => expect((await groups().groupInfo(group)).parkedCount).toBe(1));

        const marker = await appendNew([newEvent(t.Fit)]);
        await until(() => consumer.expectDelivered([marker[0]!.id]));
        expect(consumer.deliveriesOf(unfit!.id)).toHaveLength(1);
      },
      timeout,
    );

    it(
      'replayParked delivers parked events again, oldest first; once acknowledged they leave the parked list',
      async () => {
        const t = uniqueTypes('Replayable');
        const group = uniqueGroup();
        const consumer = new RecordingConsumer();
        let parking = true;
        consumer.decide = () => (parking ? { action: 'park', reason: 'later' } : { action: 'ack' });
        subscribe({ group, eventTypes: [t.Replayable] }, consumer);

        // Parked one after the other, so that "oldest first" is well defined.
        const [older] = await appendNew([newEvent(t.Replayable, { n: 0 })]);
        await until(async () => expect(await groups().listParked(group)).toHaveLength(1));
        const [newer] = await appendNew([newEvent(t.Replayable, { n: 1 })]);
        const parked = await until(async () => {
          const list = await groups().listParked(group);
          expect(list).toHaveLength(2);
          return list;
        });
        expect(parked.map((p) => p.event.id)).toEqual([older!.id, newer!.id]);
        expect(await groups().listParked(group, { limit: 1 })).toHaveLength(1);

        parking = false;
        expect(await groups().replayParked(group)).toBe(2);
        await until(() => {
          expect(consumer.deliveriesOf(older!.id)).toHaveLength(2);
          expect(consumer.deliveriesOf(newer!.id)).toHaveLength(2);
        });
        await until(async () => {
          expect(await groups().listParked(group)).toEqual([]);
          expect((await groups().groupInfo(group)).parkedCount).toBe(0);
        });
        expect(await groups().replayParked(group)).toBe(0);
      },
      timeout,
    );

    it(
      'replayParked with a limit replays only the oldest parked events',
      async () => {
        const t = uniqueTypes('Limited');
        const group = uniqueGroup();
        const consumer = new RecordingConsumer();
        let parking = true;
        consumer.decide = () => (parking ? { action: 'park', reason: 'later' } : { action: 'ack' });
        subscribe({ group, eventTypes: [t.Limited] }, consumer);
        const events: RecordedEvent[] = [];
        for (let n = 0; n < 3; n++) {
          events.push(...(await appendNew([newEvent(t.Limited, { n })])));
          await until(async () => expect(await groups().listParked(group)).toHaveLength(n + 1));
        }

        parking = false;
        expect(await groups().replayParked(group, { limit: 1 })).toBe(1);
        await until(() => expect(consumer.deliveriesOf(events[0]!.id)).toHaveLength(2));
        await until(async () =>
          expect((await groups().listParked(group)).map((p) => p.event.id)).toEqual([
            events[1]!.id,
            events[2]!.id,
          ]),
        );
        expect(consumer.deliveriesOf(events[1]!.id)).toHaveLength(1);

        expect(await groups().replayParked(group, { limit: 5 })).toBe(2);
        await until(() => {
          expect(consumer.deliveriesOf(events[1]!.id)).toHaveLength(2);
          expect(consumer.deliveriesOf(events[2]!.id)).toHaveLength(2);
        });
        await until(async () => expect(await groups().listParked(group)).toEqual([]));
      },
      timeout,
    );

    it(
      'a replayed parked event is delivered as it was recorded: its own position, not its parked copy’s',
      async () => {
        const t = uniqueTypes('Positioned');
        const group = uniqueGroup();
        const consumer = new RecordingConsumer();
        let parking = true;
        consumer.decide = () => (parking ? { action: 'park', reason: 'later' } : { action: 'ack' });
        subscribe({ group, eventTypes: [t.Positioned] }, consumer);
        const [event] = await appendNew([newEvent(t.Positioned, { n: 0 })]);
        await until(async () => expect(await groups().listParked(group)).toHaveLength(1));
        expect((await groups().listParked(group))[0]!.event).toStrictEqual(event);

        parking = false;
        expect(await groups().replayParked(group)).toBe(1);
        await until(() => expect(consumer.deliveriesOf(event!.id)).toHaveLength(2));
        expect(consumer.deliveriesOf(event!.id).map((d) => d.event)).toStrictEqual([event, event]);
      },
      timeout,
    );

    it(
      'a handler that throws gets its batch delivered again, with the retry count incremented',
      async () => {
        const t = uniqueTypes('Thrown');
        const events = await appendNew([newEvent(t.Thrown, { n: 0 }), newEvent(t.Thrown, { n: 1 })]);
        const seen: DeliveredEvent[] = [];
        subscribe({ group: uniqueGroup(), eventTypes: [t.Thrown] }, async (batch) => {
          seen.push(...batch);
          if (batch.some((d) => d.retryCount === 0)) throw new Error('read store down');
          return batch.map(() => ({ action: 'ack' }));
        });

        await until(() => {
          for (const event of events) {
            expect(seen.filter((d) => d.event.id === event.id).map((d) => d.retryCount)).toEqual([0, 1]);
          }
        });
      },
      timeout,
    );

    it(
      'never hands the handler more than batchSize events at once',
      async () => {
        const t = uniqueTypes('Batched');
        const events = await appendNew(Array.from({ length: 10 }, (_, n) => newEvent(t.Batched, { n })));
        const consumer = new RecordingConsumer();
        subscribe({ group: uniqueGroup(), eventTypes: [t.Batched], batchSize: 3 }, consumer);

        await until(() => consumer.expectDelivered(events.map((e) => e.id)));
        expect(consumer.batches.every((batch) => batch.length >= 1 && batch.length <= 3)).toBe(true);
        expect(consumer.batches.length).toBeGreaterThanOrEqual(4);
      },
      timeout,
    );

    it(
      'groupInfo: an unknown group has no checkpoint and nothing parked; the checkpoint advances as events settle',
      async () => {
        const unknown = uniqueGroup();
        expect(await groups().groupInfo(unknown)).toStrictEqual({
          group: unknown,
          checkpoint: null,
          parkedCount: 0,
          owner: null,
        });
        expect(await groups().listParked(unknown)).toEqual([]);
        expect(await groups().replayParked(unknown)).toBe(0);

        const t = uniqueTypes('Progress', 'Bad');
        const group = uniqueGroup();
        const first = await appendNew([newEvent(t.Progress), newEvent(t.Progress)]);
        const consumer = new RecordingConsumer();
        consumer.decide = (d) =>
          d.event.type === t.Bad ? { action: 'park', reason: 'bad' } : { action: 'ack' };
        subscribe({ group, eventTypes: [t.Progress, t.Bad] }, consumer);
        await until(() => consumer.expectDelivered(first.map((e) => e.id)));
        await untilCheckpointCovers(group, first[1]!.position);
        const before = (await checkpointOf(group))!;

        const second = await appendNew([newEvent(t.Progress), newEvent(t.Bad)]);
        await until(() => consumer.expectDelivered(second.map((e) => e.id)));
        await untilCheckpointCovers(group, second[1]!.position);
        expect((await checkpointOf(group))! > before).toBe(true);
        await until(async () => {
          const info = await groups().groupInfo(group);
          expect(info.group).toBe(group);
          expect(info.parkedCount).toBe(1);
          // The instance delivering it (embedded, PostgreSQL), or nobody in particular (EventStoreDB).
          expect(info.owner === null || typeof info.owner === 'string').toBe(true);
        });
      },
      timeout,
    );

    it(
      'stop() resolves once the batch in flight is settled, and nothing is delivered after it',
      async () => {
        const t = uniqueTypes('Stopping');
        const group = uniqueGroup();
        const [held] = await appendNew([newEvent(t.Stopping)]);
        let entered!: () => void;
        const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const seen: string[] = [];
        const subscription = subscribe({ group, eventTypes: [t.Stopping] }, async (batch) => {
          seen.push(...batch.map((d) => d.event.id));
          entered();
          await gate;
          return batch.map(() => ({ action: 'ack' }));
        });
        await handlerEntered;

        let stopped = false;
        const stopping = subscription.stop().then(() => (stopped = true));
        await sleep(50);
        expect(stopped).toBe(false);
        release();
        await stopping;
        subscriptions.splice(subscriptions.indexOf(subscription), 1);

        // The held batch was settled: its event is covered by the checkpoint and not delivered again.
        await untilCheckpointCovers(group, held!.position);
        const [later] = await appendNew([newEvent(t.Stopping)]);
        const witness = new RecordingConsumer();
        subscribe({ group: uniqueGroup(), eventTypes: [t.Stopping] }, witness);
        await until(() => witness.expectDelivered([held!.id, later!.id]));
        expect(seen).toEqual([held!.id]);

        const resumed = new RecordingConsumer();
        subscribe({ group, eventTypes: [t.Stopping] }, resumed);
        await until(() => resumed.expectDelivered([later!.id]));
        expect(resumed.deliveredIds()).toEqual([later!.id]);
      },
      timeout,
    );

    it(
      'two groups each receive every event, with checkpoints and parked events of their own',
      async () => {
        const t = uniqueTypes('Shared');
        const [one, two] = [uniqueGroup(), uniqueGroup()];
        const events = await appendNew(Array.from({ length: 4 }, (_, n) => newEvent(t.Shared, { n })));
        const first = new RecordingConsumer();
        const second = new RecordingConsumer();
        first.decide = (d) =>
          d.event.id === events[0]!.id ? { action: 'park', reason: 'only here' } : { action: 'ack' };
        const firstSubscription = subscribe({ group: one, eventTypes: [t.Shared] }, first);
        subscribe({ group: two, eventTypes: [t.Shared] }, second);

        await until(() => {
          first.expectDelivered(events.map((e) => e.id));
          second.expectDelivered(events.map((e) => e.id));
        });
        await until(async () => {
          expect((await groups().groupInfo(one)).parkedCount).toBe(1);
          expect((await groups().groupInfo(two)).parkedCount).toBe(0);
        });
        await untilCheckpointCovers(one, events[3]!.position);
        await stop(firstSubscription);

        const more = await appendNew([newEvent(t.Shared, { n: 4 }), newEvent(t.Shared, { n: 5 })]);
        await until(() => second.expectDelivered(more.map((e) => e.id)));
        await untilCheckpointCovers(two, more[1]!.position);
        expect((await checkpointOf(one))! < more[0]!.position).toBe(true);
        expect(first.deliveredIds()).not.toContain(more[0]!.id);

        const resumed = new RecordingConsumer();
        subscribe({ group: one, eventTypes: [t.Shared] }, resumed);
        await until(() => resumed.expectDelivered(more.map((e) => e.id)));
        expect(resumed.deliveredIds()).toEqual(more.map((e) => e.id));
      },
      timeout,
    );
  });
}
