import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Json, JsonObject } from '../../event-store/event-store.port.js';
import { openSqlite } from '../../shared/infrastructure/sqlite.js';
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
  isScalar,
  validateCollectionName,
  validateQuery,
  validateSpec,
  validateWrites,
  type StoredSpec,
} from '../read-store.validation.js';
import { sameJson } from '../same-json.js';

export interface EmbeddedReadStoreOptions {
  /**
   * Called with every SQL statement run, as better-sqlite3 reports it (with bound values expanded into the
   * text, so it may carry document data): for debug logging; tests count statements with it.
   */
  readonly trace?: (sql: string) => void;
}

interface DocumentRow {
  id: string;
  revision: bigint;
  position: bigint;
  projected_at: bigint;
  data: string;
}

interface CollectionStatements {
  readonly get: Database.Statement<[string], DocumentRow>;
  readonly getMany: Database.Statement<[string], DocumentRow>;
  readonly insert: Database.Statement<[string, bigint, bigint, number, string]>;
  readonly update: Database.Statement<[bigint, bigint, number, string, string, bigint]>;
  readonly count: Database.Statement<[], { n: number }>;
  readonly scan: Database.Statement<[string, number], DocumentRow>;
  /** Per multi-valued field: clear a document's values, add one value. */
  readonly sides: ReadonlyMap<
    string,
    { readonly clear: Database.Statement<[string]>; readonly add: Database.Statement<[string, string]> }
  >;
}

/**
 * Names that end up in SQL text (tables, index names, JSON paths) are checked against these before use;
 * values never are: they are always bound parameters.
 * - Collection: lower-case, no `__` (reserved for side tables `<collection>__<field>` and index names), not
 *   `sqlite_*` nor one of this store's own tables, at most 64 characters (MongoDB and FerretDB accept it too).
 * - Field: a plain top-level identifier (no `.` or `$`, so it can be neither a path nor an operator).
 */
/** Cap on cached dynamic `find` statements (one per distinct query shape). */
const MAX_CACHED_QUERIES = 256;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS read_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL -- JSON
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS read_collections (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL -- JSON: {indexes, multiValued}
  ) WITHOUT ROWID;
`;

/**
 * The embedded read store: one SQLite file (WAL, `synchronous=FULL`: a consumer acknowledges events once
 * `write` resolves, so a resolved write must survive a power cut), one table per collection:
 * `id TEXT PRIMARY KEY, revision, position, projected_at (ms), data (JSON text)`.
 *
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
 * Everything is synchronous underneath (better-sqlite3); each method answers through a promise for the port.
 */
export class EmbeddedReadStore extends ReadStore {
  private readonly db: Database.Database;
  private readonly specs = new Map<string, StoredSpec>();
  private readonly statements = new Map<string, CollectionStatements>();
  private readonly queries = new Map<string, Database.Statement<unknown[], DocumentRow>>();
  private readonly meta: {
    readonly get: Database.Statement<[string], { value: string }>;
    readonly set: Database.Statement<[string, string]>;
    readonly spec: Database.Statement<[string], { spec: string }>;
    readonly saveSpec: Database.Statement<[string, string]>;
    readonly forget: Database.Statement<[string]>;
    readonly remove: Database.Statement<[string]>;
  };
  private readonly casMeta: Database.Transaction<
    (key: string, expected: JsonObject | null, value: JsonObject | null) => boolean
  >;
  private closed = false;

  constructor(
    readonly file: string,
    options: EmbeddedReadStoreOptions = {},
  ) {
    super();
    mkdirSync(dirname(file), { recursive: true });
    // openSqlite: the better-sqlite3 build that is safe on this Node (see shared/infrastructure/sqlite.ts).
    this.db = openSqlite(file, options.trace ? { verbose: (sql) => options.trace?.(String(sql)) } : {});
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.meta = {
      get: this.db.prepare('SELECT value FROM read_meta WHERE key = ?'),
      set: this.db.prepare(
        'INSERT INTO read_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      spec: this.db.prepare('SELECT spec FROM read_collections WHERE name = ?'),
      saveSpec: this.db.prepare(
        'INSERT INTO read_collections (name, spec) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec',
      ),
      forget: this.db.prepare('DELETE FROM read_collections WHERE name = ?'),
      remove: this.db.prepare('DELETE FROM read_meta WHERE key = ?'),
    };
    this.casMeta = this.db.transaction(
      (key: string, expected: JsonObject | null, value: JsonObject | null): boolean => {
        const row = this.meta.get.get(key);
        const current = row ? (JSON.parse(row.value) as JsonObject) : null;
        if (!sameJson(current, expected)) return false;
        if (value === null) this.meta.remove.run(key);
        else this.meta.set.run(key, JSON.stringify(value));
        return true;
      },
    );
  }

  /**
   * Creates the table, its indexes and side tables if missing, and records the spec. Indexes are only ever
   * added: a changed spec normally comes with a new generation of the collection (DESIGN §6), and the old
   * generation is dropped whole. A multi-valued field new to the spec gets its side table (re)filled from the
   * documents, so it never answers from stale values.
   */
  async ensureCollection(spec: CollectionSpec): Promise<void> {
    this.assertOpen();
    const normalized = validateSpec(spec);
    const table = quoteIdentifier(spec.name);
    this.db
      .transaction(() => {
        const previous = this.loadSpec(spec.name);
        this.db.exec(
          `CREATE TABLE IF NOT EXISTS ${table} (
             id           TEXT PRIMARY KEY,
             revision     INTEGER NOT NULL,
             position     INTEGER NOT NULL,
             projected_at INTEGER NOT NULL,
             data         TEXT NOT NULL -- JSON
           )`,
        );
        for (const fields of normalized.indexes) {
          const columns = [...fields.map(fieldExpression), 'id'].join(', ');
          this.db.exec(
            `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${spec.name}__ix:${fields.join(',')}`)} ON ${table} (${columns})`,
          );
        }
        for (const field of normalized.multiValued) {
          const side = quoteIdentifier(sideTable(spec.name, field));
          this.db.exec(
            `CREATE TABLE IF NOT EXISTS ${side} (
               value TEXT NOT NULL, -- JSON text of one element
               id    TEXT NOT NULL,
               PRIMARY KEY (value, id)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${sideTable(spec.name, field)}__by_id`)} ON ${side} (id)`,
          );
          if (!previous?.multiValued.includes(field)) this.refillSide(spec.name, field);
        }
        this.meta.saveSpec.run(spec.name, JSON.stringify(normalized));
      })
      .immediate();
    this.specs.set(spec.name, normalized);
    this.statements.delete(spec.name);
  }

  async dropCollection(name: string): Promise<void> {
    this.assertOpen();
    validateCollectionName(name);
    this.forgetStatements(name);
    this.db
      .transaction(() => {
        // The collection's table and its side tables (`<name>__<field>`: `__` cannot occur in a collection name).
        const tables = this.db
          .prepare<[string, string], { name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND (name = ? OR name LIKE ? ESCAPE '\\')",
          )
          .all(name, `${name.replace(/_/g, '\\_')}\\_\\_%`);
        for (const table of tables) this.db.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(table.name)}`);
        this.meta.forget.run(name);
      })
      .immediate();
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
   * side tables of the applied ones are rewritten in the same transaction. Durable when it resolves
   * (synchronous=FULL). Conflicts are reported in the order of `writes`.
   */
  async write(collection: string, writes: readonly DocumentWrite[]): Promise<WriteResult> {
    this.assertOpen();
    const prepared = prepareWrites(writes);
    const statements = this.statementsOf(collection);
    if (!statements)
      throw new Error(`read store: collection "${collection}" does not exist (ensureCollection first)`);
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
    return { conflicts };
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
    const limit = options.limit as unknown;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
      throw new Error('read store: limit must be a non-negative integer');
    }
    if (options.after !== undefined && typeof options.after !== 'string') {
      throw new Error('read store: scan after must be a string id');
    }
    const statements = this.statementsOf(collection);
    if (!statements || limit === 0) return [];
    // Every id sorts after '' (a write needs a non-empty id).
    return statements.scan.all(options.after ?? '', limit).map(toDocument);
  }

  async getMeta(key: string): Promise<JsonObject | null> {
    this.assertOpen();
    const row = this.meta.get.get(key);
    return row ? (JSON.parse(row.value) as JsonObject) : null;
  }

  async setMeta(key: string, value: JsonObject): Promise<void> {
    this.assertOpen();
    if (!isPlainObject(value)) throw new Error('read store: a meta value must be a JSON object');
    this.meta.set.run(key, JSON.stringify(value));
  }

  /** Read, compare and write in one immediate transaction: atomic across connections to the file. */
  async compareAndSetMeta(
    key: string,
    expected: JsonObject | null,
    value: JsonObject | null,
  ): Promise<boolean> {
    this.assertOpen();
    if (value !== null && !isPlainObject(value)) {
      throw new Error('read store: a meta value must be a JSON object');
    }
    return this.casMeta.immediate(key, expected, value);
  }

  /** Closes the file; closing twice is harmless, any other call afterwards rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.queries.clear();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('read store: the embedded read store is closed');
  }

  /** The collection's spec: this instance's cache, else the catalog (created earlier or by another instance). */
  private loadSpec(name: string): StoredSpec | null {
    const cached = this.specs.get(name);
    if (cached) return cached;
    const row = this.meta.spec.get(name);
    if (!row) return null;
    const spec = JSON.parse(row.spec) as StoredSpec;
    this.specs.set(name, spec);
    return spec;
  }

  /** Prepared statements of an existing collection; null when it does not exist. Validates the name. */
  private statementsOf(collection: string): CollectionStatements | null {
    validateCollectionName(collection);
    const cached = this.statements.get(collection);
    if (cached) return cached;
    const spec = this.loadSpec(collection);
    if (!spec) return null;
    const table = quoteIdentifier(collection);
    const columns = 'id, revision, position, projected_at, data';
    const read = <P extends unknown[]>(sql: string) =>
      this.db.prepare<P, DocumentRow>(sql).safeIntegers(true);
    const statements: CollectionStatements = {
      get: read(`SELECT ${columns} FROM ${table} WHERE id = ?`),
      getMany: read(`SELECT ${columns} FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`),
      insert: this.db.prepare(
        `INSERT INTO ${table} (id, revision, position, projected_at, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      update: this.db.prepare(
        `UPDATE ${table} SET revision = ?, position = ?, projected_at = ?, data = ? WHERE id = ? AND revision = ?`,
      ),
      count: this.db.prepare(`SELECT count(*) AS n FROM ${table}`),
      scan: read(`SELECT ${columns} FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`),
      sides: new Map(
        spec.multiValued.map((field) => {
          const side = quoteIdentifier(sideTable(collection, field));
          return [
            field,
            {
              clear: this.db.prepare<[string]>(`DELETE FROM ${side} WHERE id = ?`),
              add: this.db.prepare<[string, string]>(
                `INSERT OR IGNORE INTO ${side} (value, id) VALUES (?, ?)`,
              ),
            },
          ] as const;
        }),
      ),
    };
    this.statements.set(collection, statements);
    return statements;
  }

  private forgetStatements(collection: string): void {
    this.specs.delete(collection);
    this.statements.delete(collection);
    // Cached queries on a dropped table would fail: drop them all (cheap to prepare again).
    this.queries.clear();
  }

  /** Rebuilds one side table from the documents (a multi-valued field new to the spec). In a transaction. */
  private refillSide(collection: string, field: string): void {
    const side = quoteIdentifier(sideTable(collection, field));
    this.db.exec(`DELETE FROM ${side}`);
    const add = this.db.prepare<[string, string]>(`INSERT OR IGNORE INTO ${side} (value, id) VALUES (?, ?)`);
    // Read in pages (an open iterator would keep the connection busy for the inserts).
    const page = this.db.prepare<[string, number], { id: string; data: string }>(
      `SELECT id, data FROM ${quoteIdentifier(collection)} WHERE id > ? ORDER BY id LIMIT ?`,
    );
    for (let rows = page.all('', 500); rows.length > 0; rows = page.all(rows.at(-1)!.id, 500)) {
      for (const row of rows) {
        const data = JSON.parse(row.data) as JsonObject;
        for (const value of elementKeys(data[field])) add.run(value, row.id);
      }
    }
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

  /**
   * The SQL of a `find`: only validated names (declared fields, `position`) reach the SQL text, every value
   * is a bound parameter. Throws before anything runs if the query is not allowed.
   */
  private compile(collection: string, query: FindQuery): { sql: string; params: unknown[]; limit: number } {
    validateCollectionName(collection);
    const spec = this.loadSpec(collection);
    if (!spec)
      throw new Error(`read store: collection "${collection}" does not exist (ensureCollection first)`);
    const plan = validateQuery(spec, query);
    const table = quoteIdentifier(collection);
    const where: string[] = [];
    const params: unknown[] = [];

    for (const condition of plan.conditions) {
      const expression = fieldExpression(condition.field);
      if (condition.kind === 'has') {
        where.push(
          `id IN (SELECT id FROM ${quoteIdentifier(sideTable(collection, condition.field))} WHERE value = ?)`,
        );
        params.push(JSON.stringify(condition.value));
      } else if (condition.kind === 'eq') {
        where.push(`${expression} = ?`);
        params.push(bindable(condition.value));
        const type = typeCheck(condition.field, condition.value);
        if (type) where.push(type);
      } else {
        const sample = condition.gte ?? condition.lte;
        if (condition.gte !== undefined) {
          where.push(`${expression} >= ?`);
          params.push(bindable(condition.gte));
        }
        if (condition.lte !== undefined) {
          where.push(`${expression} <= ?`);
          params.push(bindable(condition.lte));
        }
        if (condition.field !== 'position' && sample !== undefined) {
          // Keep the index range tight and the type bracket exact: every number sorts below every text in
          // SQLite, and '' is the smallest text.
          where.push(typeof sample === 'number' ? `${expression} < ''` : `${expression} >= ''`);
          const type = typeCheck(condition.field, sample);
          if (type) where.push(type);
        }
      }
    }

    const sortExpression = fieldExpression(plan.sort.field);
    const direction = plan.sort.direction === 'asc' ? 'ASC' : 'DESC';
    if (plan.after) {
      // The row-value comparison is the exact keyset condition; the plain bound before it is implied by it
      // and is what lets SQLite turn it into an index range after equality columns (it does not use a row
      // value for a range that follows an equality prefix).
      const [bound, beyond] = plan.sort.direction === 'asc' ? ['>=', '>'] : ['<=', '<'];
      const value = bindable(plan.after.value);
      where.push(`${sortExpression} ${bound} ?`, `(${sortExpression}, id) ${beyond} (?, ?)`);
      params.push(value, value, plan.after.id);
    }
    params.push(plan.limit);
    const sql =
      `SELECT id, revision, position, projected_at, data FROM ${table}` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY ${sortExpression} ${direction}, id ${direction} LIMIT ?`;
    return { sql, params, limit: plan.limit };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation and the query plan. The MongoDB adapter applies the same rules (kept side by side on purpose:
// adapters do not import each other).

interface PreparedWrite {
  readonly write: DocumentWrite;
  readonly json: string;
}

/** Checks a whole batch before anything is written; serialises each document once. */
function prepareWrites(writes: readonly DocumentWrite[]): PreparedWrite[] {
  validateWrites(writes);
  return writes.map((write) => ({ write, json: JSON.stringify(write.data) }));
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function sideTable(collection: string, field: string): string {
  return `${collection}__${field}`;
}

/** The SQL expression of a field; identical in indexes and queries so the planner can match them. */
function fieldExpression(field: string): string {
  return field === 'position' ? 'position' : `json_extract(data, '$.${field}')`;
}

/** Extra condition making a comparison exact about JSON types (true is 1 for json_extract). */
function typeCheck(field: string, value: Scalar): string | null {
  if (field === 'position') return null;
  const type = `json_type(data, '$.${field}')`;
  if (typeof value === 'boolean') return `${type} IN ('true', 'false')`;
  if (typeof value === 'number') return `${type} IN ('integer', 'real')`;
  return null;
}

/** better-sqlite3 cannot bind booleans; json_extract answers 1/0 for true/false. Integers bind exactly. */
function bindable(value: Scalar): string | number | bigint {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}

/** The side-table keys of a multi-valued field: JSON text of each scalar element, once each. */
function elementKeys(value: Json | undefined): Set<string> {
  const keys = new Set<string>();
  if (Array.isArray(value)) {
    for (const element of value) if (isScalar(element)) keys.add(JSON.stringify(element));
  }
  return keys;
}

function toDocument(row: DocumentRow): ReadDocument {
  return {
    id: row.id,
    revision: row.revision,
    position: row.position,
    projectedAt: new Date(Number(row.projected_at)),
    data: JSON.parse(row.data) as JsonObject,
  };
}
