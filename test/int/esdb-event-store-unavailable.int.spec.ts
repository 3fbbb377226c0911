import { createServer } from 'node:net';
import { EsdbEventStore } from '../../src/event-store/esdb/esdb-event-store.js';
import { EventStoreUnavailableError } from '../../src/event-store/event-store.port.js';
import { newEvent, uniqueStreamId } from '../contract/event-store.contract.js';

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
 * Needs no EventStoreDB: what the adapter reports when the server cannot be reached. Callers (HTTP 503,
 * retries) rely on EventStoreUnavailableError, whatever gRPC call of the client failed first.
 */
describe('EsdbEventStore when EventStoreDB cannot be reached', () => {
  let store: EsdbEventStore;
  beforeAll(async () => {
    store = new EsdbEventStore(`esdb://127.0.0.1:${await closedPort()}?tls=false&defaultDeadline=3000`);
  });
  afterAll(async () => {
    await store.close();
  });

  const calls: [string, (s: EsdbEventStore) => Promise<unknown>][] = [
    ['append', (s) => s.append(uniqueStreamId(), [newEvent()], 'no_stream')],
    ['readStream', (s) => s.readStream(uniqueStreamId())],
    ['streamRevision', (s) => s.streamRevision(uniqueStreamId())],
    ['readAll', (s) => s.readAll({ limit: 1 })],
    ['setStreamMetadata', (s) => s.setStreamMetadata(uniqueStreamId(), { maxCount: 1 })],
    ['getStreamMetadata', (s) => s.getStreamMetadata(uniqueStreamId())],
  ];

  it.each(calls)(
    '%s rejects with EventStoreUnavailableError',
    async (_name, call) => {
      // Twice: the first call of a fresh connection fails elsewhere in the client than the next ones.
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
});
