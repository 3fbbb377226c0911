import { createServer } from 'node:net';
import { EsdbEventStore } from '../../src/event-store/esdb/esdb-event-store.js';
import { EventStoreUnavailableError } from '../../src/event-store/event-store.port.js';
import { describeConsumerGroupContract, eventually, uniqueGroup } from './consumer-groups.contract.js';

/**
 * The consumer-group contract against a real EventStoreDB (24.10; persistent subscriptions to $all need
 * 21.10+, positions on events 22.6+, `caughtUp` 23.10+), e.g.
 * EVENTSTORE_CONNECTION_STRING=esdb://localhost:2113?tls=false with the docker-compose service. Every test
 * uses groups, streams and event types of its own, so a shared server is fine. Reading parked events needs a
 * user allowed to read system streams (insecure mode, or admin credentials in the connection string).
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  describeConsumerGroupContract(
    'EventStoreDB',
    async () => {
      const store = new EsdbEventStore(connectionString, {
        reconnectBackoff: { baseMs: 100, maxMs: 2_000 },
      });
      return { groups: store.consumerGroups, store, cleanup: () => store.close() };
    },
    // The server checkpoints a group at most every second, and a new group first scans $all from the start.
    { timeoutMs: 60_000, waitMs: 20_000, promptMs: 1_000 },
  );
} else {
  process.stdout.write(
    'EventStoreDB consumer-group contract suite skipped: EVENTSTORE_CONNECTION_STRING is not set\n',
  );
  describe('ConsumerGroups contract: EventStoreDB', () => {
    it.skip('needs EVENTSTORE_CONNECTION_STRING (e.g. esdb://localhost:2113?tls=false)', () => undefined);
  });
}

/** A local port that refuses connections: bound once to get a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return address.port;
}

/**
 * Needs no server: the real client against a port that refuses connections. The consumer-group calls report
 * EventStoreUnavailableError like the rest of the adapter, and a group subscription keeps trying (with
 * backoff, reporting each failure) until it is stopped.
 */
describe('EsdbConsumerGroups when EventStoreDB cannot be reached', () => {
  let store: EsdbEventStore;
  const errors: unknown[] = [];
  beforeAll(async () => {
    store = new EsdbEventStore(`esdb://127.0.0.1:${await closedPort()}?tls=false&defaultDeadline=3000`, {
      reconnectBackoff: { baseMs: 20, maxMs: 100 },
      onGroupError: (_group, error) => errors.push(error),
    });
  });
  afterAll(async () => {
    await store.close();
  });

  const calls: [string, (s: EsdbEventStore) => Promise<unknown>][] = [
    ['headPosition', (s) => s.headPosition()],
    ['readAll by event type', (s) => s.readAll({ eventTypes: ['Anything'], limit: 1 })],
    ['listParked', (s) => s.consumerGroups.listParked(uniqueGroup())],
    ['replayParked', (s) => s.consumerGroups.replayParked(uniqueGroup())],
    ['groupInfo', (s) => s.consumerGroups.groupInfo(uniqueGroup())],
  ];

  it.each(calls)(
    '%s rejects with EventStoreUnavailableError',
    async (_name, call) => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await call(store).then(
          () => new Error('resolved although the server is unreachable'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(EventStoreUnavailableError);
      }
    },
    20_000,
  );

  it('a group subscription retries with backoff, reporting each failure, until stopped', async () => {
    errors.splice(0);
    const subscription = store.consumerGroups.subscribeToGroup(
      { group: uniqueGroup(), eventTypes: ['Anything'], maxRetries: 1, batchSize: 10 },
      async (batch) => batch.map(() => ({ action: 'ack' })),
    );
    await eventually(() => expect(errors.length).toBeGreaterThanOrEqual(3), 15_000);
    expect(errors.every((e) => e instanceof EventStoreUnavailableError)).toBe(true);
    await subscription.stop();
    const after = errors.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(errors.length).toBe(after);
  }, 20_000);

  it('refuses a subscription after close', async () => {
    const closed = new EsdbEventStore(`esdb://127.0.0.1:${await closedPort()}?tls=false`);
    await closed.close();
    expect(() =>
      closed.consumerGroups.subscribeToGroup(
        { group: uniqueGroup(), eventTypes: ['A'], maxRetries: 0, batchSize: 1 },
        async () => [],
      ),
    ).toThrow(EventStoreUnavailableError);
  });
});
