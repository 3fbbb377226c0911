import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../src/shared/infrastructure/sqlite.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import {
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
} from '../../src/event-store/event-store.port.js';
import { describeEventStoreContract, newEvent, newEvents, uniqueStreamId } from './event-store.contract.js';

describeEventStoreContract(
  'embedded SQLite',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ordertrail-contract-'));
    const store = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { tellsDuplicates: true },
);

describe('EmbeddedEventStore (SQLite file specifics)', () => {
  let dir: string;
  const open: EmbeddedEventStore[] = [];
  const openStore = (file = join(dir, 'events.sqlite')): EmbeddedEventStore => {
    const store = new EmbeddedEventStore(file);
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-embedded-'));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps events and stream metadata across close and reopen of the same file', async () => {
    const file = join(dir, 'nested', 'deeper', 'events.sqlite');
    const first = openStore(file);
    const streamId = uniqueStreamId();
    const capped = uniqueStreamId();
    const events = newEvents(3);
    const appended = await first.append(streamId, events, 'no_stream');
    await first.append(capped, newEvents(4), 'no_stream');
    await first.setStreamMetadata(capped, { maxCount: 2 });
    const before = await first.readStream(streamId);
    await first.close();

    const second = openStore(file);
    expect(await second.readStream(streamId)).toStrictEqual(before);
    expect(await second.streamRevision(streamId)).toBe(2n);
    expect(await second.getStreamMetadata(capped)).toStrictEqual({ maxCount: 2 });
    expect((await second.readStream(capped)).map((e) => e.revision)).toEqual([2n, 3n]);
    // Concurrency checks and positions carry on where they stopped.
    await expect(second.append(streamId, [newEvent()], 0n)).rejects.toBeInstanceOf(
      WrongExpectedRevisionError,
    );
    const next = await second.append(streamId, [newEvent()], 2n);
    expect(next.nextExpectedRevision).toBe(3n);
    expect(next.position > appended.position).toBe(true);
    // An idempotent retry is still recognised after the restart.
    const retry = await second.append(streamId, events, 'no_stream');
    expect(retry.nextExpectedRevision).toBe(2n);
    expect(await second.readStream(streamId)).toHaveLength(4);
  });

  it('runs SQLite in WAL mode with synchronous=FULL', async () => {
    const file = join(dir, 'events.sqlite');
    const store = openStore(file);
    await store.append(uniqueStreamId(), [newEvent()], 'no_stream');

    // The store's own connection (synchronous is a per-connection setting): 2 = FULL.
    const own = (store as unknown as { db: Database.Database }).db;
    expect(own.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(own.pragma('synchronous', { simple: true })).toBe(2);

    // WAL is recorded in the file itself: another connection sees it too.
    const raw = openSqlite(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('group commit: of appends issued in the same tick only the wrong one fails, the others commit', async () => {
    const store = openStore();
    const streams = Array.from({ length: 10 }, () => uniqueStreamId());
    for (const s of streams) await store.append(s, [newEvent('Start')], 'no_stream');
    const commits: bigint[] = [];
    store.onAppended((position) => commits.push(position));

    // All issued synchronously, in one event-loop turn: one batch, one transaction.
    const batches = streams.map(() => newEvents(2, 'Grouped'));
    const outcomes = await Promise.allSettled(
      streams.map((s, i) => store.append(s, batches[i]!, i === 4 ? 7n : 0n)),
    );

    outcomes.forEach((outcome, i) => {
      if (i === 4) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as unknown;
        expect(reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect((reason as WrongExpectedRevisionError).actual).toBe(0n);
      } else {
        expect(outcome.status).toBe('fulfilled');
        expect((outcome as PromiseFulfilledResult<AppendResult>).value.nextExpectedRevision).toBe(2n);
      }
    });
    for (const [i, s] of streams.entries()) {
      const read = await store.readStream(s);
      if (i === 4) expect(read.map((e) => e.type)).toEqual(['Start']);
      else expect(read.slice(1).map((e) => e.id)).toEqual(batches[i]!.map((e) => e.id));
    }
    // One committed batch: a single notification, with the position of its last event.
    const positions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.position] : []));
    expect(commits).toEqual([positions.reduce((max, p) => (p > max ? p : max))]);
  });

  it('a failure inside a batch rolls back that append only, even after some of its events were inserted', async () => {
    const store = openStore();
    const taken = newEvent('Taken');
    await store.append(uniqueStreamId(), [taken], 'no_stream');
    const good = uniqueStreamId();
    const bad = uniqueStreamId();
    const orphan = newEvent('First');
    const [badOutcome, goodOutcome] = await Promise.allSettled([
      // Its second event reuses an id of another stream: the unique index fails mid-append.
      store.append(bad, [orphan, { ...newEvent('Second'), id: taken.id }], 'no_stream'),
      store.append(good, [newEvent()], 'no_stream'),
    ]);
    expect(badOutcome.status).toBe('rejected');
    expect(goodOutcome.status).toBe('fulfilled');
    expect(await store.readStream(bad)).toEqual([]);
    expect(await store.streamRevision(bad)).toBe('no_stream');
    expect(await store.readStream(good)).toHaveLength(1);
    // The event inserted before the failure was rolled back too: not in $all, and its id is free again.
    const all = await store.readAll();
    expect(all.map((e) => e.id)).not.toContain(orphan.id);
    expect(all.map((e) => e.streamId)).not.toContain(bad);
    await expect(store.append(bad, [orphan], 'no_stream')).resolves.toMatchObject({
      nextExpectedRevision: 0n,
    });
  });

  it('onAppended fires after each committed batch with its last position, and can be unsubscribed', async () => {
    const store = openStore();
    const seen: bigint[] = [];
    const off = store.onAppended((position) => seen.push(position));

    const one = await store.append(uniqueStreamId(), newEvents(3), 'no_stream');
    expect(seen).toEqual([one.position]);

    const streamId = uniqueStreamId();
    await store.append(streamId, [newEvent()], 'no_stream');
    await expect(store.append(streamId, [newEvent()], 'no_stream')).rejects.toBeInstanceOf(
      WrongExpectedRevisionError,
    );
    // A batch that committed nothing notifies nothing.
    expect(seen).toHaveLength(2);

    off();
    await store.append(uniqueStreamId(), [newEvent()], 'no_stream');
    expect(seen).toHaveLength(2);
  });

  it('reads by correlation id through an index (built on first start over an older file too)', async () => {
    const file = join(dir, 'events.sqlite');
    const first = openStore(file);
    const correlationId = `corr-${randomUUID()}`;
    await first.append(uniqueStreamId(), [newEvent('A', {}, { correlationId })], 'no_stream');
    await first.close();
    // A file written before the index existed: drop it, as if it never had one.
    const raw = openSqlite(file);
    raw.exec('DROP INDEX events_by_correlation');
    raw.close();

    const reopened = openStore(file);
    await reopened.append(uniqueStreamId(), [newEvent('B', {}, { correlationId })], 'no_stream');
    expect((await reopened.readByCorrelation(correlationId)).map((e) => e.type)).toEqual(['A', 'B']);
    const db = (reopened as unknown as { db: Database.Database }).db;
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT event_id, data FROM events WHERE json_extract(metadata, '$.correlationId') = ? AND position > ? ORDER BY position ASC LIMIT ?`,
      )
      .all(correlationId, 0, 10) as { detail: string }[];
    expect(plan.map((row) => row.detail).join(' | ')).toMatch(
      /SEARCH events USING INDEX events_by_correlation/,
    );
  });

  it('close commits appends still queued; appends after close reject with EventStoreUnavailableError', async () => {
    const file = join(dir, 'events.sqlite');
    const store = openStore(file);
    const streamId = uniqueStreamId();
    const pending = store.append(streamId, [newEvent()], 'no_stream');
    await store.close();
    expect((await pending).nextExpectedRevision).toBe(0n);

    await expect(store.append(streamId, [newEvent()], 0n)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await store.close(); // closing twice is harmless

    const reopened = openStore(file);
    expect(await reopened.streamRevision(streamId)).toBe(0n);
  });
});
