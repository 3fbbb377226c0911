import { MongoClient, type Collection, type Db, type MongoClientOptions } from 'mongodb';
import type { JsonObject } from '../../event-store/event-store.port.js';
import {
  ReadStore,
  type CollectionSpec,
  type DocumentWrite,
  type FindQuery,
  type ReadDocument,
  type ScanOptions,
  type WriteOptions,
  type WriteResult,
} from '../read-store.port.js';
import {
  validateCollectionName,
  validateMetaValue,
  validateScan,
  validateWrites,
} from '../read-store.validation.js';
import { MongoCatalog } from './mongo-catalog.js';
import { unlessUnreachable } from './mongo-errors.js';
import { toDocument, type StoredDocument } from './mongo-codec.js';
import { MongoMeta } from './mongo-meta.js';
import { compileFind } from './mongo-query.js';
import { bulkWriteLimits, MongoBatchWriter } from './mongo-writes.js';

export interface MongoReadStoreOptions {
  /** Passed to the MongoClient (pool size, timeouts…). */
  readonly client?: MongoClientOptions;
  /**
   * Operations per `bulkWrite` command. Default: all of a batch in one command on MongoDB, 16 on FerretDB
   * (detected at open; see `bulkWriteLimits` in mongo-writes.ts).
   */
  readonly maxOpsPerBulkWrite?: number;
  /** Called with the name of every command sent to the server (debug logging; tests count queries with it). */
  readonly trace?: (command: string) => void;
}

/**
 * The MongoDB read store, on the official driver: one MongoDB collection per collection, documents
 * `{_id: id, revision: int64, position: int64, projectedAt: Date, data: {...}, writeId}`.
 *
 * Connecting: the constructor does no I/O. `MongoReadStore.connect(uri)` builds one and `open()`s it —
 * connects and asks `buildInfo` (which also tells FerretDB apart) — so a bad URI stops the start; a store built
 * with `new` opens itself on first use. Either way `close()` closes the client, and every call afterwards
 * rejects.
 *
 * Written for MongoDB 6+ semantics, in forms FerretDB 1.24 also accepts (CI runs the contract on FerretDB):
 * no transactions (each document write is atomic on its own; a batch is not), no `renameCollection`, and
 * filters built only from `$eq`/`$gte`/`$lte`/`$gt`/`$lt`/`$elemMatch`/`$and`/`$or`/`$in`. Where FerretDB
 * differs, the code that meets it says so: the stored form of data (mongo-codec.ts), small serialised
 * bulkWrite commands (mongo-writes.ts), index creation and the catalog's format (mongo-catalog.ts).
 *
 * FerretDB 1.x limitation (NOT papered over): its `update` reads the matching document, then rewrites it
 * by `_id` alone, so the revision guard in the filter is not atomic there: two concurrent writers of the
 * same step can both apply. Inserts (`expectedRevision: null`) are atomic there too (unique `_id`). On
 * MongoDB a filtered single-document update is atomic, which is what production relies on.
 */
export class MongoReadStore extends ReadStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly catalog: MongoCatalog;
  private readonly meta: MongoMeta;
  /** Settles once connected; its writer's limits depend on the server found (FerretDB or not). */
  private opening: Promise<MongoBatchWriter> | null = null;
  private closed = false;
  private ferret = false;

  /** Builds the store and opens it (connect, `buildInfo`, server detection): a bad URI fails here. */
  static async connect(uri: string, options: MongoReadStoreOptions = {}): Promise<MongoReadStore> {
    const store = new MongoReadStore(uri, options);
    try {
      await store.open();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** The database is the one named in the URI's path (the driver's default otherwise: `test`). */
  constructor(
    uri: string,
    private readonly options: MongoReadStoreOptions = {},
  ) {
    super();
    this.client = new MongoClient(uri, {
      // Fail fast when the server is gone (the driver waits 30 s by default): reads answer 503 within about
      // 2 s and projections retry, instead of requests hanging.
      serverSelectionTimeoutMS: 2000,
      connectTimeoutMS: 2000,
      ...options.client,
      ...(options.trace ? { monitorCommands: true } : {}),
    });
    const trace = options.trace;
    if (trace) this.client.on('commandStarted', (event) => trace(event.commandName));
    this.db = this.client.db();
    this.catalog = new MongoCatalog(this.db);
    this.meta = new MongoMeta(this.db);
  }

  /** Whether the server is FerretDB (known once open). */
  get isFerretDb(): boolean {
    return this.ferret;
  }

  /** Connects and checks the server answers; idempotent. */
  async open(): Promise<void> {
    await this.ready();
  }

  ensureCollection(spec: CollectionSpec): Promise<void> {
    return unlessUnreachable(async () => {
      await this.ready();
      await this.catalog.ensure(spec);
    });
  }

  dropCollection(name: string): Promise<void> {
    return unlessUnreachable(async () => {
      await this.ready();
      await this.catalog.drop(name);
    });
  }

  get(collection: string, id: string): Promise<ReadDocument | null> {
    return unlessUnreachable(async () => {
      await this.ready();
      const found = await this.documents(collection).findOne({ _id: id }, { useBigInt64: true });
      return found ? toDocument(found) : null;
    });
  }

  getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    return unlessUnreachable(async () => {
      await this.ready();
      const found = new Map<string, ReadDocument>();
      if (ids.length === 0) return found;
      const cursor = this.documents(collection).find({ _id: { $in: [...ids] } }, { useBigInt64: true });
      for await (const stored of cursor) found.set(stored._id, toDocument(stored));
      return found;
    });
  }

  /** See MongoBatchWriter.write: one unordered bulkWrite, conflicts told apart by the batch's `writeId`. */
  write(
    collection: string,
    writes: readonly DocumentWrite[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return unlessUnreachable(async () => {
      const writer = await this.ready();
      validateWrites(writes);
      await this.catalog.specOf(collection);
      return writer.write(this.documents(collection), writes, options.onProgress);
    });
  }

  find(collection: string, query: FindQuery): Promise<ReadDocument[]> {
    return unlessUnreachable(async () => {
      await this.ready();
      const spec = await this.catalog.specOf(collection);
      const { filter, sort, limit } = compileFind(spec, query);
      if (limit === 0) return [];
      const found = await this.documents(collection)
        .find(filter, { sort, limit, useBigInt64: true })
        .toArray();
      return found.map(toDocument);
    });
  }

  count(collection: string): Promise<number> {
    return unlessUnreachable(async () => {
      await this.ready();
      return Number(await this.documents(collection).countDocuments({}));
    });
  }

  /** `find({_id: {$gt: after}}).sort({_id: 1}).limit(n)`: a range of the `_id` index. */
  scan(collection: string, options: ScanOptions): Promise<ReadDocument[]> {
    return unlessUnreachable(async () => {
      await this.ready();
      const { after, limit } = validateScan(options);
      const documents = this.documents(collection);
      if (limit === 0) return [];
      const filter = after === undefined ? {} : { _id: { $gt: after } };
      const found = await documents.find(filter, { sort: { _id: 1 }, limit, useBigInt64: true }).toArray();
      return found.map(toDocument);
    });
  }

  getMeta(key: string): Promise<JsonObject | null> {
    return unlessUnreachable(async () => {
      await this.ready();
      return this.meta.get(key);
    });
  }

  setMeta(key: string, value: JsonObject): Promise<void> {
    return unlessUnreachable(async () => {
      await this.ready();
      validateMetaValue(value);
      await this.meta.set(key, value);
    });
  }

  /** See MongoMeta.compareAndSet (and its note on FerretDB). */
  compareAndSetMeta(key: string, expected: JsonObject | null, value: JsonObject | null): Promise<boolean> {
    return unlessUnreachable(async () => {
      await this.ready();
      if (value !== null) validateMetaValue(value);
      return this.meta.compareAndSet(key, expected, value);
    });
  }

  /** Closes the client; closing twice is harmless, any other call afterwards rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  /** Opens on first use (connect, `buildInfo`); answers the writer fitted to the server. */
  private ready(): Promise<MongoBatchWriter> {
    if (this.closed) return Promise.reject(closedError());
    this.opening ??= (async () => {
      await this.client.connect();
      const info = await this.db.command({ buildInfo: 1 });
      this.ferret = typeof info.ferretdbVersion === 'string';
      return new MongoBatchWriter(bulkWriteLimits(this.ferret, this.options.maxOpsPerBulkWrite));
    })();
    // A failed open may be retried by the next call.
    this.opening.catch(() => (this.opening = null));
    return this.opening;
  }

  private documents(collection: string): Collection<StoredDocument> {
    validateCollectionName(collection);
    return this.db.collection<StoredDocument>(collection);
  }
}

function closedError(): Error {
  return new Error('read store: the MongoDB read store is closed');
}
