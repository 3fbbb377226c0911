import { randomUUID } from 'node:crypto';
import {
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type BulkWriteResult,
  type Collection,
  type Db,
  type Filter,
  type MongoClientOptions,
  type Sort,
  type WriteError,
} from 'mongodb';
import type { Json, JsonObject } from '../../event-store/event-store.port.js';
import {
  ReadStore,
  type CollectionSpec,
  type DocumentWrite,
  type FindQuery,
  type ReadDocument,
  type Scalar,
  type ScanOptions,
  type WriteResult,
} from '../read-store.port.js';
import {
  isPlainObject,
  validateCollectionName,
  validateQuery,
  validateSpec,
  validateWrites,
  META_COLLECTION,
  CATALOG_COLLECTION,
  type StoredSpec,
} from '../read-store.validation.js';
import { sameJson } from '../same-json.js';

export interface MongoReadStoreOptions {
  /** Passed to the MongoClient (pool size, timeouts…). */
  readonly client?: MongoClientOptions;
  /**
   * Operations per `bulkWrite` command. Default: all of a batch in one command on MongoDB, 16 on FerretDB
   * (detected at open; see `FERRETDB_OPS_PER_BULK_WRITE`).
   */
  readonly maxOpsPerBulkWrite?: number;
  /** Called with the name of every command sent to the server (debug logging; tests count queries with it). */
  readonly trace?: (command: string) => void;
}

/** What a read document looks like in MongoDB. */
interface StoredDocument {
  _id: string;
  /** int64 (the driver writes bigint as Long; read back with `useBigInt64`). */
  revision: bigint;
  position: bigint;
  projectedAt: Date;
  data: JsonObject;
  /**
   * Id of the `write` batch that last wrote this document. Not part of the read model: an unordered
   * bulkWrite reports only a total of matched updates, so when some updates of a batch conflict this is how
   * the batch tells which of its updates applied (see `write`).
   */
  writeId: string;
}

interface CatalogEntry {
  _id: string;
  /** Each index as its fields joined by commas: FerretDB 1.x stores no arrays of arrays. */
  indexes: string[];
  multiValued: string[];
}

interface MetaEntry {
  _id: string;
  value: JsonObject;
}

const META = META_COLLECTION;
const CATALOG = CATALOG_COLLECTION;
const DUPLICATE_KEY = 11000;
const NAMESPACE_EXISTS = 48;
const NAMESPACE_NOT_FOUND = 26;

/**
 * FerretDB 1.x (SQLite backend) runs each statement of an `update` command as a query whose cursor — and
 * pooled SQLite connection, 100 per database — stays open until the whole command ends, then takes one more
 * connection for its transaction. Once the cursors of the commands in flight hold all 100, none can finish:
 * the database is wedged for good (seen with one command of 100+ updates, and with ~30 concurrent update
 * commands). So on FerretDB this adapter sends small commands, one at a time per instance.
 */
const FERRETDB_OPS_PER_BULK_WRITE = 16;
/**
 * Inserts hold no such cursor (an `insert` command is one statement per document in one transaction), and
 * one command of 2,000 inserts takes ~70 ms on FerretDB where 125 commands of 16 take seconds: on FerretDB,
 * inserts go in commands of their own, this many at a time.
 */
const FERRETDB_INSERTS_PER_BULK_WRITE = 1000;

/**
 * The MongoDB read store, on the official driver: one MongoDB collection per collection, documents
 * `{_id: id, revision: int64, position: int64, projectedAt: Date, data: {...}, writeId}`.
 *
 * Connecting: the constructor does no I/O. `MongoReadStore.connect(uri)` builds one and `open()`s it —
 * connects and asks `buildInfo` (which also tells FerretDB apart) — so a bad URI stops the start; a store built with `new` opens itself
 * on first use. Either way `close()` closes the client, and every call afterwards rejects.
 *
 * Written for MongoDB 6+ semantics, in forms FerretDB 1.24 also accepts (CI runs the contract on FerretDB):
 * no transactions (each document write is atomic on its own; a batch is not), no `renameCollection`, and
 * filters built only from `$eq`/`$gte`/`$lte`/`$gt`/`$lt`/`$elemMatch`/`$and`/`$or`/`$in`.
 *
 * FerretDB 1.x limitation (NOT papered over): its `update` reads the matching document, then rewrites it
 * by `_id` alone, so the revision guard in the filter is not atomic there: two concurrent writers of the
 * same step can both apply. Inserts (`expectedRevision: null`) are atomic there too (unique `_id`). On
 * MongoDB a filtered single-document update is atomic, which is what production relies on.
 */
export class MongoReadStore extends ReadStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly specs = new Map<string, StoredSpec>();
  private opening: Promise<void> | null = null;
  private opsPerBulkWrite: number;
  /** FerretDB only: the bulkWrite in flight; the next one waits for it (see FERRETDB_OPS_PER_BULK_WRITE). */
  private bulkInFlight: Promise<unknown> = Promise.resolve();
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
      ...options.client,
      ...(options.trace ? { monitorCommands: true } : {}),
    });
    const trace = options.trace;
    if (trace) this.client.on('commandStarted', (event) => trace(event.commandName));
    this.db = this.client.db();
    this.opsPerBulkWrite = options.maxOpsPerBulkWrite ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the server is FerretDB (known once open). */
  get isFerretDb(): boolean {
    return this.ferret;
  }

  /** Connects and checks the server answers; idempotent. */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    this.opening ??= (async () => {
      await this.client.connect();
      const info = await this.db.command({ buildInfo: 1 });
      this.ferret = typeof info.ferretdbVersion === 'string';
      if (this.ferret && this.options.maxOpsPerBulkWrite === undefined) {
        this.opsPerBulkWrite = FERRETDB_OPS_PER_BULK_WRITE;
      }
    })();
    // A failed open may be retried by the next call.
    this.opening.catch(() => (this.opening = null));
    return this.opening;
  }

  /**
   * Creates the collection (an existing one is fine) and its indexes: each declared index on `data.<field>`
   * (`position` for position) ending with `_id`, one multikey index per multi-valued field, named after their
   * fields (`ix:status,createdAt`, `mv:skus`) so a re-run finds them; records the spec
   * in `read_collections` so any instance can validate queries on it. Indexes are only ever added.
   */
  async ensureCollection(spec: CollectionSpec): Promise<void> {
    await this.ready();
    const normalized = validateSpec(spec);
    try {
      await this.db.createCollection(spec.name);
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
    }
    const indexes = [
      ...normalized.indexes.map((fields) => ({
        name: `ix:${fields.join(',')}`,
        key: Object.fromEntries([...fields.map((f) => [fieldPath(f), 1] as const), ['_id', 1] as const]),
      })),
      ...normalized.multiValued.map((field) => ({ name: `mv:${field}`, key: { [fieldPath(field)]: 1 } })),
    ];
    // Only the missing ones: FerretDB 1.24 panics (and drops the connection) on a createIndexes whose
    // indexes partly exist already; MongoDB would accept either form.
    const listed = (await this.db.collection(spec.name).listIndexes().toArray()) as { name?: unknown }[];
    const existing = new Set(listed.map((index) => String(index.name)));
    const missing = indexes.filter((index) => !existing.has(index.name));
    if (missing.length > 0) await this.db.collection(spec.name).createIndexes(missing);
    await retryOnDuplicateKey(() =>
      this.db.collection<CatalogEntry>(CATALOG).updateOne(
        { _id: spec.name },
        {
          $set: {
            indexes: normalized.indexes.map((f) => f.join(',')),
            multiValued: [...normalized.multiValued],
          },
        },
        { upsert: true },
      ),
    );
    this.specs.set(spec.name, normalized);
  }

  async dropCollection(name: string): Promise<void> {
    await this.ready();
    validateCollectionName(name);
    this.specs.delete(name);
    try {
      await this.db.dropCollection(name);
    } catch (error) {
      // MongoDB before 7.0 answers NamespaceNotFound for a missing collection; 7.0+ and FerretDB succeed.
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
    }
    await this.db.collection<CatalogEntry>(CATALOG).deleteOne({ _id: name });
  }

  async get(collection: string, id: string): Promise<ReadDocument | null> {
    await this.ready();
    const found = await this.documents(collection).findOne({ _id: id }, { useBigInt64: true });
    return found ? toDocument(found) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    await this.ready();
    const found = new Map<string, ReadDocument>();
    if (ids.length === 0) return found;
    const cursor = this.documents(collection).find({ _id: { $in: [...ids] } }, { useBigInt64: true });
    for await (const stored of cursor) found.set(stored._id, toDocument(stored));
    return found;
  }

  /**
   * One unordered bulkWrite (split in chunks on FerretDB): `insertOne` for `expectedRevision: null` — a
   * duplicate key (E11000) is that write's conflict — and `updateOne({_id, revision: expected}, {$set})`
   * without upsert otherwise. The driver reports write errors with the index of the failed operation, but
   * only a total of matched updates; when that total falls short, the batch reads back which of its
   * documents carry its `writeId`. (An update of this batch overwritten by a newer one in the meantime is
   * then reported as a conflict: the caller re-reads and finds a revision at or past its own.)
   * Any other write error rejects the batch; the writes without error may have been applied.
   */
  async write(collection: string, writes: readonly DocumentWrite[]): Promise<WriteResult> {
    await this.ready();
    validateWrites(writes);
    await this.specOf(collection);
    if (writes.length === 0) return { conflicts: [] };
    const writeId = randomUUID();
    const projectedAt = new Date();
    const operations: AnyBulkWriteOperation<StoredDocument>[] = writes.map((w) => {
      const fields = {
        revision: w.revision,
        position: w.position,
        projectedAt,
        data: encodeObject(w.data),
        writeId,
      };
      return w.expectedRevision === null
        ? { insertOne: { document: { _id: w.id, ...fields } } }
        : {
            updateOne: {
              filter: { _id: w.id, revision: w.expectedRevision },
              update: { $set: fields },
              upsert: false,
            },
          };
    });

    const conflicting = new Set<number>();
    let updatesShort = false;
    const documents = this.documents(collection);
    for (const indices of this.chunks(operations)) {
      const chunk = indices.map((i) => operations[i]!);
      const updates = chunk.filter((op) => 'updateOne' in op).length;
      let matched: number;
      try {
        matched = (await this.bulkWrite(documents, chunk)).matchedCount;
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError) || error.writeConcernError) throw error;
        // One WriteError or several (the driver's OneOrMore).
        const failures = ([] as WriteError[]).concat(error.writeErrors);
        for (const failure of failures) {
          const operation = chunk[failure.index];
          if (failure.code === DUPLICATE_KEY && operation && 'insertOne' in operation) {
            conflicting.add(indices[failure.index]!);
          } else {
            throw error;
          }
        }
        matched = error.result.matchedCount;
      }
      if (matched < updates) updatesShort = true;
    }

    if (updatesShort) {
      const updateIds = writes.filter((w) => w.expectedRevision !== null).map((w) => w.id);
      const applied = new Set<string>();
      const cursor = documents.find({ _id: { $in: updateIds }, writeId }, { projection: { _id: 1 } });
      for await (const stored of cursor) applied.add(stored._id);
      writes.forEach((w, i) => {
        if (w.expectedRevision !== null && !applied.has(w.id)) conflicting.add(i);
      });
    }
    return { conflicts: writes.filter((_, i) => conflicting.has(i)).map((w) => w.id) };
  }

  async find(collection: string, query: FindQuery): Promise<ReadDocument[]> {
    await this.ready();
    const spec = await this.specOf(collection);
    const { filter, sort, limit } = compile(spec, query);
    if (limit === 0) return [];
    const found = await this.documents(collection).find(filter, { sort, limit, useBigInt64: true }).toArray();
    return found.map(toDocument);
  }

  async count(collection: string): Promise<number> {
    await this.ready();
    validateCollectionName(collection);
    return Number(await this.documents(collection).countDocuments({}));
  }

  /** `find({_id: {$gt: after}}).sort({_id: 1}).limit(n)`: a range of the `_id` index. */
  async scan(collection: string, options: ScanOptions): Promise<ReadDocument[]> {
    await this.ready();
    const limit = options.limit as unknown;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
      throw new Error('read store: limit must be a non-negative integer');
    }
    if (options.after !== undefined && typeof options.after !== 'string') {
      throw new Error('read store: scan after must be a string id');
    }
    validateCollectionName(collection);
    if (limit === 0) return [];
    const filter = options.after === undefined ? {} : { _id: { $gt: options.after } };
    const found = await this.documents(collection)
      .find(filter, { sort: { _id: 1 }, limit, useBigInt64: true })
      .toArray();
    return found.map(toDocument);
  }

  async getMeta(key: string): Promise<JsonObject | null> {
    await this.ready();
    const found = await this.db.collection<MetaEntry>(META).findOne({ _id: key });
    return found ? decodeObject(found.value) : null;
  }

  async setMeta(key: string, value: JsonObject): Promise<void> {
    await this.ready();
    if (!isPlainObject(value)) throw new Error('read store: a meta value must be a JSON object');
    await retryOnDuplicateKey(() =>
      this.db
        .collection<MetaEntry>(META)
        .updateOne({ _id: key }, { $set: { value: encodeObject(value) } }, { upsert: true }),
    );
  }

  /**
   * Creating is an `insertOne` (a duplicate key means somebody else created it first); replacing or deleting
   * reads the entry, compares it with `expected`, then updates/deletes with a filter on the exact stored
   * value, so a change in between makes the filter miss. (FerretDB 1.x rewrites a matched document by `_id`
   * alone, so there two racing replacements of one value can both report success; creation stays atomic.)
   */
  async compareAndSetMeta(
    key: string,
    expected: JsonObject | null,
    value: JsonObject | null,
  ): Promise<boolean> {
    await this.ready();
    if (value !== null && !isPlainObject(value)) {
      throw new Error('read store: a meta value must be a JSON object');
    }
    const meta = this.db.collection<MetaEntry>(META);
    if (expected === null) {
      if (value === null) return (await meta.findOne({ _id: key })) === null;
      try {
        await meta.insertOne({ _id: key, value: encodeObject(value) });
        return true;
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
        throw error;
      }
    }
    const found = await meta.findOne({ _id: key });
    if (!found || !sameJson(decodeObject(found.value), expected)) return false;
    const filter = { _id: key, value: { $eq: found.value } };
    if (value === null) return (await meta.deleteOne(filter)).deletedCount === 1;
    return (await meta.updateOne(filter, { $set: { value: encodeObject(value) } })).matchedCount === 1;
  }

  /** Closes the client; closing twice is harmless, any other call afterwards rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  /**
   * The operations of one `write`, as the index lists of the bulkWrite commands to send: all in one on
   * MongoDB; on FerretDB (or with maxOpsPerBulkWrite) updates in chunks of that size and inserts in chunks
   * of their own (see FERRETDB_INSERTS_PER_BULK_WRITE).
   */
  private chunks(operations: readonly AnyBulkWriteOperation<StoredDocument>[]): number[][] {
    const all = operations.map((_, i) => i);
    if (!Number.isFinite(this.opsPerBulkWrite)) return [all];
    const inserts = all.filter((i) => 'insertOne' in operations[i]!);
    const updates = all.filter((i) => !('insertOne' in operations[i]!));
    const insertsPer = this.ferret
      ? Math.max(this.opsPerBulkWrite, FERRETDB_INSERTS_PER_BULK_WRITE)
      : this.opsPerBulkWrite;
    const split = (indices: number[], size: number): number[][] =>
      Array.from({ length: Math.ceil(indices.length / size) }, (_, k) =>
        indices.slice(k * size, (k + 1) * size),
      );
    return [...split(inserts, insertsPer), ...split(updates, this.opsPerBulkWrite)];
  }

  /** One unordered bulkWrite; on FerretDB queued behind the one in flight. */
  private bulkWrite(
    documents: Collection<StoredDocument>,
    operations: AnyBulkWriteOperation<StoredDocument>[],
  ): Promise<BulkWriteResult> {
    if (!this.ferret) return documents.bulkWrite(operations, { ordered: false });
    const run = this.bulkInFlight.then(() => documents.bulkWrite(operations, { ordered: false }));
    this.bulkInFlight = run.catch(() => undefined);
    return run;
  }

  private async ready(): Promise<void> {
    if (this.closed) throw closedError();
    await this.open();
  }

  private documents(collection: string): Collection<StoredDocument> {
    validateCollectionName(collection);
    return this.db.collection<StoredDocument>(collection);
  }

  /**
   * The collection's spec: this instance's cache, else the catalog (the collection may come from elsewhere).
   * A collection dropped and re-created with another spec by a different instance keeps its old spec here
   * until restart; generations have names of their own (DESIGN §6), so that does not happen in practice.
   */
  private async specOf(collection: string): Promise<StoredSpec> {
    validateCollectionName(collection);
    const cached = this.specs.get(collection);
    if (cached) return cached;
    const entry = await this.db.collection<CatalogEntry>(CATALOG).findOne({ _id: collection });
    if (!entry)
      throw new Error(`read store: collection "${collection}" does not exist (ensureCollection first)`);
    const spec: StoredSpec = {
      indexes: entry.indexes.map((i) => i.split(',')),
      multiValued: entry.multiValued,
    };
    this.specs.set(collection, spec);
    return spec;
  }
}

function closedError(): Error {
  return new Error('read store: the MongoDB read store is closed');
}

/** Two concurrent upserts of one `_id` can both miss and one then fails with E11000: the retry updates. */
async function retryOnDuplicateKey<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return operation();
    throw error;
  }
}

function fieldPath(field: string): string {
  return field === 'position' ? 'position' : `data.${field}`;
}

/** int64 from the server as bigint: `useBigInt64` gives bigint; a Long or a small number is accepted too. */
function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (value instanceof Long) return value.toBigInt();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new Error(`read store: stored ${what} is not an integer`);
}

function toDocument(stored: StoredDocument): ReadDocument {
  return {
    id: stored._id,
    revision: toBigInt(stored.revision, 'revision'),
    position: toBigInt(stored.position, 'position'),
    projectedAt: stored.projectedAt,
    data: decodeObject(stored.data),
  };
}

/**
 * The stored form of `data` (and meta values). FerretDB 1.x refuses arrays directly inside arrays and keys
 * that contain `.` or start with `$` (MongoDB accepts such keys on insert but not everywhere in updates), and
 * it loses the sign of -0. All are valid JSON, so they are escaped, reversibly, and only where they occur:
 * - a key is escaped when it contains `~`, `.` or a leading `$`: `~` → `~t`, `.` → `~d`, leading `$` → `~s`
 *   (every `~` of a stored key then starts an escape, so decoding is unambiguous);
 * - an array element that is itself an array is stored as `{"~a": [...]}` (no escaped key can be `~a`);
 * - -0 is stored as 0, as JSON (and so the embedded store) has it.
 * Index and multi-valued fields are plain identifiers, and top-level arrays stay arrays, so indexes,
 * filters and multikey membership work on the stored form unchanged.
 */
const NESTED_ARRAY = '~a';

function encodeKey(key: string): string {
  if (!/[~.]/.test(key) && !key.startsWith('$')) return key;
  const escaped = key.replace(/~/g, '~t').replace(/\./g, '~d');
  return escaped.startsWith('$') ? `~s${escaped.slice(1)}` : escaped;
}

function decodeKey(key: string): string {
  if (!key.includes('~')) return key;
  return key.replace(/~([tds])/g, (_, code: string) => (code === 't' ? '~' : code === 'd' ? '.' : '$'));
}

function encodeValue(value: Json, inArray: boolean): unknown {
  if (Array.isArray(value)) {
    const array = value.map((element) => encodeValue(element, true));
    return inArray ? { [NESTED_ARRAY]: array } : array;
  }
  if (value !== null && typeof value === 'object') return encodeObject(value);
  return Object.is(value, -0) ? 0 : value;
}

function encodeObject(object: JsonObject): JsonObject {
  const encoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) encoded[encodeKey(key)] = encodeValue(value, false);
  return encoded as JsonObject;
}

function decodeValue(value: unknown): Json {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === NESTED_ARRAY) {
      return decodeValue((value as Record<string, unknown>)[NESTED_ARRAY]);
    }
    return decodeObject(value as Record<string, unknown>);
  }
  return value as Json;
}

function decodeObject(object: Record<string, unknown>): JsonObject {
  const decoded: JsonObject = {};
  for (const [key, value] of Object.entries(object)) decoded[decodeKey(key)] = decodeValue(value);
  return decoded;
}

/**
 * The filter, sort and limit of a `find`. Field names come only from the spec (validated), values are
 * checked to be scalars and always placed as operands of an explicit operator (`$eq`, `$gte`…), so a value
 * can never become an operator.
 */
function compile(
  spec: StoredSpec,
  query: FindQuery,
): { filter: Filter<StoredDocument>; sort: Sort; limit: number } {
  const plan = validateQuery(spec, query);
  const clauses: Record<string, unknown>[] = plan.conditions.map((condition) => {
    const path = fieldPath(condition.field);
    if (condition.kind === 'has') return { [path]: { $elemMatch: { $eq: condition.value } } };
    if (condition.kind === 'eq') return { [path]: { $eq: operand(condition.field, condition.value) } };
    const range: Record<string, unknown> = {};
    if (condition.gte !== undefined) range.$gte = operand(condition.field, condition.gte);
    if (condition.lte !== undefined) range.$lte = operand(condition.field, condition.lte);
    return { [path]: range };
  });
  const sortPath = fieldPath(plan.sort.field);
  const direction = plan.sort.direction === 'asc' ? 1 : -1;
  if (plan.after) {
    const beyond = plan.sort.direction === 'asc' ? '$gt' : '$lt';
    const value = operand(plan.sort.field, plan.after.value);
    clauses.push({
      $or: [
        { [sortPath]: { [beyond]: value } },
        { [sortPath]: { $eq: value }, _id: { [beyond]: plan.after.id } },
      ],
    });
  }
  const filter = (clauses.length === 0 ? {} : { $and: clauses }) as Filter<StoredDocument>;
  return { filter, sort: { [sortPath]: direction, _id: direction }, limit: plan.limit };
}

/** Positions are int64 in the documents: compare them with an int64 when the number is an integer. */
function operand(field: string, value: Scalar): Scalar | bigint {
  return field === 'position' && typeof value === 'number' && Number.isSafeInteger(value)
    ? BigInt(value)
    : value;
}

// ---------------------------------------------------------------------------------------------------------
// Validation: the same rules as the embedded adapter (kept side by side on purpose: adapters do not import
// each other).
