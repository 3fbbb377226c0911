import { Worker } from 'node:worker_threads';
import type { JsonObject } from '../../event-store/event-store.port.js';
import { rebuiltError, workerModule, type CrossedError } from '../../shared/infrastructure/worker-thread.js';
import {
  ReadStore,
  ReadStoreUnavailableError,
  type CollectionSpec,
  type DocumentWrite,
  type FindQuery,
  type ReadDocument,
  type ScanOptions,
  type WriteResult,
} from '../read-store.port.js';
import { EmbeddedReadStore } from './embedded-read-store.js';

/** What the writer thread does: the port's writes, and the schema changes both connections must know of. */
export type ReadStoreWrite =
  'write' | 'setMeta' | 'compareAndSetMeta' | 'ensureCollection' | 'dropCollection';

/** Main thread → writer thread. */
export type ReadStoreRequest =
  | { readonly id: number; readonly method: ReadStoreWrite; readonly args: readonly unknown[] }
  | { readonly close: true };

/** Writer thread → main thread. */
export type ReadStoreReply =
  | { readonly ready: true }
  | { readonly failed: CrossedError }
  | { readonly id: number; readonly value: unknown; readonly statements?: number }
  | { readonly id: number; readonly error: CrossedError; readonly statements?: number };

export interface ThreadedReadStoreOptions {
  /** Count the SQL statements both connections run (statementsRun): for tests. */
  readonly countStatements?: boolean;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The embedded read store with its writes on a thread of their own. A projection's batch is written in one
 * transaction that waits for its fsync (`synchronous=FULL`): that wait, and the statements of the batch, no
 * longer hold the HTTP event loop. Reads stay on this thread's own connection to the file (WAL: a read sees
 * every write that has resolved, and never waits for one in progress): a read by id costs microseconds, a
 * round trip to the thread would cost more, and it would queue behind the writes' fsyncs.
 *
 * Writes cross as messages and are committed in the order they were made; errors keep their message, name
 * and code. Schema changes (ensureCollection, dropCollection) are made on both connections, so both know the
 * collections. The thread keeps the process alive only while a write waits for its answer.
 */
export class ThreadedReadStore extends ReadStore {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private writerStatements = 0;
  private readerStatements = 0;
  private stopped: Error | null = null;
  private readonly exited: Promise<void>;
  private readonly reader: EmbeddedReadStore;

  private constructor(
    readonly file: string,
    private readonly worker: Worker,
    options: ThreadedReadStoreOptions,
  ) {
    super();
    this.reader = new EmbeddedReadStore(
      file,
      options.countStatements ? { trace: () => (this.readerStatements += 1) } : {},
    );
    worker.unref();
    worker.on('message', (reply: ReadStoreReply) => this.onReply(reply));
    this.exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        this.fail(`the read store's writer thread stopped (exit code ${code})`);
        resolve();
      });
    });
    worker.on('error', (error) => this.fail(`the read store's writer thread failed: ${error.message}`));
  }

  /** Starts the thread and opens the file there and here; rejects as opening it on this thread would. */
  static async open(file: string, options: ThreadedReadStoreOptions = {}): Promise<ThreadedReadStore> {
    const worker = new Worker(workerModule('./read-store-worker.js', import.meta.url), {
      workerData: { file, countStatements: options.countStatements === true },
    });
    let settle: { resolve: (reply: ReadStoreReply) => void; reject: (error: Error) => void } | undefined;
    const onMessage = (reply: ReadStoreReply) => settle?.resolve(reply);
    const onError = (error: Error) => settle?.reject(error);
    const onExit = (code: number) =>
      settle?.reject(new Error(`the read store's writer thread stopped at start (exit code ${code})`));
    const first = await new Promise<ReadStoreReply>((resolve, reject) => {
      settle = { resolve, reject };
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    }).finally(() => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
    if ('failed' in first) {
      await worker.terminate();
      throw rebuiltError(first.failed);
    }
    try {
      return new ThreadedReadStore(file, worker, options);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    await this.call('ensureCollection', [spec]);
    await this.reader.ensureCollection(spec);
  }

  async dropCollection(name: string): Promise<void> {
    await this.call('dropCollection', [name]);
    await this.reader.dropCollection(name);
  }

  get(collection: string, id: string): Promise<ReadDocument | null> {
    return this.reader.get(collection, id);
  }

  getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    return this.reader.getMany(collection, ids);
  }

  /** One transaction on the thread: nothing to report progress on (the options' onProgress is not called). */
  write(collection: string, writes: readonly DocumentWrite[]): Promise<WriteResult> {
    return this.call('write', [collection, writes]);
  }

  find(collection: string, query: FindQuery): Promise<ReadDocument[]> {
    return this.reader.find(collection, query);
  }

  count(collection: string): Promise<number> {
    return this.reader.count(collection);
  }

  scan(collection: string, options: ScanOptions): Promise<ReadDocument[]> {
    return this.reader.scan(collection, options);
  }

  getMeta(key: string): Promise<JsonObject | null> {
    return this.reader.getMeta(key);
  }

  setMeta(key: string, value: JsonObject): Promise<void> {
    return this.call('setMeta', [key, value]);
  }

  compareAndSetMeta(key: string, expected: JsonObject | null, value: JsonObject | null): Promise<boolean> {
    return this.call('compareAndSetMeta', [key, expected, value]);
  }

  /** Answers the writes made before it, closes both connections, ends the thread; closing twice is harmless. */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = new Error('read store: the embedded read store is closed');
      this.worker.ref();
      this.worker.postMessage({ close: true } satisfies ReadStoreRequest);
    }
    await this.exited;
    await this.reader.close();
  }

  /** SQL statements run on both connections as of the last answer (with `countStatements`; 0 otherwise). */
  statementsRun(): number {
    return this.readerStatements + this.writerStatements;
  }

  private call<T>(method: ReadStoreWrite, args: readonly unknown[]): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.worker.postMessage({ id, method, args } satisfies ReadStoreRequest);
      } catch (error) {
        // Something that cannot cross (a function, a symbol): the caller's mistake.
        this.settled(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private onReply(reply: ReadStoreReply): void {
    if (!('id' in reply)) return;
    if (reply.statements !== undefined) this.writerStatements = reply.statements;
    const waiting = this.settled(reply.id);
    if (!waiting) return;
    if ('error' in reply) waiting.reject(rebuiltError(reply.error));
    else waiting.resolve(reply.value);
  }

  private settled(id: number): Pending | undefined {
    const waiting = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0 && !this.stopped) this.worker.unref();
    return waiting;
  }

  /** The thread is gone: what waits, and whatever comes later, is told the store cannot be reached. */
  private fail(why: string): void {
    const error = this.stopped ?? new ReadStoreUnavailableError(why);
    this.stopped = error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
