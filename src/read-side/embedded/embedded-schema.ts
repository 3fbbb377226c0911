/**
 * The tables of the embedded read store. Names reach the SQL text only once validated (see
 * read-store.validation.ts) and quoted; values are always bound parameters.
 */
import type Database from 'better-sqlite3';
import type { Json, JsonObject } from '../../event-store/event-store.port.js';
import type { ReadDocument } from '../read-store.port.js';
import { isScalar, type StoredSpec } from '../read-store.validation.js';

/** The columns of a collection's table, in the order every read selects them. */
export const DOCUMENT_COLUMNS = 'id, revision, position, projected_at, data';

/** A row of a collection's table, read with `safeIntegers` so int64 values round-trip. */
export interface DocumentRow {
  id: string;
  revision: bigint;
  position: bigint;
  projected_at: bigint;
  data: string;
}

export function toDocument(row: DocumentRow): ReadDocument {
  return {
    id: row.id,
    revision: row.revision,
    position: row.position,
    projectedAt: new Date(Number(row.projected_at)),
    data: JSON.parse(row.data) as JsonObject,
  };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `__` cannot occur in a collection name, so a side table never collides with a collection. */
export function sideTable(collection: string, field: string): string {
  return `${collection}__${field}`;
}

/** The SQL expression of a field; identical in indexes and queries so the planner can match them. */
export function fieldExpression(field: string): string {
  return field === 'position' ? 'position' : `json_extract(data, '$.${field}')`;
}

/** The side-table keys of a multi-valued field: JSON text of each scalar element, once each. */
export function elementKeys(value: Json | undefined): Set<string> {
  const keys = new Set<string>();
  if (Array.isArray(value)) {
    for (const element of value) if (isScalar(element)) keys.add(JSON.stringify(element));
  }
  return keys;
}

/**
 * Creates a collection's table, its indexes and side tables where missing; a multi-valued field that
 * `previous` (the spec recorded before) lacks gets its side table (re)filled from the documents, so it never
 * answers from stale values. Run inside the caller's transaction.
 */
export function createCollectionTables(
  db: Database.Database,
  collection: string,
  spec: StoredSpec,
  previous: StoredSpec | null,
): void {
  const table = quoteIdentifier(collection);
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (
       id           TEXT PRIMARY KEY,
       revision     INTEGER NOT NULL,
       position     INTEGER NOT NULL,
       projected_at INTEGER NOT NULL,
       data         TEXT NOT NULL -- JSON
     )`,
  );
  for (const fields of spec.indexes) {
    const columns = [...fields.map(fieldExpression), 'id'].join(', ');
    db.exec(
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${collection}__ix:${fields.join(',')}`)} ON ${table} (${columns})`,
    );
  }
  for (const field of spec.multiValued) {
    const side = quoteIdentifier(sideTable(collection, field));
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${side} (
         value TEXT NOT NULL, -- JSON text of one element
         id    TEXT NOT NULL,
         PRIMARY KEY (value, id)
       ) WITHOUT ROWID;
       CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${sideTable(collection, field)}__by_id`)} ON ${side} (id)`,
    );
    if (!previous?.multiValued.includes(field)) refillSide(db, collection, field);
  }
}

/** Drops a collection's table and its side tables. Run inside the caller's transaction. */
export function dropCollectionTables(db: Database.Database, collection: string): void {
  // The collection's table and its side tables (`<name>__<field>`: `__` cannot occur in a collection name).
  const tables = db
    .prepare<[string, string], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND (name = ? OR name LIKE ? ESCAPE '\\')",
    )
    .all(collection, `${collection.replace(/_/g, '\\_')}\\_\\_%`);
  for (const table of tables) db.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(table.name)}`);
}

/** Rebuilds one side table from the documents (a multi-valued field new to the spec). In a transaction. */
function refillSide(db: Database.Database, collection: string, field: string): void {
  const side = quoteIdentifier(sideTable(collection, field));
  db.exec(`DELETE FROM ${side}`);
  const add = db.prepare<[string, string]>(`INSERT OR IGNORE INTO ${side} (value, id) VALUES (?, ?)`);
  // Read in pages (an open iterator would keep the connection busy for the inserts).
  const page = db.prepare<[string, number], { id: string; data: string }>(
    `SELECT id, data FROM ${quoteIdentifier(collection)} WHERE id > ? ORDER BY id LIMIT ?`,
  );
  for (let rows = page.all('', 500); rows.length > 0; rows = page.all(rows.at(-1)!.id, 500)) {
    for (const row of rows) {
      const data = JSON.parse(row.data) as JsonObject;
      for (const value of elementKeys(data[field])) add.run(value, row.id);
    }
  }
}

/** The prepared statements of one collection (prepared once, reused by every call). */
export interface CollectionStatements {
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

export function prepareCollectionStatements(
  db: Database.Database,
  collection: string,
  spec: StoredSpec,
): CollectionStatements {
  const table = quoteIdentifier(collection);
  const read = <P extends unknown[]>(sql: string) => db.prepare<P, DocumentRow>(sql).safeIntegers(true);
  return {
    get: read(`SELECT ${DOCUMENT_COLUMNS} FROM ${table} WHERE id = ?`),
    getMany: read(`SELECT ${DOCUMENT_COLUMNS} FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`),
    insert: db.prepare(
      `INSERT INTO ${table} (${DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    update: db.prepare(
      `UPDATE ${table} SET revision = ?, position = ?, projected_at = ?, data = ? WHERE id = ? AND revision = ?`,
    ),
    count: db.prepare(`SELECT count(*) AS n FROM ${table}`),
    scan: read(`SELECT ${DOCUMENT_COLUMNS} FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`),
    sides: new Map(
      spec.multiValued.map((field) => {
        const side = quoteIdentifier(sideTable(collection, field));
        return [
          field,
          {
            clear: db.prepare<[string]>(`DELETE FROM ${side} WHERE id = ?`),
            add: db.prepare<[string, string]>(`INSERT OR IGNORE INTO ${side} (value, id) VALUES (?, ?)`),
          },
        ] as const;
      }),
    ),
  };
}
