import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { JsonObject } from '../../event-store/event-store.port.js';
import { openSqlite } from '../../shared/infrastructure/sqlite.js';
import {
  ReadStore,
  type CollectionSpec,
  type DocumentWrite,
  type FindQuery,
  type ReadDocument,
  type ScanOptions,
  type WriteResult,
} from '../read-store.port.js';
import {
  collectionNotFound,
  validateCollectionName,
  validateMetaValue,
  validateScan,
  validateWrites,
} from '../read-store.validation.js';
import { EmbeddedCatalog } from './embedded-catalog.js';
import { EmbeddedMeta } from './embedded-meta.js';
import { compileFind, type CompiledFind } from './embedded-query.js';
import {
  elementKeys,
  prepareCollectionStatements,
  toDocument,
  type CollectionStatements,
  type DocumentRow,
} from './embedded-schema.js';

export interface EmbeddedReadStoreOptions {
  /**
   * Called with every SQL statement run, as better-sqlite3 reports it (with bound values expanded into the
   * text, so it may carry document data): for debug logging; tests count statements with it.
   */
  readonly trace?: (sql: string) => void;
}

/** Cap on cached dynamic `find` statements (one per distinct query shape). */
const MAX_CACHED_QUERIES = 256;

/**
 * The embedded read store: one SQLite file in WAL mode, one table per collection:
 * `id TEXT PRIMARY KEY, revision, position, projected_at (ms), data (JSON text)` (see embedded-schema.ts).
 *
 * - A consumer acknowledges events once `write` resolves, so a resolved write must survive a power cut. The
 *   connection runs `synchronous=NORMAL` (a commit does not wait for the disk) and every write syncs the WAL
 *   file itself before it resolves (`durable`, an fsync on libuv's thread pool): as durable as `FULL`, but the
 *   wait for the disk — most of a projection batch's cost — no longer holds the event loop. A read may see a
 *   write whose sync is still under way; after a power cut that write is gone and its events, never
 *   acknowledged, are delivered again.
 * - Declared indexes are expression indexes on `json_extract(data, '$.<field>')` (the `position` column for
 *   `position`), always ending with `id`, so a filtered, sorted, keyset-paginated query is an index range
 *   scan. `find` writes the very same expressions so the planner matches them (see `explain`).
 * - A multi-valued field `f` lives in a side table `<collection>__f(value, id)`, primary key (value, id),
 *   maintained by `write` in the same transaction. `value` is the element's JSON text, so `has: 1` matches
 *   the number 1 but neither `"1"` nor `true` (MongoDB's typed semantics).
 * - Comparisons are typed like MongoDB's: `eq: 1` does not match `true` or `"1"`, a numeric range matches
 *   numbers only, a string range strings only. Strings compare by UTF-8 bytes (MongoDB's simple collation).
 * - Revisions, positions and `projected_at` are read as bigint (`safeIntegers`), so int64 values round-trip.
 *
 * Everything but the WAL's sync is synchronous underneath (better-sqlite3); each method answers through a
 * promise for the port.
 */
export class EmbeddedReadStore extends ReadStore {
  private readonly db: Database.Database;
  private readonly catalog: EmbeddedCatalog;
  private readonly meta: EmbeddedMeta;
  private readonly statements = new Map<string, CollectionStatements>();
  private readonly queries = new Map<string, Database.Statement<unknown[], DocumentRow>>();
  private closed = false;
  private wal: Promise<FileHandle> | undefined;

  constructor(
    readonly file: string,
    options: EmbeddedReadStoreOptions = {},
  ) {
    super();
    mkdirSync(dirname(file), { recursive: true });
    // openSqlite: the better-sqlite3 build that is safe on this Node (see shared/infrastructure/sqlite.ts).
    this.db = openSqlite(file, options.trace ? { verbose: (sql) => options.trace?.(String(sql)) } : {});
    this.db.pragma('journal_mode = WAL');
    // Each write syncs the WAL itself before it resolves (durable()): see the class comment.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.meta = new EmbeddedMeta(this.db);
    this.catalog = new EmbeddedCatalog(this.db);
  }

  /** See EmbeddedCatalog.ensure. */
  async ensureCollection(spec: CollectionSpec): Promise<void> {
    this.assertOpen();
    this.catalog.ensure(spec);
    // Prepared again on next use: a new multi-valued field adds side-table statements.
    this.statements.delete(spec.name);
  }

  async dropCollection(name: string): Promise<void> {
    this.assertOpen();
    validateCollectionName(name);
    this.statements.delete(name);
    // Cached queries on a dropped table would fail: drop them all (cheap to prepare again).
    this.queries.clear();
    this.catalog.drop(name);
  }

  /** A collection that does not exist holds no documents: null. */
  async get(collection: string, id: string): Promise<ReadDocument | null> {
    this.assertOpen();
    const statements = this.statementsOf(collection);
    if (!statements) return null;
    const row = statements.get.get(id);
    return row ? toDocument(row) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    this.assertOpen();
    const found = new Map<string, ReadDocument>();
    const statements = this.statementsOf(collection);
    if (!statements || ids.length === 0) return found;
    // One statement whatever the number of ids: they travel as one JSON array parameter.
    for (const row of statements.getMany.all(JSON.stringify(ids))) found.set(row.id, toDocument(row));
    return found;
  }

  /**
   * One immediate transaction for the whole batch: each write is an INSERT … ON CONFLICT DO NOTHING
   * (expected null) or an UPDATE … WHERE revision = expected; a write that changes no row is a conflict. The
   * side tables of the applied ones are rewritten in the same transaction. Durable when it resolves (the WAL
   * synced: see the class comment). Conflicts are reported in the order of `writes`.
   */
  async write(collection: string, writes: readonly DocumentWrite[]): Promise<WriteResult> {
    this.assertOpen();
    validateWrites(writes);
    // Each document is serialised once, before the transaction.
    const prepared = writes.map((write) => ({ write, json: JSON.stringify(write.data) }));
    const statements = this.statementsOf(collection);
    if (!statements) throw collectionNotFound(collection);
    if (prepared.length === 0) return { conflicts: [] };
    const projectedAt = Date.now();
    const conflicts = this.db
      .transaction(() => {
        const failed: string[] = [];
        for (const { write, json } of prepared) {
          const changes =
            write.expectedRevision === null
              ? statements.insert.run(write.id, write.revision, write.position, projectedAt, json).changes
              : statements.update.run(
                  write.revision,
                  write.position,
                  projectedAt,
                  json,
                  write.id,
                  write.expectedRevision,
                ).changes;
          if (changes === 0) {
            failed.push(write.id);
            continue;
          }
          for (const [field, side] of statements.sides) {
            side.clear.run(write.id);
            for (const value of elementKeys(write.data[field])) side.add.run(value, write.id);
          }
        }
        return failed;
      })
      .immediate();
    await this.durable();
    return { conflicts };
  }

  /**
   * Syncs the WAL (what the commits before this call wrote) to disk. With synchronous=NORMAL SQLite syncs the
   * WAL only at checkpoints; a commit whose frames were synced here survives a power cut, as with FULL.
   */
  private async durable(): Promise<void> {
    try {
      this.wal ??= open(`${this.file}-wal`, 'r');
      await (await this.wal).sync();
    } catch {
      // The WAL cannot be opened or synced from here: let SQLite sync it (and the file), on this thread.
      this.wal = undefined;
      this.db.pragma('wal_checkpoint(FULL)');
    }
  }

  async find(collection: string, query: FindQuery): Promise<ReadDocument[]> {
    this.assertOpen();
    const { sql, params, limit } = this.compile(collection, query);
    if (limit === 0) return [];
    return this.cachedQuery(sql)
      .all(...params)
      .map(toDocument);
  }

  /**
   * The `EXPLAIN QUERY PLAN` lines of the statement `find` would run (the same validation applies): for
   * operators and for the test that checks a filtered, sorted query is served by an index.
   */
  explain(collection: string, query: FindQuery): string[] {
    this.assertOpen();
    const { sql, params } = this.compile(collection, query);
    return this.db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail);
  }

  async count(collection: string): Promise<number> {
    this.assertOpen();
    return this.statementsOf(collection)?.count.get()?.n ?? 0;
  }

  /** One primary-key range read: `id > ? ORDER BY id LIMIT ?`. */
  async scan(collection: string, options: ScanOptions): Promise<ReadDocument[]> {
    this.assertOpen();
    const { after, limit } = validateScan(options);
    const statements = this.statementsOf(collection);
    if (!statements || limit === 0) return [];
    // Every id sorts after '' (a write needs a non-empty id).
    return statements.scan.all(after ?? '', limit).map(toDocument);
  }

  async getMeta(key: string): Promise<JsonObject | null> {
    this.assertOpen();
    return this.meta.get(key);
  }

  async setMeta(key: string, value: JsonObject): Promise<void> {
    this.assertOpen();
    validateMetaValue(value);
    this.meta.set(key, value);
    await this.durable();
  }

  /** See EmbeddedMeta.compareAndSet: atomic across connections to the file. */
  async compareAndSetMeta(
    key: string,
    expected: JsonObject | null,
    value: JsonObject | null,
  ): Promise<boolean> {
    this.assertOpen();
    if (value !== null) validateMetaValue(value);
    const written = this.meta.compareAndSet(key, expected, value);
    await this.durable();
    return written;
  }

  /** Closes the file; closing twice is harmless, any other call afterwards rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.queries.clear();
    const wal = this.wal;
    this.wal = undefined;
    if (wal) await (await wal.catch(() => null))?.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('read store: the embedded read store is closed');
  }

  /** Prepared statements of an existing collection; null when it does not exist. Validates the name. */
  private statementsOf(collection: string): CollectionStatements | null {
    validateCollectionName(collection);
    const cached = this.statements.get(collection);
    if (cached) return cached;
    const spec = this.catalog.specOf(collection);
    if (!spec) return null;
    const statements = prepareCollectionStatements(this.db, collection, spec);
    this.statements.set(collection, statements);
    return statements;
  }

  private cachedQuery(sql: string): Database.Statement<unknown[], DocumentRow> {
    let statement = this.queries.get(sql);
    if (!statement) {
      if (this.queries.size >= MAX_CACHED_QUERIES) this.queries.clear();
      statement = this.db.prepare<unknown[], DocumentRow>(sql).safeIntegers(true);
      this.queries.set(sql, statement);
    }
    return statement;
  }

  /** Validates the collection and the query against its spec, then compiles (see embedded-query.ts). */
  private compile(collection: string, query: FindQuery): CompiledFind {
    validateCollectionName(collection);
    const spec = this.catalog.specOf(collection);
    if (!spec) throw collectionNotFound(collection);
    return compileFind(collection, spec, query);
  }
}
