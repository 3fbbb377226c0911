import { EsdbEventStore } from '../../src/event-store/esdb/esdb-event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';

/**
 * The port contract against a real EventStoreDB (24.10; 22.6+ needed for positions on stream reads), e.g.
 * EVENTSTORE_CONNECTION_STRING=esdb://localhost:2113?tls=false with the docker-compose service.
 * Every test uses streams of its own, so a shared server is fine.
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  describeEventStoreContract(
    'EventStoreDB',
    async () => {
      const store = new EsdbEventStore(connectionString);
      return { store, cleanup: () => store.close() };
    },
    // The server's clock stamps `created`; a server on another host may drift a little from ours.
    { clockToleranceMs: 5_000, timeoutMs: 30_000 },
  );
} else {
  process.stdout.write('EventStoreDB contract suite skipped: EVENTSTORE_CONNECTION_STRING is not set\n');
  describe('EventStore contract: EventStoreDB', () => {
    it.skip('needs EVENTSTORE_CONNECTION_STRING (e.g. esdb://localhost:2113?tls=false)', () => undefined);
  });
}
