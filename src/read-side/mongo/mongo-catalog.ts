import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { CollectionSpec } from '../read-store.port.js';
import {
  CATALOG_COLLECTION,
  collectionNotFound,
  validateCollectionName,
  validateSpec,
  type StoredSpec,
} from '../read-store.validation.js';
import { fieldPath } from './mongo-codec.js';
import { retryOnDuplicateKey, retryWhenDropped } from './mongo-errors.js';

/** A collection's entry in `read_collections`. */
interface CatalogEntry {
  _id: string;
  /** Each index as its fields joined by commas: FerretDB 1.x stores no arrays of arrays. */
  indexes: string[];
  multiValued: string[];
}

const NAMESPACE_EXISTS = 48;
const NAMESPACE_NOT_FOUND = 26;

/**
 * The collections of the MongoDB read store: creates and drops them with their indexes, and keeps each one's
 * spec in the `read_collections` catalog so that any instance can validate queries on a collection another
 * one created.
 */
export class MongoCatalog {
  private readonly specs = new Map<string, StoredSpec>();
  private readonly catalog: Collection<CatalogEntry>;

  constructor(private readonly db: Db) {
    this.catalog = db.collection<CatalogEntry>(CATALOG_COLLECTION);
  }

  /**
   * Creates the collection (an existing one is fine) and its indexes: each declared index on `data.<field>`
   * (`position` for position) ending with `_id`, one multikey index per multi-valued field, named after their
   * fields (`ix:status,createdAt`, `mv:skus`) so a re-run finds them; records the spec in the catalog.
   * Indexes are only ever added.
   */
  async ensure(spec: CollectionSpec): Promise<void> {
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
    // indexes partly exist already; MongoDB would accept either form. It also panics now and then on the same
    // createIndexes sent by several instances starting at once ("slice bounds out of range"): a dropped
    // connection here is retried, listing again, so that a start does not fail on it.
    await retryWhenDropped(async () => {
      const listed = (await this.db.collection(spec.name).listIndexes().toArray()) as { name?: unknown }[];
      const existing = new Set(listed.map((index) => String(index.name)));
      const missing = indexes.filter((index) => !existing.has(index.name));
      if (missing.length > 0) await this.db.collection(spec.name).createIndexes(missing);
    });
    await retryOnDuplicateKey(() =>
      this.catalog.updateOne(
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

  /** Drops the collection and its catalog entry. */
  async drop(name: string): Promise<void> {
    validateCollectionName(name);
    this.specs.delete(name);
    try {
      await this.db.dropCollection(name);
    } catch (error) {
      // MongoDB before 7.0 answers NamespaceNotFound for a missing collection; 7.0+ and FerretDB succeed.
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
    }
    await this.catalog.deleteOne({ _id: name });
  }

  /**
   * The collection's spec: this instance's cache, else the catalog (the collection may come from elsewhere).
   * A collection dropped and re-created with another spec by a different instance keeps its old spec here
   * until restart; generations have names of their own (DESIGN §6), so that does not happen in practice.
   */
  async specOf(collection: string): Promise<StoredSpec> {
    validateCollectionName(collection);
    const cached = this.specs.get(collection);
    if (cached) return cached;
    const entry = await this.catalog.findOne({ _id: collection });
    if (!entry) throw collectionNotFound(collection);
    const spec: StoredSpec = {
      indexes: entry.indexes.map((i) => i.split(',')),
      multiValued: entry.multiValued,
    };
    this.specs.set(collection, spec);
    return spec;
  }
}
