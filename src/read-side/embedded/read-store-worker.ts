/**
 * The read store's writer thread (see ThreadedReadStore): opens the embedded read store on the file it is
 * given and answers writes in the order they come. Each call runs to its end before the next message is
 * taken (the adapter's work is synchronous), so the order of the caller's thread is kept.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedReadStore } from './embedded-read-store.js';
import { crossedError } from '../../shared/infrastructure/worker-thread.js';
import type { ReadStoreReply, ReadStoreRequest } from './threaded-read-store.js';

const port = parentPort;
if (!port) throw new Error('read-store-worker runs as a worker thread (ThreadedReadStore)');
const reply = (message: ReadStoreReply): void => port.postMessage(message);

const { file, countStatements } = workerData as { file: string; countStatements: boolean };
let statements: number | undefined;
let store: EmbeddedReadStore;
try {
  store = new EmbeddedReadStore(
    file,
    countStatements ? { trace: () => (statements = (statements ?? 0) + 1) } : {},
  );
  if (countStatements) statements = 0;
  reply({ ready: true });
} catch (error) {
  reply({ failed: crossedError(error) });
  port.close();
}

port.on('message', (request: ReadStoreRequest) => {
  if ('close' in request) {
    void store.close().finally(() => port.close());
    return;
  }
  const { id, method, args } = request;
  const run = store[method].bind(store) as (...a: readonly unknown[]) => Promise<unknown>;
  run(...args).then(
    (value) => reply({ id, value, statements }),
    (error: unknown) => reply({ id, error: crossedError(error), statements }),
  );
});
