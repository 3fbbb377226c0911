import type pg from 'pg';
import {
  PostgresEventStore,
  type PostgresEventStoreOptions,
} from '../../src/event-store/postgres/postgres-event-store.js';
import { appendInTransaction } from '../../src/event-store/postgres/postgres-append.js';
import type { GroupSubscription } from '../../src/event-store/consumer-groups.port.js';
import {
  EventStoreUnavailableError,
  InvalidPositionError,
  type RecordedEvent,
} from '../../src/event-store/event-store.port.js';
import {
  dropSchema,
  postgresHeldAppends,
  postgresUrl,
  probePostgres,
  uniqueSchema,
  withClient,
} from '../support/postgres.js';
import { freePort } from '../support/service-process.js';
import {
  RecordingConsumer,
  describeConsumerGroupContract,
  eventually,
  uniqueGroup,
  uniqueTypes,
} from './consumer-groups.contract.js';
import { newEvent, uniqueStreamId } from './event-store.contract.js';

/**
 * The consumer-group contract against PostgreSQL (POSTGRES_URL, e.g. from scripts/postgres.sh start), then
 * what only PostgreSQL has: leases (one instance delivers a group; another takes over when it dies; groups
 * spread over the live instances), the notification fallback, the schema migration and positions. Every
 * suite works in a schema of its own, dropped at the end.
 */
const url = postgresUrl;
const server = url ? await probePostgres(url) : null;

if (!url) {
  process.stdout.write('PostgreSQL consumer-group contract suite skipped: POSTGRES_URL is not set\n');
  describe('ConsumerGroups contract: PostgreSQL', () => {
    it.skip('needs POSTGRES_URL (e.g. from scripts/postgres.sh start)', () => undefined);
  });
} else if (server) {
  describe('ConsumerGroups contract: PostgreSQL', () => {
    it('reaches the server at POSTGRES_URL', () => {
      throw new Error(`POSTGRES_URL is set but the server does not answer: ${server.error}`);
    });
  });
} else {
  describeConsumerGroupContract('PostgreSQL', async () => {
    const schema = uniqueSchema();
    const store = await PostgresEventStore.connect(url, { schema, instanceId: 'contract', pollMs: 500 });
    return {
      groups: store.consumerGroups,
      store,
      heldAppends: postgresHeldAppends(url, schema),
      cleanup: async () => {
        await store.close();
        await dropSchema(url, schema);
      },
    };
  });
  describePostgresSpecifics(url);
}

function describePostgresSpecifics(url: string): void {
  /** Short leases, so that take-overs happen within a test. */
  const LEASE_MS = 1_500;
  const errors: { instance: string; error: unknown }[] = [];
  let schema: string;
  const open: PostgresEventStore[] = [];
  const subscriptions: GroupSubscription[] = [];

  async function instance(id: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const store = await PostgresEventStore.connect(url, {
      schema,
      instanceId: id,
      leaseMs: LEASE_MS,
      pollMs: 200,
      onError: (_group, error) => errors.push({ instance: id, error }),
      ...options,
    });
    open.push(store);
    return store;
  }

  /** What kill -9 leaves behind: no more queries, no release, no goodbye — only leases left to expire. */
  async function crash(store: PostgresEventStore): Promise<void> {
    await (store as unknown as { pool: pg.Pool }).pool.end();
  }

  async function appendTo(store: PostgresEventStore, type: string, count: number): Promise<RecordedEvent[]> {
    const streamId = uniqueStreamId('leasetest');
    await store.append(
      streamId,
      Array.from({ length: count }, (_, n) => newEvent(type, { n })),
      'no_stream',
    );
    return store.readStream(streamId);
  }

  const until = <T>(assertion: () => T | Promise<T>, ms = 10_000): Promise<T> => eventually(assertion, ms);

  beforeEach(() => {
    schema = uniqueSchema();
    errors.splice(0);
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop().catch(() => undefined)));
    for (const store of open.splice(0)) await store.close().catch(() => undefined);
    await dropSchema(url, schema);
  }, 30_000);

  describe('PostgreSQL consumer groups: leases', () => {
    it('of two instances subscribed to one group, one delivers, and both name it as the owner', async () => {
      const [a, b] = [await instance('instance-a'), await instance('instance-b')];
      const t = uniqueTypes('Leased');
      const group = uniqueGroup();
      const settings = { group, eventTypes: [t.Leased], maxRetries: 3, batchSize: 5 };
      const [onA, onB] = [new RecordingConsumer(), new RecordingConsumer()];
      subscriptions.push(
        a.consumerGroups.subscribeToGroup(settings, onA.handler),
        b.consumerGroups.subscribeToGroup(settings, onB.handler),
      );
      const events = await appendTo(a, t.Leased, 12);
      await until(() =>
        expect([...onA.deliveredIds(), ...onB.deliveredIds()].sort()).toEqual(events.map((e) => e.id).sort()),
      );
      const owner = onA.deliveredIds().length > 0 ? 'instance-a' : 'instance-b';
      expect(owner === 'instance-a' ? onB.deliveredIds() : onA.deliveredIds()).toEqual([]);
      expect((await a.consumerGroups.groupInfo(group)).owner).toBe(owner);
      expect((await b.consumerGroups.groupInfo(group)).owner).toBe(owner);

      // The owner stops (gracefully): the other takes the group over at once and resumes from the checkpoint.
      const [ownerStore, other, otherConsumer] =
        owner === 'instance-a' ? [a, b, onB] : ([b, a, onA] as const);
      await until(async () =>
        expect((await other.consumerGroups.groupInfo(group)).checkpoint).toBe(events[11]!.position),
      );
      const ownerSubscription = subscriptions[owner === 'instance-a' ? 0 : 1]!;
      await ownerSubscription.stop();
      const later = await appendTo(ownerStore, t.Leased, 2);
      await until(() => otherConsumer.expectDelivered(later.map((e) => e.id)), LEASE_MS);
      expect(otherConsumer.deliveredIds()).toEqual(later.map((e) => e.id));
      expect((await ownerStore.consumerGroups.groupInfo(group)).owner).toBe(
        owner === 'instance-a' ? 'instance-b' : 'instance-a',
      );
    });

    it('when the owner dies, another instance takes the group over within the lease and resumes from the checkpoint', async () => {
      const t = uniqueTypes('Failover');
      const group = uniqueGroup();
      const settings = { group, eventTypes: [t.Failover], maxRetries: 3, batchSize: 10 };
      const doomed = await instance('doomed');
      const onDoomed = new RecordingConsumer();
      subscriptions.push(doomed.consumerGroups.subscribeToGroup(settings, onDoomed.handler));
      const before = await appendTo(doomed, t.Failover, 5);
      await until(() => onDoomed.expectDelivered(before.map((e) => e.id)));
      await until(async () =>
        expect((await doomed.consumerGroups.groupInfo(group)).checkpoint).toBe(before[4]!.position),
      );

      const survivor = await instance('survivor');
      const onSurvivor = new RecordingConsumer();
      subscriptions.push(survivor.consumerGroups.subscribeToGroup(settings, onSurvivor.handler));
      // The survivor waits: the lease is the doomed instance's.
      await until(async () => expect((await survivor.consumerGroups.groupInfo(group)).owner).toBe('doomed'));

      const killedAt = Date.now();
      await crash(doomed);
      const after = await appendTo(survivor, t.Failover, 3);
      await until(() => onSurvivor.expectDelivered(after.map((e) => e.id)), LEASE_MS * 3);
      const takeoverMs = Date.now() - killedAt;
      // Within the lease (plus a moment for a busy two-core machine to notice and read).
      expect(takeoverMs).toBeLessThan(LEASE_MS + 1_000);
      expect(onSurvivor.deliveredIds()).toEqual(after.map((e) => e.id));
      expect((await survivor.consumerGroups.groupInfo(group)).owner).toBe('survivor');
      expect(onDoomed.deliveredIds()).not.toContain(after[0]!.id);
    });

    it('a lease taken by another instance stops delivery: the batch in flight is not settled, nothing more is delivered', async () => {
      const store = await instance('holder');
      const t = uniqueTypes('Stolen');
      const group = uniqueGroup();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      const seen: string[] = [];
      subscriptions.push(
        store.consumerGroups.subscribeToGroup(
          { group, eventTypes: [t.Stolen], maxRetries: 3, batchSize: 10 },
          async (batch) => {
            seen.push(...batch.map((d) => d.event.id));
            entered();
            await gate;
            return batch.map(() => ({ action: 'ack' }));
          },
        ),
      );
      const [held] = await appendTo(store, t.Stolen, 1);
      await inHandler;
      await withClient(url, (client) =>
        client.query(
          `UPDATE ${schema}.consumer_leases SET owner = 'intruder', expires_at = clock_timestamp() + interval '1 hour'
           WHERE grp = $1`,
          [group],
        ),
      );
      release();
      const later = await appendTo(store, t.Stolen, 2);
      await until(async () => expect((await store.consumerGroups.groupInfo(group)).owner).toBe('intruder'));
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(seen).toEqual([held!.id]);
      expect((await store.consumerGroups.groupInfo(group)).checkpoint).toBeNull();

      // The intruder goes away: the holder takes the lease back and delivers everything, the held batch again.
      await withClient(url, (client) =>
        client.query(
          `UPDATE ${schema}.consumer_leases SET owner = NULL, expires_at = clock_timestamp() WHERE grp = $1`,
          [group],
        ),
      );
      await until(() => expect(seen).toEqual([held!.id, held!.id, ...later.map((e) => e.id)]));
    });

    it('spreads groups over the live instances, at most ceil(groups / instances) each, and the others take over a leaving instance’s groups', async () => {
      const t = uniqueTypes('Spread');
      const groups = Array.from({ length: 6 }, () => uniqueGroup());
      const instances = [await instance('spread-1'), await instance('spread-2'), await instance('spread-3')];
      for (const store of instances) {
        for (const group of groups) {
          subscriptions.push(
            store.consumerGroups.subscribeToGroup(
              { group, eventTypes: [t.Spread], maxRetries: 1, batchSize: 10 },
              async (batch) => batch.map(() => ({ action: 'ack' })),
            ),
          );
        }
      }
      const owners = async (): Promise<Map<string | null, number>> => {
        const counts = new Map<string | null, number>();
        for (const group of groups) {
          const { owner } = await instances[0]!.consumerGroups.groupInfo(group);
          counts.set(owner, (counts.get(owner) ?? 0) + 1);
        }
        return counts;
      };
      await until(async () =>
        expect(Object.fromEntries(await owners())).toEqual({ 'spread-1': 2, 'spread-2': 2, 'spread-3': 2 }),
      );
      // Every group delivers, whoever owns it.
      const [event] = await appendTo(instances[0]!, t.Spread, 1);
      await until(async () => {
        for (const group of groups) {
          expect((await instances[1]!.consumerGroups.groupInfo(group)).checkpoint).toBe(event!.position);
        }
      });

      // One leaves (closing releases its leases): the two others take three each.
      await instances[2]!.close();
      await until(async () =>
        expect(Object.fromEntries(await owners())).toEqual({ 'spread-1': 3, 'spread-2': 3 }),
      );
      // One dies: the last takes all six once the dead one's leases expire.
      await crash(instances[1]!);
      await until(
        async () => expect(Object.fromEntries(await owners())).toEqual({ 'spread-1': 6 }),
        LEASE_MS * 4,
      );
    }, 60_000);

    it('delivers nothing under an INSTANCE_ID that another live process uses, and says so', async () => {
      const first = await instance('same-id');
      const second = await instance('same-id');
      const t = uniqueTypes('Twice');
      const group = uniqueGroup();
      const settings = { group, eventTypes: [t.Twice], maxRetries: 1, batchSize: 10 };
      const [one, two] = [new RecordingConsumer(), new RecordingConsumer()];
      subscriptions.push(first.consumerGroups.subscribeToGroup(settings, one.handler));
      await until(async () => expect((await first.consumerGroups.groupInfo(group)).owner).toBe('same-id'));
      subscriptions.push(second.consumerGroups.subscribeToGroup(settings, two.handler));
      const events = await appendTo(first, t.Twice, 3);
      await until(() => one.expectDelivered(events.map((e) => e.id)));
      await until(() =>
        expect(errors.map((e) => String(e.error))).toEqual(
          expect.arrayContaining([
            expect.stringContaining('INSTANCE_ID same-id is in use by another live process'),
          ]),
        ),
      );
      expect(two.deliveries).toEqual([]);
    });
  });

  describe('PostgreSQL consumer groups: notifications', () => {
    it('without a notification (it was lost), the poll still delivers', async () => {
      const store = await instance('poller', { pollMs: 300 });
      const t = uniqueTypes('Unannounced');
      const consumer = new RecordingConsumer();
      subscriptions.push(
        store.consumerGroups.subscribeToGroup(
          { group: uniqueGroup(), eventTypes: [t.Unannounced], maxRetries: 1, batchSize: 10 },
          consumer.handler,
        ),
      );
      const [warm] = await appendTo(store, t.Unannounced, 1);
      await until(() => consumer.expectDelivered([warm!.id]));
      // Appended exactly as the store appends, but notifying a channel nobody listens to.
      const quiet = newEvent(t.Unannounced);
      await withClient(url, async (client) => {
        await client.query(`SET search_path TO ${schema}`);
        await client.query('BEGIN');
        await appendInTransaction(
          client,
          uniqueStreamId('leasetest'),
          [quiet],
          'no_stream',
          'nobody_listens',
        );
        await client.query('COMMIT');
      });
      await until(() => consumer.expectDelivered([quiet.id]), 2_000);
    });
  });

  describe('PostgreSQL event store: schema, positions, failures', () => {
    it('several instances starting at once create the schema once, and all start', async () => {
      const stores = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          PostgresEventStore.connect(url, { schema, instanceId: `start-${i}` }),
        ),
      );
      open.push(...stores);
      const results = await Promise.all(
        stores.map((store) => store.append(uniqueStreamId(), [newEvent('Started')], 'no_stream')),
      );
      expect(new Set(results.map((r) => r.position)).size).toBe(4);
      const version = await withClient(url, (client) =>
        client.query<{ value: string }>(
          `SELECT value::text FROM ${schema}.ordertrail_meta WHERE key = 'schema_version'`,
        ),
      );
      expect(version.rows).toEqual([{ value: '1' }]);
    });

    it('after a restore into a cluster whose transaction ids are lower, new positions stay above the stored ones', async () => {
      const first = await instance('before-restore');
      const old = await first.append(uniqueStreamId(), [newEvent('Old')], 'no_stream');
      await first.close();
      // As if the database now ran in a cluster 10 million transactions younger.
      await withClient(url, (client) =>
        client.query(
          `UPDATE ${schema}.ordertrail_meta SET value = value - 10000000 WHERE key = 'xid_offset'`,
        ),
      );
      const restored = await instance('after-restore');
      const fresh = await restored.append(uniqueStreamId(), [newEvent('New')], 'no_stream');
      expect(fresh.position > old.position).toBe(true);
      const all = await restored.readAll();
      expect(all.map((e) => e.type)).toEqual(['Old', 'New']);
    });

    it('refuses positions it never handed out', async () => {
      const store = await instance('positions');
      const { position } = await store.append(uniqueStreamId(), [newEvent('Placed')], 'no_stream');
      for (const wrong of [position + 1n, position - 1n, 0n, -2n]) {
        await expect(store.readAll({ after: wrong })).rejects.toBeInstanceOf(InvalidPositionError);
        await expect(store.countAll({ after: wrong })).rejects.toBeInstanceOf(InvalidPositionError);
        await expect(store.readByCorrelation('x', { after: wrong })).rejects.toBeInstanceOf(
          InvalidPositionError,
        );
        await expect(store.eventAt(wrong)).rejects.toBeInstanceOf(InvalidPositionError);
      }
      expect(await store.readAll({ after: -1n })).toHaveLength(1);
      expect(await store.readAll({ after: position })).toEqual([]);
      expect((await store.eventAt(position))?.type).toBe('Placed');
      expect(await store.eventAt(-1n)).toBeNull();
    });

    it('answers EventStoreUnavailableError when the server cannot be reached', async () => {
      const port = await freePort(); // free, so nothing answers there
      await expect(
        PostgresEventStore.connect(`postgres://postgres@127.0.0.1:${port}/nothing`, {
          connectTimeoutMs: 1_000,
        }),
      ).rejects.toBeInstanceOf(EventStoreUnavailableError);

      const store = await instance('cut-off');
      await crash(store);
      await expect(store.append(uniqueStreamId(), [newEvent('Lost')], 'no_stream')).rejects.toBeInstanceOf(
        EventStoreUnavailableError,
      );
      await expect(store.readAll()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await expect(store.consumerGroups.groupInfo(uniqueGroup())).rejects.toBeInstanceOf(
        EventStoreUnavailableError,
      );
    });
  });
}
