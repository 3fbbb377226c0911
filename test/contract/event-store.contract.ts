import { randomUUID } from 'node:crypto';
import {
  InvalidPositionError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type RecordedEvent,
} from '../../src/event-store/event-store.port.js';

/** An event store opened for the contract suite, and how to release it afterwards. */
export interface EventStoreUnderTest {
  readonly store: EventStore;
  /** Appends whose transactions the suite can interleave (default: appendAtCommit). */
  readonly heldAppends?: HeldAppends;
  cleanup(): Promise<void>;
}

/** An append begun and held just before its commit. */
export interface HeldAppend {
  commit(): Promise<AppendResult>;
}

/**
 * How the suite commits two appends out of order: `begin` starts an append in a transaction of its own and
 * stops just before the commit — its events have taken their global positions, if the store takes them
 * before commit —, `commit` commits it. Adapters whose appends hold transactions open (PostgreSQL) provide
 * this; for the others, appendAtCommit.
 */
export interface HeldAppends {
  begin(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<HeldAppend>;
}

/**
 * For stores that give an event its position when it commits (the embedded store's single writer, the
 * EventStoreDB server): there is nothing to hold open, so `begin` does nothing and `commit` appends. The
 * out-of-order scenario then holds by construction, and the suite still checks that nothing is skipped.
 */
export function appendAtCommit(store: EventStore): HeldAppends {
  return {
    begin: async (streamId, events, expected) => ({ commit: () => store.append(streamId, events, expected) }),
  };
}

export interface EventStoreContractOptions {
  /**
   * How far `created` may be from the test machine's clock (ms). 0 for stores that use this process's clock;
   * some slack for a server that has a clock of its own.
   */
  readonly clockToleranceMs?: number;
  /** Per-test timeout (ms). */
  readonly timeoutMs?: number;
  /**
   * Whether the store says that a retried append was one (`AppendResult.duplicate`). A store that cannot tell
   * leaves it out; none may say so of a first append.
   */
  readonly tellsDuplicates?: boolean;
}

/** A stream id nobody else uses, so the suite also runs against a shared EventStoreDB server. */
export function uniqueStreamId(category = 'contracttest'): string {
  return `${category}-${randomUUID()}`;
}

export function newEvent(
  type = 'SomethingHappened',
  data: JsonObject = { n: 1 },
  metadata: JsonObject = {},
): EventToAppend {
  return { id: randomUUID(), type, data, metadata };
}

/** `count` events numbered from 0 in their data. */
export function newEvents(count: number, type = 'SomethingHappened'): EventToAppend[] {
  return Array.from({ length: count }, (_, n) => newEvent(type, { n }));
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject, but it resolved');
    },
    (error: unknown) => error,
  );
}

/** Asserts a WrongExpectedRevisionError with exactly these fields (`actual` compared as bigint, not number). */
export async function expectWrongRevision(
  promise: Promise<unknown>,
  streamId: string,
  expected: ExpectedRevision,
  actual: bigint | 'no_stream',
): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  const wrong = error as WrongExpectedRevisionError;
  expect(wrong.streamId).toBe(streamId);
  expect(wrong.expected).toBe(expected);
  expect(wrong.actual).toBe(actual);
}

function ids(events: readonly { id: string }[]): string[] {
  return events.map((e) => e.id);
}

function revisions(events: readonly RecordedEvent[]): bigint[] {
  return events.map((e) => e.revision);
}

function expectStrictlyIncreasing(values: readonly bigint[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]! > values[i - 1]!).toBe(true);
}

/**
 * The whole EventStore port contract. Every adapter runs it (test/contract/*-event-store.int.spec.ts).
 * `open` is called once for the suite; every test works on streams of its own.
 */
export function describeEventStoreContract(
  name: string,
  open: () => Promise<EventStoreUnderTest>,
  options: EventStoreContractOptions = {},
): void {
  const tolerance = options.clockToleranceMs ?? 0;
  const timeout = options.timeoutMs ?? 15_000;
  /** A retried append's answer says so where the store can tell; the others leave `duplicate` out. */
  const expectRetried = (result: AppendResult): void => {
    if (options.tellsDuplicates) expect(result.duplicate).toBe(true);
    else expect(result.duplicate).toBeUndefined();
  };

  describe(`EventStore contract: ${name}`, () => {
    let opened: EventStoreUnderTest | undefined;
    const store = (): EventStore => {
      if (!opened) throw new Error('the event store under test is not open');
      return opened.store;
    };

    beforeAll(async () => {
      opened = await open();
    }, timeout);

    afterAll(async () => {
      await opened?.cleanup();
    }, timeout);

    /** A stream holding `count` events appended one by one; returns their append results. */
    async function seed(streamId: string, count: number): Promise<AppendResult[]> {
      const results: AppendResult[] = [];
      for (let n = 0; n < count; n++) {
        const expected: ExpectedRevision = n === 0 ? 'no_stream' : BigInt(n - 1);
        results.push(await store().append(streamId, [newEvent('Seeded', { n })], expected));
      }
      return results;
    }

    describe('append with no_stream', () => {
      it(
        'creates a new stream at revision 0',
        async () => {
          const streamId = uniqueStreamId();
          const event = newEvent();
          const result = await store().append(streamId, [event], 'no_stream');
          expect(result.nextExpectedRevision).toBe(0n);
          const read = await store().readStream(streamId);
          expect(ids(read)).toEqual([event.id]);
          expect(revisions(read)).toEqual([0n]);
        },
        timeout,
      );

      it(
        'refuses an existing stream, reporting its last revision as a bigint',
        async () => {
          const streamId = uniqueStreamId();
          await store().append(streamId, newEvents(3), 'no_stream');
          const intruder = newEvent();
          await expectWrongRevision(
            store().append(streamId, [intruder], 'no_stream'),
            streamId,
            'no_stream',
            2n,
          );
          expect(ids(await store().readStream(streamId))).not.toContain(intruder.id);
          expect(await store().streamRevision(streamId)).toBe(2n);
        },
        timeout,
      );
    });

    describe('append with an exact revision', () => {
      it(
        'appends when the revision is the last event of the stream',
        async () => {
          const streamId = uniqueStreamId();
          await seed(streamId, 2);
          const event = newEvent();
          const result = await store().append(streamId, [event], 1n);
          expect(result.nextExpectedRevision).toBe(2n);
          const read = await store().readStream(streamId);
          expect(revisions(read)).toEqual([0n, 1n, 2n]);
          expect(read[2]!.id).toBe(event.id);
        },
        timeout,
      );

      it(
        'refuses a stale revision, reporting the actual one',
        async () => {
          const streamId = uniqueStreamId();
          await seed(streamId, 3);
          const late = newEvent();
          await expectWrongRevision(store().append(streamId, [late], 0n), streamId, 0n, 2n);
          await expectWrongRevision(store().append(streamId, [newEvent()], 5n), streamId, 5n, 2n);
          const read = await store().readStream(streamId);
          expect(read).toHaveLength(3);
          expect(ids(read)).not.toContain(late.id);
        },
        timeout,
      );

      it(
        'refuses a revision on a stream that does not exist, reporting no_stream',
        async () => {
          const streamId = uniqueStreamId();
          await expectWrongRevision(store().append(streamId, [newEvent()], 0n), streamId, 0n, 'no_stream');
          expect(await store().readStream(streamId)).toEqual([]);
          expect(await store().streamRevision(streamId)).toBe('no_stream');
        },
        timeout,
      );
    });

    describe('append with stream_exists and any', () => {
      it(
        'stream_exists appends to an existing stream and refuses a missing one',
        async () => {
          const streamId = uniqueStreamId();
          await seed(streamId, 2);
          const result = await store().append(streamId, [newEvent()], 'stream_exists');
          expect(result.nextExpectedRevision).toBe(2n);

          const missing = uniqueStreamId();
          await expectWrongRevision(
            store().append(missing, [newEvent()], 'stream_exists'),
            missing,
            'stream_exists',
            'no_stream',
          );
          expect(await store().readStream(missing)).toEqual([]);
        },
        timeout,
      );

      it(
        'any appends whatever the state of the stream',
        async () => {
          const streamId = uniqueStreamId();
          const first = await store().append(streamId, [newEvent()], 'any');
          expect(first.nextExpectedRevision).toBe(0n);
          const second = await store().append(streamId, newEvents(2), 'any');
          expect(second.nextExpectedRevision).toBe(2n);
          expect(revisions(await store().readStream(streamId))).toEqual([0n, 1n, 2n]);
        },
        timeout,
      );
    });

    describe('append results and global positions', () => {
      it(
        'returns the revision to expect next and the global position of the last appended event',
        async () => {
          const streamId = uniqueStreamId();
          const result = await store().append(streamId, newEvents(3), 'no_stream');
          expect(typeof result.nextExpectedRevision).toBe('bigint');
          expect(typeof result.position).toBe('bigint');
          expect(result.nextExpectedRevision).toBe(2n);
          const read = await store().readStream(streamId);
          expect(read[2]!.position).toBe(result.position);
          // The next append at that revision is accepted.
          const next = await store().append(streamId, [newEvent()], result.nextExpectedRevision);
          expect(next.nextExpectedRevision).toBe(3n);
        },
        timeout,
      );

      it(
        'gives strictly increasing positions across appends and streams',
        async () => {
          const a = uniqueStreamId();
          const b = uniqueStreamId();
          const results = [
            await store().append(a, [newEvent()], 'no_stream'),
            await store().append(b, newEvents(2), 'no_stream'),
            await store().append(a, [newEvent()], 0n),
            await store().append(b, [newEvent()], 1n),
          ];
          expectStrictlyIncreasing(results.map((r) => r.position));

          const recorded = [...(await store().readStream(a)), ...(await store().readStream(b))].sort(
            (x, y) => (x.position < y.position ? -1 : x.position > y.position ? 1 : 0),
          );
          expect(recorded).toHaveLength(5);
          expect(new Set(recorded.map((e) => e.position)).size).toBe(5);
          // Global order is the order of the appends: a0, b0, b1, a1, b2.
          expect(recorded.map((e) => `${e.streamId === a ? 'a' : 'b'}${e.revision}`)).toEqual([
            'a0',
            'b0',
            'b1',
            'a1',
            'b2',
          ]);
        },
        timeout,
      );

      it(
        'gives the events of one batch consecutive revisions and increasing positions',
        async () => {
          const streamId = uniqueStreamId();
          await seed(streamId, 2);
          const batch = newEvents(5, 'Batched');
          const result = await store().append(streamId, batch, 1n);
          expect(result.nextExpectedRevision).toBe(6n);
          const read = await store().readStream(streamId, { from: 2n });
          expect(ids(read)).toEqual(ids(batch));
          expect(revisions(read)).toEqual([2n, 3n, 4n, 5n, 6n]);
          expectStrictlyIncreasing(read.map((e) => e.position));
          expect(read[4]!.position).toBe(result.position);
        },
        timeout,
      );
    });

    describe('idempotent appends', () => {
      it(
        'a retried no_stream append succeeds without appending anything',
        async () => {
          const streamId = uniqueStreamId();
          const batch = newEvents(2);
          const first = await store().append(streamId, batch, 'no_stream');
          expect(first.duplicate).not.toBe(true);
          const retry = await store().append(streamId, batch, 'no_stream');
          expectRetried(retry);
          expect(retry.nextExpectedRevision).toBe(first.nextExpectedRevision);
          expect(retry.nextExpectedRevision).toBe(1n);
          // The retry answers what the first append answered.
          expect(retry.position).toBe(first.position);
          const read = await store().readStream(streamId);
          expect(ids(read)).toEqual(ids(batch));
        },
        timeout,
      );

      it(
        'a retried exact-revision append succeeds without appending anything, even after later appends',
        async () => {
          const streamId = uniqueStreamId();
          await seed(streamId, 1);
          const batch = newEvents(2);
          const first = await store().append(streamId, batch, 0n);
          expect(first.nextExpectedRevision).toBe(2n);
          expect(first.duplicate).not.toBe(true);

          const retry = await store().append(streamId, batch, 0n);
          expectRetried(retry);
          expect(retry.nextExpectedRevision).toBe(2n);
          expect(await store().readStream(streamId)).toHaveLength(3);

          // A late retry, after somebody else appended, is still recognised.
          await store().append(streamId, [newEvent()], 2n);
          const late = await store().append(streamId, batch, 0n);
          expectRetried(late);
          expect(late.nextExpectedRevision).toBe(2n);
          const read = await store().readStream(streamId);
          expect(read).toHaveLength(4);
          expect(ids(read).filter((id) => id === batch[0]!.id)).toHaveLength(1);
        },
        timeout,
      );

      it(
        'the same revision with only partly the same ids is a conflict, not a retry',
        async () => {
          const streamId = uniqueStreamId();
          await seed(streamId, 1);
          const batch = newEvents(2);
          await store().append(streamId, batch, 0n);
          const mixed = [batch[0]!, newEvent()];
          await expectWrongRevision(store().append(streamId, mixed, 0n), streamId, 0n, 2n);
          expect(ids(await store().readStream(streamId, { from: 1n }))).toEqual(ids(batch));
        },
        timeout,
      );

      it(
        'reusing the ids of an earlier append with any appends nothing',
        async () => {
          const streamId = uniqueStreamId();
          const earlier = newEvents(2);
          await store().append(streamId, earlier, 'any');
          await store().append(streamId, [newEvent()], 'any');
          const again = await store().append(streamId, earlier, 'any');
          expectRetried(again);
          expect(again.nextExpectedRevision).toBe(1n);
          const read = await store().readStream(streamId);
          expect(read).toHaveLength(3);
          expect(ids(read.slice(0, 2))).toEqual(ids(earlier));
        },
        timeout,
      );
    });

    describe('readStream', () => {
      let streamId: string;
      let appended: EventToAppend[];
      beforeAll(async () => {
        streamId = uniqueStreamId();
        appended = newEvents(6);
        await store().append(streamId, appended, 'no_stream');
      }, timeout);

      it(
        'reads forwards from the start by default',
        async () => {
          const read = await store().readStream(streamId);
          expect(ids(read)).toEqual(ids(appended));
          expect(revisions(read)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
          expect(read.every((e) => e.streamId === streamId)).toBe(true);
        },
        timeout,
      );

      it(
        'reads forwards from an inclusive revision, with a limit',
        async () => {
          expect(revisions(await store().readStream(streamId, { from: 2n }))).toEqual([2n, 3n, 4n, 5n]);
          expect(revisions(await store().readStream(streamId, { from: 2n, limit: 2 }))).toEqual([2n, 3n]);
          expect(revisions(await store().readStream(streamId, { limit: 1 }))).toEqual([0n]);
          expect(await store().readStream(streamId, { from: 6n })).toEqual([]);
          expect(await store().readStream(streamId, { limit: 0 })).toEqual([]);
        },
        timeout,
      );

      it(
        'reads backwards from the end, or from an inclusive revision, with a limit',
        async () => {
          expect(revisions(await store().readStream(streamId, { direction: 'backwards' }))).toEqual([
            5n,
            4n,
            3n,
            2n,
            1n,
            0n,
          ]);
          expect(revisions(await store().readStream(streamId, { direction: 'backwards', limit: 1 }))).toEqual(
            [5n],
          );
          expect(
            revisions(await store().readStream(streamId, { direction: 'backwards', from: 3n, limit: 2 })),
          ).toEqual([3n, 2n]);
          expect(revisions(await store().readStream(streamId, { direction: 'backwards', from: 1n }))).toEqual(
            [1n, 0n],
          );
          const read = await store().readStream(streamId, { direction: 'backwards' });
          expect(ids(read)).toEqual(ids(appended).reverse());
        },
        timeout,
      );

      it(
        'reads a stream that does not exist as empty, in both directions',
        async () => {
          const missing = uniqueStreamId();
          expect(await store().readStream(missing)).toEqual([]);
          expect(await store().readStream(missing, { direction: 'backwards', limit: 1 })).toEqual([]);
          expect(await store().readStream(missing, { from: 3n })).toEqual([]);
        },
        timeout,
      );
    });

    describe('recorded events', () => {
      it(
        'carry stream id, id, type, bigint revision and position, and the server time in ms',
        async () => {
          const streamId = uniqueStreamId();
          const event = newEvent('ThingRecorded', { x: 1 }, { who: 'tester' });
          const before = Date.now();
          const result = await store().append(streamId, [event], 'no_stream');
          const after = Date.now();
          const [recorded] = await store().readStream(streamId);
          expect(recorded).toBeDefined();
          const { created, ...rest } = recorded!;
          expect(rest).toStrictEqual({
            streamId,
            id: event.id,
            type: 'ThingRecorded',
            revision: 0n,
            position: result.position,
            data: { x: 1 },
            metadata: { who: 'tester' },
          });
          expect(typeof recorded!.revision).toBe('bigint');
          expect(typeof recorded!.position).toBe('bigint');
          expect(created).toBeInstanceOf(Date);
          const ms = created.getTime();
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(before - tolerance);
          expect(ms).toBeLessThanOrEqual(after + tolerance);
        },
        timeout,
      );

      it(
        'round-trip data and metadata exactly (nested JSON, unicode, numbers, null, empty containers)',
        async () => {
          const streamId = uniqueStreamId();
          const data: JsonObject = {
            text: 'Grüße, 你好, مرحبا, 🛒🧾 — "quoted" \\ back\\slash\nnew line\ttab',
            combining: 'e\u0301 vs é',
            nested: { deeper: { deepest: [1, 'two', { three: [true, false, null] }] } },
            numbers: [0, -1, 42, 3.14159, 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
            empty: { object: {}, array: [], string: '' },
            nothing: null,
            'key with spaces & ünïcödé 🔑': 'value',
          };
          const metadata: JsonObject = {
            schemaVersion: 1,
            correlationId: randomUUID(),
            actor: { sub: 'customer-ü', roles: ['shopper', 'auditor'] },
            emoji: '👩‍💻',
          };
          const bare = newEvent('Bare', {}, {});
          await store().append(streamId, [newEvent('Rich', data, metadata), bare], 'no_stream');
          const [rich, empty] = await store().readStream(streamId);
          expect(rich!.data).toStrictEqual(data);
          expect(rich!.metadata).toStrictEqual(metadata);
          expect(JSON.stringify(rich!.data)).toBe(JSON.stringify(data));
          expect(empty!.data).toStrictEqual({});
          expect(empty!.metadata).toStrictEqual({});
        },
        timeout,
      );
    });

    describe('readAll', () => {
      it(
        'returns the events strictly after a position, in increasing position order',
        async () => {
          const a = uniqueStreamId();
          const b = uniqueStreamId();
          const marker = await store().append(a, [newEvent('Marker')], 'no_stream');
          const e1 = newEvent('One');
          const e2 = newEvents(2, 'Two');
          const e3 = newEvent('Three');
          await store().append(b, [e1], 'no_stream');
          await store().append(a, e2, 0n);
          await store().append(b, [e3], 0n);

          const mine = (events: RecordedEvent[]) =>
            events.filter((e) => e.streamId === a || e.streamId === b);
          const all = await store().readAll({ after: marker.position });
          expect(all.every((e) => e.position > marker.position)).toBe(true);
          expectStrictlyIncreasing(all.map((e) => e.position));
          expect(ids(mine(all))).toEqual([e1.id, ...ids(e2), e3.id]);
          expect(mine(all).map((e) => [e.streamId, e.revision])).toEqual([
            [b, 0n],
            [a, 1n],
            [a, 2n],
            [b, 1n],
          ]);

          // "after" is exclusive.
          const fromE1 = mine(await store().readAll({ after: mine(all)[0]!.position }));
          expect(ids(fromE1)).toEqual([...ids(e2), e3.id]);
        },
        timeout,
      );

      it(
        'honours the limit',
        async () => {
          const streamId = uniqueStreamId();
          const marker = await store().append(streamId, [newEvent('Marker')], 'no_stream');
          await store().append(streamId, newEvents(3), 0n);
          const [second] = await store().readStream(streamId, { from: 1n, limit: 1 });

          const one = await store().readAll({ after: marker.position, limit: 1 });
          expect(one).toHaveLength(1);
          // On a shared server another test's event may come first, but nothing after our next event.
          expect(one[0]!.position > marker.position).toBe(true);
          expect(one[0]!.position <= second!.position).toBe(true);

          const three = await store().readAll({ after: marker.position, limit: 3 });
          expect(three.length).toBeLessThanOrEqual(3);
          expect(three.length).toBeGreaterThanOrEqual(1);
          expectStrictlyIncreasing(three.map((e) => e.position));
          expect(await store().readAll({ after: marker.position, limit: 0 })).toEqual([]);
        },
        timeout,
      );

      it(
        'returns the same recorded events as readStream',
        async () => {
          const streamId = uniqueStreamId();
          const marker = await store().append(uniqueStreamId(), [newEvent('Marker')], 'no_stream');
          await store().append(
            streamId,
            [newEvent('Mirrored', { deep: { a: [1, 2] } }, { m: 'ü' })],
            'no_stream',
          );
          const fromAll = (await store().readAll({ after: marker.position })).filter(
            (e) => e.streamId === streamId,
          );
          expect(fromAll).toStrictEqual(await store().readStream(streamId));
        },
        timeout,
      );
    });

    describe('the global order', () => {
      it(
        'a catching-up reader sees both of two appends that commit out of position order, once each',
        async () => {
          const held = opened?.heldAppends ?? appendAtCommit(store());
          const type = `Interleaved_${randomUUID().slice(0, 8)}`;
          const marker = await store().append(uniqueStreamId(), [newEvent(type, { n: 0 })], 'no_stream');
          const [first, second] = [newEvent(type, { n: 'A' }), newEvent(type, { n: 'B' })];
          // A begins first (and takes its position first, where positions are taken before commit)...
          const a = await held.begin(uniqueStreamId(), [first], 'no_stream');
          const b = await held.begin(uniqueStreamId(), [second], 'no_stream');
          // ...but B commits first, and a reader catches up while A is still open.
          await b.commit();
          const seen: RecordedEvent[] = [];
          let cursor = marker.position;
          const catchUp = async (): Promise<void> => {
            const page = await store().readAll({ after: cursor, eventTypes: [type] });
            seen.push(...page);
            cursor = page[page.length - 1]?.position ?? cursor;
          };
          await catchUp();
          await a.commit();
          // The reader goes on from where it stopped: A must still come, though it committed last.
          const deadline = Date.now() + timeout / 2;
          while (seen.length < 2 && Date.now() < deadline) {
            await catchUp();
            if (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
          }
          expect(ids(seen).sort()).toEqual([first.id, second.id].sort());
          expectStrictlyIncreasing(seen.map((e) => e.position));
        },
        timeout,
      );
    });

    describe('readAll by event type', () => {
      it(
        'returns only events of the given types, in position order, after a position and within a limit',
        async () => {
          // Types of this test only, so that a shared server's other events cannot match.
          const tag = randomUUID().slice(0, 8);
          const [wanted, alsoWanted, other] = [`Wanted_${tag}`, `AlsoWanted_${tag}`, `Other_${tag}`];
          const a = uniqueStreamId();
          const b = uniqueStreamId();
          const marker = await store().append(a, [newEvent(wanted, { n: -1 })], 'no_stream');
          await store().append(a, [newEvent(other), newEvent(wanted, { n: 0 })], 0n);
          await store().append(b, [newEvent(alsoWanted, { n: 1 }), newEvent(other)], 'no_stream');
          await store().append(a, [newEvent(wanted, { n: 2 })], 2n);
          const recorded = [...(await store().readStream(a)), ...(await store().readStream(b))]
            .filter((e) => e.type !== other && e.position > marker.position)
            .sort((x, y) => (x.position < y.position ? -1 : 1));

          const read = await store().readAll({ after: marker.position, eventTypes: [wanted, alsoWanted] });
          expect(read).toStrictEqual(recorded);
          expect(read.map((e) => e.data['n'])).toEqual([0, 1, 2]);

          expect(
            await store().readAll({ after: marker.position, eventTypes: [wanted, alsoWanted], limit: 2 }),
          ).toStrictEqual(recorded.slice(0, 2));
          expect(
            (await store().readAll({ after: recorded[0]!.position, eventTypes: [wanted] })).map(
              (e) => e.data['n'],
            ),
          ).toEqual([2]);
          // From the very start, the marker comes first.
          const fromStart = await store().readAll({ eventTypes: [wanted], limit: 1 });
          expect(fromStart.map((e) => e.data['n'])).toEqual([-1]);
        },
        timeout,
      );

      it(
        'returns nothing for no types, for unknown types, or for a limit of 0',
        async () => {
          const tag = randomUUID().slice(0, 8);
          const streamId = uniqueStreamId();
          // A position handed out just before this test's events (never `marker.position - 1n`).
          const { position: after } = await store().append(
            uniqueStreamId(),
            [newEvent('Anchor')],
            'no_stream',
          );
          await store().append(streamId, [newEvent(`Known_${tag}`)], 'no_stream');
          await store().append(streamId, [newEvent(`Known_${tag}`)], 0n);
          expect(await store().readAll({ after, eventTypes: [] })).toEqual([]);
          expect(await store().readAll({ after, eventTypes: [`Unknown_${tag}`] })).toEqual([]);
          expect(await store().readAll({ after, eventTypes: [`Known_${tag}`], limit: 0 })).toEqual([]);
          expect(await store().readAll({ after, eventTypes: [`Known_${tag}`] })).toHaveLength(2);
        },
        timeout,
      );
    });

    describe('countAll', () => {
      it(
        'counts what readAll would return (by type, after a position), capped by the limit',
        async () => {
          const tag = randomUUID().slice(0, 8);
          const [wanted, other] = [`Counted_${tag}`, `NotCounted_${tag}`];
          const a = uniqueStreamId();
          const { position: after } = await store().append(
            uniqueStreamId(),
            [newEvent('Anchor')],
            'no_stream',
          );
          const marker = await store().append(a, [newEvent(wanted)], 'no_stream');
          await store().append(a, [newEvent(other), newEvent(wanted), newEvent(wanted), newEvent(other)], 0n);
          await store().append(uniqueStreamId(), [newEvent(wanted)], 'no_stream');
          expect(await store().countAll({ after, eventTypes: [wanted] })).toBe(4);
          expect(await store().countAll({ after: marker.position, eventTypes: [wanted] })).toBe(3);
          expect(await store().countAll({ after, eventTypes: [wanted, other] })).toBe(6);
          expect(await store().countAll({ after, eventTypes: [wanted], limit: 2 })).toBe(2);
          expect(await store().countAll({ after, eventTypes: [wanted], limit: 0 })).toBe(0);
          expect(await store().countAll({ after, eventTypes: [] })).toBe(0);
          expect(await store().countAll({ after, eventTypes: [`Unknown_${tag}`] })).toBe(0);
          // Without types: every event after the position (this test's six are the newest ones here).
          expect(await store().countAll({ after, limit: 6 })).toBe(6);
          expect(await store().countAll({ after: await store().headPosition() })).toBe(0);
        },
        timeout,
      );
    });

    describe('readByCorrelation', () => {
      /**
       * EventStoreDB's `$by_correlation_id` projection links events asynchronously: wait (bounded) for what
       * was appended to show up. The embedded store answers at once.
       */
      async function eventually(
        read: () => Promise<RecordedEvent[]>,
        count: number,
      ): Promise<RecordedEvent[]> {
        const deadline = Date.now() + timeout / 2;
        for (;;) {
          const events = await read();
          if (events.length >= count || Date.now() > deadline) return events;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }

      it(
        'returns every event carrying the correlation id, across streams, in position order, after a position, within a limit',
        async () => {
          const correlationId = `corr-${randomUUID()}`;
          const a = uniqueStreamId();
          const b = uniqueStreamId();
          await store().append(
            a,
            [
              newEvent('Requested', { n: 1 }, { correlationId, causationId: 'request-1', actor: 'u' }),
              newEvent('Unrelated', { n: 0 }, { correlationId: `other-${randomUUID()}` }),
            ],
            'no_stream',
          );
          await store().append(b, [newEvent('Reacted', { n: 2 }, { correlationId })], 'no_stream');
          await store().append(a, [newEvent('Finished', { n: 3 }, { correlationId, causationId: 'x' })], 1n);
          await store().append(b, [newEvent('NoMetadata')], 0n);
          const expected = [...(await store().readStream(a)), ...(await store().readStream(b))]
            .filter((e) => e.metadata.correlationId === correlationId)
            .sort((x, y) => (x.position < y.position ? -1 : 1));
          expect(expected.map((e) => e.data.n)).toEqual([1, 2, 3]);

          // Exactly the recorded events, metadata included (an adapter's own bookkeeping never shows).
          const read = await eventually(() => store().readByCorrelation(correlationId), 3);
          expect(read).toStrictEqual(expected);
          expect(await store().readByCorrelation(correlationId, { limit: 2 })).toStrictEqual(
            expected.slice(0, 2),
          );
          expect(
            await store().readByCorrelation(correlationId, { after: expected[0]!.position }),
          ).toStrictEqual(expected.slice(1));
          expect(
            await store().readByCorrelation(correlationId, { after: expected[0]!.position, limit: 1 }),
          ).toStrictEqual(expected.slice(1, 2));
          expect(await store().readByCorrelation(correlationId, { after: expected[2]!.position })).toEqual(
            [],
          );
          expect(await store().readByCorrelation(correlationId, { limit: 0 })).toEqual([]);
          expect(await store().readByCorrelation(`never-${randomUUID()}`)).toEqual([]);
        },
        timeout,
      );
    });

    describe("positions are the store's", () => {
      it(
        'eventAt answers the event at a position the store handed out, and null before the first',
        async () => {
          const streamId = uniqueStreamId();
          const first = await store().append(streamId, [newEvent('AtFirst', { n: 1 })], 'no_stream');
          const second = await store().append(streamId, [newEvent('AtSecond', { n: 2 })], 0n);
          const [one, two] = await store().readStream(streamId);
          expect(await store().eventAt(first.position)).toStrictEqual(one);
          expect(await store().eventAt(second.position)).toStrictEqual(two);
          expect(await store().eventAt(-1n)).toBeNull();
        },
        timeout,
      );

      it(
        'refuses a position it never handed out with InvalidPositionError, in every call that takes one',
        async () => {
          const streamId = uniqueStreamId();
          const a = await store().append(streamId, [newEvent('Handed')], 'no_stream');
          const b = await store().append(streamId, [newEvent('Handed')], 0n);
          // Never handed out: below -1, and a + 1 — unless this store numbers its events densely and a + 1 is
          // b's own position; then b + 1, past the head. (EventStoreDB: a + 1 lies inside a's record.)
          const invented = [-2n, a.position + 1n === b.position ? b.position + 1n : a.position + 1n];
          for (const bad of invented) {
            await expect(store().readAll({ after: bad })).rejects.toBeInstanceOf(InvalidPositionError);
            await expect(store().readAll({ after: bad, limit: 1 })).rejects.toBeInstanceOf(
              InvalidPositionError,
            );
            await expect(store().readAll({ after: bad, eventTypes: ['Handed'] })).rejects.toBeInstanceOf(
              InvalidPositionError,
            );
            await expect(store().countAll({ after: bad })).rejects.toBeInstanceOf(InvalidPositionError);
            await expect(store().countAll({ after: bad, eventTypes: ['Handed'] })).rejects.toBeInstanceOf(
              InvalidPositionError,
            );
            await expect(store().eventAt(bad)).rejects.toBeInstanceOf(InvalidPositionError);
          }
          await expect(store().readByCorrelation('any', { after: -2n })).rejects.toBeInstanceOf(
            InvalidPositionError,
          );
          // What it handed out is accepted: the events after a are b (and, on a shared server, newer ones).
          expect((await store().readAll({ after: a.position, limit: 1 }))[0]!.position).toBe(b.position);
        },
        timeout,
      );
    });

    describe('headPosition', () => {
      it(
        'is at least the position of the newest append, as a bigint',
        async () => {
          const before = await store().headPosition();
          expect(typeof before).toBe('bigint');
          const result = await store().append(uniqueStreamId(), newEvents(2), 'no_stream');
          const head = await store().headPosition();
          // A shared server may have newer events of other writers: never older than ours.
          expect(head >= result.position).toBe(true);
          expect(head > before).toBe(true);
        },
        timeout,
      );
    });

    describe('streamRevision', () => {
      it(
        'is the revision of the last event, or no_stream',
        async () => {
          const streamId = uniqueStreamId();
          expect(await store().streamRevision(streamId)).toBe('no_stream');
          await store().append(streamId, [newEvent()], 'no_stream');
          expect(await store().streamRevision(streamId)).toBe(0n);
          await store().append(streamId, newEvents(3), 0n);
          expect(await store().streamRevision(streamId)).toBe(3n);
        },
        timeout,
      );
    });

    describe('stream metadata', () => {
      it(
        'maxCount hides older events from readStream, forwards and backwards',
        async () => {
          const streamId = uniqueStreamId();
          const appended = newEvents(5);
          await store().append(streamId, appended, 'no_stream');
          await store().setStreamMetadata(streamId, { maxCount: 2 });

          const forwards = await store().readStream(streamId);
          expect(revisions(forwards)).toEqual([3n, 4n]);
          expect(ids(forwards)).toEqual(ids(appended.slice(3)));
          expect(revisions(await store().readStream(streamId, { direction: 'backwards' }))).toEqual([4n, 3n]);
          expect(revisions(await store().readStream(streamId, { direction: 'backwards', limit: 1 }))).toEqual(
            [4n],
          );
          // Hiding does not rewind the stream: the revision keeps counting.
          expect(await store().streamRevision(streamId)).toBe(4n);
          await store().append(streamId, [newEvent()], 4n);
          expect(revisions(await store().readStream(streamId))).toEqual([4n, 5n]);
        },
        timeout,
      );

      it(
        'maxCount set before the first append caps the stream as it grows',
        async () => {
          const streamId = uniqueStreamId();
          await store().setStreamMetadata(streamId, { maxCount: 3 });
          expect(await store().readStream(streamId)).toEqual([]);
          expect(await store().streamRevision(streamId)).toBe('no_stream');
          await store().append(streamId, newEvents(2), 'no_stream');
          expect(revisions(await store().readStream(streamId))).toEqual([0n, 1n]);
          await store().append(streamId, newEvents(4), 1n);
          expect(revisions(await store().readStream(streamId))).toEqual([3n, 4n, 5n]);
        },
        timeout,
      );

      it(
        'round-trips through getStreamMetadata, and is empty for a stream without metadata',
        async () => {
          const streamId = uniqueStreamId();
          expect(await store().getStreamMetadata(streamId)).toEqual({});
          await store().append(streamId, [newEvent()], 'no_stream');
          expect(await store().getStreamMetadata(streamId)).toEqual({});
          await store().setStreamMetadata(streamId, { maxCount: 7 });
          expect(await store().getStreamMetadata(streamId)).toStrictEqual({ maxCount: 7 });
          await store().setStreamMetadata(streamId, { maxCount: 3 });
          expect(await store().getStreamMetadata(streamId)).toStrictEqual({ maxCount: 3 });
          expect(await store().getStreamMetadata(uniqueStreamId())).toEqual({});
        },
        timeout,
      );
    });

    describe('concurrency', () => {
      it(
        'of 20 parallel appends at the same expected revision exactly one wins',
        async () => {
          const streamId = uniqueStreamId();
          await store().append(streamId, [newEvent('Start')], 'no_stream');
          const batches = Array.from({ length: 20 }, () => newEvents(2, 'Racing'));
          const outcomes = await Promise.allSettled(
            batches.map((batch) => store().append(streamId, batch, 0n)),
          );

          const winners = outcomes.flatMap((o, i) =>
            o.status === 'fulfilled' ? [{ i, result: o.value }] : [],
          );
          expect(winners).toHaveLength(1);
          expect(winners[0]!.result.nextExpectedRevision).toBe(2n);
          const losers = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
          expect(losers).toHaveLength(19);
          for (const reason of losers) {
            expect(reason).toBeInstanceOf(WrongExpectedRevisionError);
            expect((reason as WrongExpectedRevisionError).actual).toBe(2n);
          }

          const read = await store().readStream(streamId);
          expect(read).toHaveLength(3);
          expect(ids(read.slice(1))).toEqual(ids(batches[winners[0]!.i]!));
        },
        timeout,
      );

      it(
        '50 parallel appends to 50 different streams all succeed',
        async () => {
          const streams = Array.from({ length: 50 }, () => uniqueStreamId());
          const events = streams.map(() => newEvent('Parallel'));
          const results = await Promise.all(
            streams.map((s, i) => store().append(s, [events[i]!], 'no_stream')),
          );
          expect(results.every((r) => r.nextExpectedRevision === 0n)).toBe(true);
          expect(new Set(results.map((r) => r.position)).size).toBe(50);
          const reads = await Promise.all(streams.map((s) => store().readStream(s)));
          reads.forEach((read, i) => {
            expect(ids(read)).toEqual([events[i]!.id]);
            expect(read[0]!.position).toBe(results[i]!.position);
          });
        },
        timeout,
      );
    });
  });
}
