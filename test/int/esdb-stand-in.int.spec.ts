import esdb from '@eventstore/db-client';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_CONFIG } from '../../src/config/app-config.js';
import { EventStoreModule } from '../../src/event-store/event-store.module.js';
import type { DeliveredEvent } from '../../src/event-store/consumer-groups.port.js';
import { AppendTooLargeError, DeletedStreamError } from '../../src/event-store/esdb/esdb-errors.js';
import { EsdbEventStore } from '../../src/event-store/esdb/esdb-event-store.js';
import { UnsupportedServerError } from '../../src/event-store/esdb/esdb-server.js';
import {
  EventStoreUnavailableError,
  InvalidPositionError,
  WrongExpectedRevisionError,
} from '../../src/event-store/event-store.port.js';
import { toProblem } from '../../src/shared/http/problem-mapper.js';
import { eventually } from '../contract/consumer-groups.contract.js';
import { newEvent } from '../contract/event-store.contract.js';
import { EsdbStandIn, type StoredRecord } from '../support/esdb-stand-in.js';

const { EventStoreDBClient, BACKWARDS, END } = esdb;

/**
 * The EventStoreDB adapter and the real client (@eventstore/db-client 6.2.1) against a gRPC STAND-IN served
 * in this process from the client's own service definitions (test/support/esdb-stand-in.ts). What is proven
 * here is our use of the client — reads that end or are cancelled, records skipped before decoding,
 * deadlines, error mapping, acks before the cancel — not the server's behaviour, which the contract suites
 * check against a real server (CI). Numbers refer to the findings in docs/eventstoredb.md.
 */
describe('EventStoreDB adapter + client 6.2.1 against a gRPC stand-in (not a server)', () => {
  let standIn: EsdbStandIn;
  const stores: EsdbEventStore[] = [];
  const open = (
    query = '',
    options: ConstructorParameters<typeof EsdbEventStore>[1] = {},
  ): EsdbEventStore => {
    const store = new EsdbEventStore(standIn.connectionString(query), options);
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    standIn = await EsdbStandIn.start();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await standIn.close();
  });

  describe('1. streaming reads end or are cancelled: the connection never wedges', () => {
    it('the stand-in reproduces the wedge with the client alone: reads left early hold every stream, the 101st waits', async () => {
      // Large records: flow control holds each abandoned read after a few of them.
      standIn.fill(400, 8_000);
      const client = EventStoreDBClient.connectionString(standIn.connectionString());
      try {
        for (let n = 0; n < 100; n++) {
          // What the adapter used to do: no maxCount, leave after the first record.
          for await (const _ of client.readAll({ direction: BACKWARDS, fromPosition: END })) break;
        }
        await eventually(() => expect(standIn.openReads).toBe(100), 5_000);
        const next = client.readAll({ maxCount: 1 });
        const answered = (async () => {
          for await (const _ of next) return 'answered';
          return 'ended';
        })();
        const outcome = await Promise.race([
          answered,
          new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1_000)),
        ]);
        expect(outcome).toBe('still waiting');
      } finally {
        await client.dispose();
      }
    }, 30_000);

    it('150 headPosition and 150 readAll({ limit: 1 }) calls all finish, and leave no stream open', async () => {
      standIn.fill(3_000);
      const store = open();
      const head = standIn.log[standIn.log.length - 1]!.position;
      for (let n = 0; n < 150; n++) {
        expect(await store.headPosition()).toBe(head);
        const [first] = await store.readAll({ limit: 1 });
        expect(first!.position).toBe(standIn.log[0]!.position);
      }
      await eventually(() => expect(standIn.openReads).toBe(0), 5_000);
    }, 60_000);

    it('a read that stops early (limit reached, events of one type counted) is ended on the server', async () => {
      standIn.fill(2_000);
      const store = open();
      expect(await store.readAll({ limit: 700 })).toHaveLength(700);
      expect(await store.countAll({ limit: 10 })).toBe(10);
      expect(await store.countAll({ eventTypes: ['Filler'], limit: 10 })).toBe(10);
      expect(await store.readAll({ eventTypes: ['Filler'], limit: 3 })).toHaveLength(3);
      await eventually(() => expect(standIn.openReads).toBe(0), 5_000);
    }, 30_000);
  });

  describe('2. system records in $all are skipped before anything is decoded', () => {
    let a: StoredRecord;
    let b: StoredRecord;
    beforeEach(() => {
      a = standIn.append('cart-1', [{ type: 'ItemAdded', data: { n: 1 } }])[0]!;
      // A projection's link: data `0@cart-1`, not JSON.
      standIn.link('$ce-cart', a);
      standIn.append('$stats-127.0.0.1:2113', [{ type: '$statistics-collected', data: { cpu: 1 } }]);
      b = standIn.append('cart-2', [{ type: 'ItemAdded', data: { n: 2 } }])[0]!;
      standIn.link('$et-ItemAdded', b);
    });

    it('readAll, countAll and headPosition see only the application events', async () => {
      const store = open();
      const all = await store.readAll();
      expect(all.map((e) => [e.streamId, e.data])).toEqual([
        ['cart-1', { n: 1 }],
        ['cart-2', { n: 2 }],
      ]);
      expect(await store.readAll({ after: a.position })).toHaveLength(1);
      expect(await store.countAll()).toBe(2);
      expect(await store.headPosition()).toBe(b.position);
      expect(await store.eventAt(standIn.log[1]!.position)).toBeNull(); // the link itself
    });

    it('readByCorrelation resolves `$bc-` links and pages without re-reading the stream from its start', async () => {
      const targets = standIn.append(
        'order-1',
        Array.from({ length: 300 }, (_, n) => ({
          type: 'Step',
          data: { n },
          metadata: { correlationId: 'c-1' },
        })),
      );
      for (const target of targets) standIn.link('$bc-c-1', target);
      const store = open();
      const sentBefore = standIn.recordsSent;
      const seen: number[] = [];
      let after = -1n;
      for (;;) {
        const page = await store.readByCorrelation('c-1', { after, limit: 10 });
        if (page.length === 0) break;
        seen.push(...page.map((e) => e.data['n'] as number));
        after = page[page.length - 1]!.position;
      }
      expect(seen).toEqual(targets.map((_, n) => n));
      // 31 pages of ≤ 18 links plus a binary search of ≤ 9 probes each: far from 300 × 31 / 2.
      expect(standIn.recordsSent - sentBefore).toBeLessThan(31 * (18 + 9 * 8 + 1));
    }, 30_000);
  });

  describe('3. positions are record boundaries', () => {
    it('a position inside a record is refused as the caller’s mistake (400), not a server failure', async () => {
      const [a] = standIn.append('cart-1', [{ type: 'ItemAdded', data: { n: 1 } }]);
      standIn.append('cart-1', [{ type: 'ItemAdded', data: { n: 2 } }]);
      const store = open();
      for (const call of [
        () => store.readAll({ after: a!.position + 1n }),
        () => store.readAll({ after: a!.position + 1n, eventTypes: ['ItemAdded'] }),
        () => store.countAll({ after: a!.position + 1n }),
        () => store.eventAt(a!.position + 1n),
      ]) {
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(InvalidPositionError);
        expect(toProblem(error).body.status).toBe(400);
      }
      expect((await store.eventAt(a!.position))?.data).toEqual({ n: 1 });
    });
  });

  describe('10. deadlines of our own on streaming reads and appends', () => {
    it('a read or an append the server never answers fails as unavailable after the deadline', async () => {
      const store = open('', { deadlineMs: 300 });
      await store.append('cart-1', [newEvent()], 'no_stream');
      standIn.hangReads = true;
      standIn.hangAppends = true;
      const started = Date.now();
      for (const call of [
        () => store.readStream('cart-1'),
        () => store.readAll({ limit: 1 }),
        () => store.headPosition(),
        () => store.readAll({ eventTypes: ['X'] }),
        () => store.append('cart-1', [newEvent()], 0n),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      }
      expect(Date.now() - started).toBeLessThan(10_000);
      // The reads given up were cancelled: the server holds no stream for them.
      await eventually(() => expect(standIn.openReads).toBe(0), 5_000);
    }, 20_000);

    it('takes the connection string’s defaultDeadline', async () => {
      const store = open('defaultDeadline=250');
      standIn.hangReads = true;
      const started = Date.now();
      await expect(store.readStream('cart-1')).rejects.toThrow(/within 250 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });

  describe('11. errors the client reports as generic ones are mapped', () => {
    it('not ready and busy, on reads and inside a batch append, are unavailable (503)', async () => {
      const store = open();
      standIn.readFault = { code: 14, details: 'Server Is Not Ready' };
      await expect(store.readStream('cart-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
      standIn.readFault = null;
      for (const message of ['Server Is Not Ready', 'Server Is Busy']) {
        standIn.appendFault = { message };
        const error = await store.append('cart-1', [newEvent()], 'any').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventStoreUnavailableError);
        expect(toProblem(error).body.status).toBe(503);
      }
    });

    it('access denied says which rights are missing (503), a too large append is 413, a deleted stream 409', async () => {
      const store = open();
      standIn.readFault = { code: 7, details: 'Access Denied', exception: 'access-denied' };
      const denied = await store.readAll({ limit: 1 }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(EventStoreUnavailableError);
      expect(String(denied)).toMatch(/denied access to \$all.*admin rights/);
      standIn.readFault = null;

      standIn.appendFault = {
        message: 'Maximum Append Size of 1048576 Exceeded.',
        detailsType: 'MaximumAppendSizeExceeded',
      };
      const tooLarge = await store.append('cart-1', [newEvent()], 'any').catch((e: unknown) => e);
      expect(tooLarge).toBeInstanceOf(AppendTooLargeError);
      expect(toProblem(tooLarge).body.status).toBe(413);

      standIn.appendFault = { message: 'deleted', detailsType: 'StreamDeleted' };
      const deleted = await store.append('cart-1', [newEvent()], 'any').catch((e: unknown) => e);
      expect(deleted).toBeInstanceOf(DeletedStreamError);
      expect(toProblem(deleted).body.status).toBe(409);
    });

    it('a wrong expected version is still the port’s conflict', async () => {
      const store = open();
      await store.append('cart-1', [newEvent()], 'no_stream');
      await expect(store.append('cart-1', [newEvent()], 'no_stream')).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
    });
  });

  describe('14. stream metadata', () => {
    it('setStreamMetadata changes $maxCount and keeps truncation, ACLs and anything else', async () => {
      standIn.append('$$cart-1', [
        { type: '$metadata', data: { $tb: 3, $acl: { $r: '$admins' }, owner: 'ops' } },
      ]);
      const store = open();
      await store.setStreamMetadata('cart-1', { maxCount: 5 });
      const written = standIn.stream('$$cart-1');
      expect(written).toHaveLength(2);
      expect(JSON.parse(written[1]!.data.toString())).toEqual({
        $tb: 3,
        $acl: { $r: '$admins' },
        owner: 'ops',
        $maxCount: 5,
      });
      expect(await store.getStreamMetadata('cart-1')).toEqual({ maxCount: 5 });
      await store.setStreamMetadata('cart-1', {});
      expect(JSON.parse(standIn.stream('$$cart-1')[2]!.data.toString())).toEqual({
        $tb: 3,
        $acl: { $r: '$admins' },
        owner: 'ops',
      });
    });
  });

  describe('4, 6. the server version is checked at start', () => {
    it.each([
      ['23.4.1', 'RoundRobin', /too old/],
      ['24.10.13', 'Pinned', /24\.10\.14/],
      ['0.0.0', 'Pinned', /no version/],
    ] as const)(
      '%s with %s groups is refused with a message that says why',
      async (version, strategy, message) => {
        standIn.serverVersion = version;
        const store = open('', { consumerStrategy: strategy });
        const error = await store.checkServer().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedServerError);
        expect(String(error)).toMatch(message);
      },
    );

    it.each([
      ['24.10.13', 'RoundRobin', true],
      ['24.10.14', 'Pinned', true],
      ['0.0.0', 'RoundRobin', false],
    ] as const)('%s with %s groups is accepted', async (version, strategy, known) => {
      standIn.serverVersion = version;
      expect(await open('', { consumerStrategy: strategy }).checkServer()).toEqual({ version, known });
    });

    it('the service does not start on a server it refuses, and starts on 24.10', async () => {
      const boot = async () => {
        const config = {
          provide: APP_CONFIG,
          useValue: { eventStore: { kind: 'esdb', connectionString: standIn.connectionString() } },
        };
        const app = await Test.createTestingModule({
          imports: [
            { module: class ConfigOfTest {}, global: true, providers: [config], exports: [APP_CONFIG] },
            EventStoreModule,
          ],
        })
          .setLogger(new Logger())
          .compile();
        await app.close();
      };
      standIn.serverVersion = '23.4.1';
      await expect(boot()).rejects.toThrow(/EventStoreDB 23\.4\.1 is too old: this service needs 23\.10/);
      standIn.serverVersion = '24.10.14';
      await expect(boot()).resolves.toBeUndefined();
    });

    it('no consumer group is created on a server refused for Pinned', async () => {
      standIn.serverVersion = '24.10.2';
      const errors: unknown[] = [];
      const store = open('', {
        consumerStrategy: 'Pinned',
        onGroupError: (_group, error) => errors.push(error),
        reconnectBackoff: { baseMs: 50, maxMs: 50 },
      });
      const subscription = store.consumerGroups.subscribeToGroup(
        { group: 'projection-x', eventTypes: ['ItemAdded'], maxRetries: 3, batchSize: 10 },
        async (batch) => batch.map(() => ({ action: 'ack' })),
      );
      await eventually(() => expect(errors.length).toBeGreaterThan(0), 5_000);
      await subscription.stop();
      expect(errors[0]).toBeInstanceOf(UnsupportedServerError);
      expect(standIn.groups.size).toBe(0);
    });
  });

  describe('5, 7, 8, 9. consumer groups through the client', () => {
    const settings = { group: 'projection-carts', eventTypes: ['ItemAdded'], maxRetries: 3, batchSize: 10 };

    async function subscribed(seen: DeliveredEvent[]) {
      const store = open();
      const subscription = store.consumerGroups.subscribeToGroup(settings, async (batch) => {
        seen.push(...batch);
        return batch.map(() => ({ action: 'ack' }));
      });
      await eventually(() => expect(standIn.subscribers).toHaveLength(1), 5_000);
      return { store, subscription, subscriber: standIn.subscribers[0]! };
    }

    it('creates the group under a name that holds its settings, RoundRobin, with retry and timeout allowances', async () => {
      await subscribed([]);
      const [group] = [...standIn.groups.values()];
      expect(group!.name).toMatch(/^projection-carts--[0-9a-f]{10}$/);
      expect(group).toMatchObject({ strategy: 'RoundRobin', maxRetryCount: 13, messageTimeoutMs: 120_000 });
      expect(group!.filter).toBe('^(?:ItemAdded)$');
    });

    it('a replayed parked event keeps its own position, not the link’s the server sends on both records', async () => {
      const seen: DeliveredEvent[] = [];
      const { subscriber } = await subscribed(seen);
      const [event] = standIn.append('cart-7', [{ type: 'ItemAdded', data: { n: 7 } }]);
      const link = standIn.link(`$persistentsubscription-$all::${subscriber.group}-parked`, event!);
      standIn.push(subscriber.group, event!, { link });
      await eventually(() => expect(seen).toHaveLength(1), 5_000);
      expect(seen[0]!.event.position).toBe(event!.position);
      expect(seen[0]!.event.position).not.toBe(link.position);
      // Acknowledged by the link's id: what the server tracks a replayed event by.
      await eventually(() => expect(subscriber.received).toEqual([`ack:${link.id}`]), 5_000);
    });

    it('stop() lets the last acks out before the half-close and the cancel', async () => {
      const seen: DeliveredEvent[] = [];
      const { subscription, subscriber } = await subscribed(seen);
      const events = standIn.append(
        'cart-8',
        Array.from({ length: 5 }, (_, n) => ({ type: 'ItemAdded', data: { n } })),
      );
      for (const event of events) standIn.push(subscriber.group, event);
      await eventually(() => expect(seen).toHaveLength(5), 5_000);
      await subscription.stop();
      await eventually(() => expect(subscriber.received).toContain('cancel'), 5_000);
      expect(subscriber.received).toEqual([...events.map((e) => `ack:${e.id}`), 'half-close', 'cancel']);
    });
  });
});
