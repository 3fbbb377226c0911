import type Database from 'better-sqlite3';
import type { CollectionSpec } from '../read-store.port.js';
import { validateSpec, type StoredSpec } from '../read-store.validation.js';
import { createCollectionTables, dropCollectionTables } from './embedded-schema.js';

/**
 * The collections of the embedded read store: creates and drops their tables, and keeps each one's spec in
 * `read_collections` so that a store opened later (or another connection to the file) knows its fields.
 */
export class EmbeddedCatalog {
  private readonly specs = new Map<string, StoredSpec>();
  private readonly statements: {
    readonly get: Database.Statement<[string], { spec: string }>;
    readonly save: Database.Statement<[string, string]>;
    readonly forget: Database.Statement<[string]>;
  };

  /** Creates the catalog table if missing. */
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS read_collections (
        name TEXT PRIMARY KEY,
        spec TEXT NOT NULL -- JSON: {indexes, multiValued}
      ) WITHOUT ROWID;
    `);
    this.statements = {
      get: db.prepare('SELECT spec FROM read_collections WHERE name = ?'),
      save: db.prepare(
        'INSERT INTO read_collections (name, spec) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec',
      ),
      forget: db.prepare('DELETE FROM read_collections WHERE name = ?'),
    };
  }

  /**
   * Creates the table, its indexes and side tables if missing, and records the spec, in one immediate
   * transaction. Indexes are only ever added: a changed spec normally comes with a new generation of the
   * collection (DESIGN §6), and the old generation is dropped whole.
   */
  ensure(spec: CollectionSpec): void {
    const normalized = validateSpec(spec);
    this.db
      .transaction(() => {
        createCollectionTables(this.db, spec.name, normalized, this.specOf(spec.name));
        this.statements.save.run(spec.name, JSON.stringify(normalized));
      })
      .immediate();
    this.specs.set(spec.name, normalized);
  }

  /** Drops the collection's tables and its entry, in one immediate transaction (the name is validated). */
  drop(name: string): void {
    this.specs.delete(name);
    this.db
      .transaction(() => {
        dropCollectionTables(this.db, name);
        this.statements.forget.run(name);
      })
      .immediate();
  }

  /** The collection's spec: this instance's cache, else the catalog (created earlier or by another instance). */
  specOf(name: string): StoredSpec | null {
    const cached = this.specs.get(name);
    if (cached) return cached;
    const row = this.statements.get.get(name);
    if (!row) return null;
    const spec = JSON.parse(row.spec) as StoredSpec;
    this.specs.set(name, spec);
    return spec;
  }
}
