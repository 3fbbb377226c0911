import { Worker } from 'node:worker_threads';
import type { JsonObject } from '../../event-store/event-store.port.js';
import {
  rebuiltError,
  workerModule,
  type CrossedError,
} from '../../shared/infrastructure/worker-thread.js';
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

/** The read store methods the thread answers: every method of the port but `close`. */
export type ReadStoreMethod = Exclude<keyof ReadStore, 'close'>;

/** Main thread → read store thread. */
export type ReadStoreRequest =
  | { readonly id: number; readonly method: ReadStoreMethod; readonly args: readonly unknown[] }
  | { readonly close: true };

/** Read store thread → main thread. */
export type ReadStoreReply =
  | { readonly ready: true }
  | { readonly failed: CrossedError }
  | { readonly id: number; readonly value: unknown; readonly statements?: number }
  | { readonly id: number; readonly error: CrossedError; readonly statements?: number };

export interface ThreadedReadStoreOptions {
  /** Count the SQL statements the thread runs (statementsRun): for tests. */
  readonly countStatements?: boolean;
}

/**
 * A document as it crosses: `projectedAt` in epoch ms, so that the Date callers get is made on their side (a
 * Date made by the message's decoding belongs to no realm of a vm context, e.g. the test runner's, and fails
 * `instanceof Date` there).
 */
export type CrossedDocument = Omit<ReadDocument, 'projectedAt'> & { readonly projectedAt: number };

export function crossedDocument({ projectedAt, ...rest }: ReadDocument): CrossedDocument {
  return { ...rest, projectedAt: projectedAt.getTime() };
}

function document({ projectedAt, ...rest }: CrossedDocument): ReadDocument {
  return { ...rest, projectedAt: new Date(projectedAt) };
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The embedded read store, run on a thread of its own: the same SQLite file and the same adapter
 * (EmbeddedReadStore, whose calls are synchronous), so that projection batches — most of the read side's
 * work is SQLite writing them — and cached reads run beside the HTTP event loop instead of on it. Calls
 * cross as messages and are answered in the order they were made, as the store on the caller's thread
 * would; errors keep their message, name and code.
 *
 * The thread keeps the process alive only while a call is waiting for its answer.
 */
export class ThreadedReadStore extends ReadStore {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private statements = 0;
  private stopped: Error | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    readonly file: string,
    private readonly worker: Worker,
  ) {
    super();
    worker.unref();
    worker.on('message', (reply: ReadStoreReply) => this.onReply(reply));
    this.exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        this.fail(`the read store thread stopped (exit code ${code})`);
        resolve();
      });
    });
    worker.on('error', (error) => this.fail(`the read store thread failed: ${error.message}`));
  }

  /** Starts the thread and opens the file there; rejects as opening it on this thread would. */
  static async open(file: string, options: ThreadedReadStoreOptions = {}): Promise<ThreadedReadStore> {
    const worker = new Worker(workerModule('./read-store-worker.js', import.meta.url), {
      workerData: { file, countStatements: options.countStatements === true },
    });
    let settle: { resolve: (reply: ReadStoreReply) => void; reject: (error: Error) => void } | undefined;
    const onMessage = (reply: ReadStoreReply) => settle?.resolve(reply);
    const onError = (error: Error) => settle?.reject(error);
    const onExit = (code: number) =>
      settle?.reject(new Error(`the read store thread stopped at start (exit code ${code})`));
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
    return new ThreadedReadStore(file, worker);
  }

  ensureCollection(spec: CollectionSpec): Promise<void> {
    return this.call('ensureCollection', [spec]);
  }

  dropCollection(name: string): Promise<void> {
    return this.call('dropCollection', [name]);
  }

  async get(collection: string, id: string): Promise<ReadDocument | null> {
    const found = await this.call<CrossedDocument | null>('get', [collection, id]);
    return found && document(found);
  }

  /** Crossed as a list of the documents found (a Map, like a Date, is made on this side). */
  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    const found = await this.call<CrossedDocument[]>('getMany', [collection, ids]);
    return new Map(found.map((doc) => [doc.id, document(doc)]));
  }

  /** One transaction on the thread: nothing to report progress on (the options' onProgress is not called). */
  write(collection: string, writes: readonly DocumentWrite[]): Promise<WriteResult> {
    return this.call('write', [collection, writes]);
  }

  async find(collection: string, query: FindQuery): Promise<ReadDocument[]> {
    return (await this.call<CrossedDocument[]>('find', [collection, query])).map(document);
  }

  count(collection: string): Promise<number> {
    return this.call('count', [collection]);
  }

  async scan(collection: string, options: ScanOptions): Promise<ReadDocument[]> {
    return (await this.call<CrossedDocument[]>('scan', [collection, options])).map(document);
  }

  getMeta(key: string): Promise<JsonObject | null> {
    return this.call('getMeta', [key]);
  }

  setMeta(key: string, value: JsonObject): Promise<void> {
    return this.call('setMeta', [key, value]);
  }

  compareAndSetMeta(key: string, expected: JsonObject | null, value: JsonObject | null): Promise<boolean> {
    return this.call('compareAndSetMeta', [key, expected, value]);
  }

  /** Answers the calls made before it, closes the file, ends the thread; closing twice is harmless. */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = new Error('read store: the embedded read store is closed');
      this.worker.ref();
      this.worker.postMessage({ close: true } satisfies ReadStoreRequest);
    }
    await this.exited;
  }

  /** SQL statements run by the thread as of the last answer (with `countStatements`; 0 otherwise). */
  statementsRun(): number {
    return this.statements;
  }

  private call<T>(method: ReadStoreMethod, args: readonly unknown[]): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.worker.postMessage({ id, method, args } satisfies ReadStoreRequest);
      } catch (error) {
        // Something that cannot cross (a function, a class instance's methods): the caller's mistake.
        this.settled(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private onReply(reply: ReadStoreReply): void {
    if (!('id' in reply)) return;
    if (reply.statements !== undefined) this.statements = reply.statements;
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
