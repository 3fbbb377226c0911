/**
 * The read store port: read models kept by projections, queried by query handlers. Two adapters implement
 * it (embedded SQLite, MongoDB) and pass one contract suite (test/contract/read-store.contract.ts).
 * Revisions and positions are bigint in code and int64 in MongoDB, never strings.
 */
import type { JsonObject } from '../event-store/event-store.port.js';
import { ApplicationError } from '../shared/application/errors.js';

/**
 * The read store cannot be reached (or failed) right now: a 503 that a client may retry, or answer from the
 * event store instead (`consistency=strong`). Adapters raise it within a bounded time, never after a hang.
 */
export class ReadStoreUnavailableError extends ApplicationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(
      'unavailable',
      'READ_STORE_UNAVAILABLE',
      message,
      {},
      'The read store is unavailable; retry shortly, or read with consistency=strong (from the event store)',
      options,
    );
  }
}

/** A value a filter may compare with. Objects and arrays are never accepted where a scalar is expected. */
export type Scalar = string | number | boolean;

/** One document of a collection, with what it reflects of its source stream. */
export interface ReadDocument<Data extends JsonObject = JsonObject> {
  readonly id: string;
  /** Revision of the source stream's last event applied to this document. */
  readonly revision: bigint;
  /** Global position of that event. */
  readonly position: bigint;
  /** When this document was last written by its projection (the read store's clock). */
  readonly projectedAt: Date;
  readonly data: Data;
}

/**
 * A conditional write: it applies only if the stored document's revision is still `expectedRevision`
 * (`null`: the document must not exist yet). A write whose condition fails is reported as a conflict and
 * changes nothing, so two writers can never both apply the same step.
 */
export interface DocumentWrite {
  readonly id: string;
  readonly expectedRevision: bigint | null;
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: JsonObject;
}

export interface WriteOptions {
  /**
   * Called each time part of a long write is done (a command of several on a slow server): the caller's
   * evidence that it is making progress, not hung.
   */
  readonly onProgress?: () => void;
}

export interface WriteResult {
  /** Ids whose condition failed (nothing written for them). */
  readonly conflicts: readonly string[];
}

/**
 * A collection and the queries it must answer fast. Field names are top-level fields of `data`;
 * `position` (the document's global position) may also be indexed and sorted on.
 */
export interface CollectionSpec {
  readonly name: string;
  /** Compound indexes, each a list of fields (equality fields first, then the sort field). */
  readonly indexes: readonly (readonly string[])[];
  /** Array fields (of scalars) that filters may test with `has`. Indexed per element. */
  readonly multiValued?: readonly string[];
}

/** A condition on one field. Ranges are inclusive. `has` tests membership in a multi-valued field. */
export type FieldCondition =
  { readonly eq: Scalar } | { readonly has: Scalar } | { readonly gte?: Scalar; readonly lte?: Scalar };

export type SortDirection = 'asc' | 'desc';

export interface FindQuery {
  /** Conjunction of conditions, by field. */
  readonly where: Readonly<Record<string, FieldCondition>>;
  /** Sort field (a data field or `position`); ties are broken by id in the same direction. */
  readonly orderBy: { readonly field: string; readonly direction: SortDirection };
  /** Maximum number of documents returned. */
  readonly limit: number;
  /** Keyset pagination: only documents strictly after this (sort value, id) in the query's order. */
  readonly after?: { readonly value: Scalar; readonly id: string };
}

export interface ScanOptions {
  /** Only documents whose id sorts strictly after this one (keyset pagination by id). */
  readonly after?: string;
  /** At most this many documents (a non-negative integer). */
  readonly limit: number;
}

/** Port to the read models. Used as a NestJS DI token (abstract class); only modules bind adapters. */
export abstract class ReadStore {
  /** Creates the collection and its indexes if missing (idempotent; called at start for every collection). */
  abstract ensureCollection(spec: CollectionSpec): Promise<void>;

  /** Drops a collection and its indexes (a rebuilt generation replaces it). Missing: nothing happens. */
  abstract dropCollection(name: string): Promise<void>;

  abstract get(collection: string, id: string): Promise<ReadDocument | null>;

  /** The documents that exist among `ids`, by id. */
  abstract getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>>;

  /** Applies conditional writes in one batch (see DocumentWrite); durable once the promise resolves. */
  abstract write(
    collection: string,
    writes: readonly DocumentWrite[],
    options?: WriteOptions,
  ): Promise<WriteResult>;

  /** Documents matching `query.where` in `query.orderBy` order, at most `query.limit`. */
  abstract find(collection: string, query: FindQuery): Promise<ReadDocument[]>;

  /** Number of documents in a collection (for operations and rebuild checks). */
  abstract count(collection: string): Promise<number>;

  /**
   * Walks a whole collection: the documents in id order (ids compare as UTF-8 bytes, MongoDB's simple
   * collation), strictly after `after` when given, at most `limit`. A missing collection has none. Served by
   * the primary key, so every page costs the same however far the walk is (used by `verify`).
   */
  abstract scan(collection: string, options: ScanOptions): Promise<ReadDocument[]>;

  /** Small named values the read side keeps for itself (e.g. which generation of a projection is live). */
  abstract getMeta(key: string): Promise<JsonObject | null>;
  abstract setMeta(key: string, value: JsonObject): Promise<void>;

  /**
   * Compare-and-set of a meta value: writes `value` only if the stored value is still `expected` (compared
   * as JSON values, key order ignored; `expected` null: the key must not exist), and deletes the key when
   * `value` is null. Answers whether it wrote. Two instances racing on one key: at most one wins (a lock, a
   * job's lease). Atomic on the embedded store and on MongoDB; on FerretDB 1.x see the adapter's note.
   */
  abstract compareAndSetMeta(
    key: string,
    expected: JsonObject | null,
    value: JsonObject | null,
  ): Promise<boolean>;

  /** Releases connections and file handles. */
  abstract close(): Promise<void>;
}
