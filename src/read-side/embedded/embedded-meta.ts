import type Database from 'better-sqlite3';
import type { JsonObject } from '../../event-store/event-store.port.js';
import { sameJson } from '../same-json.js';

/** The read side's own named values, as JSON text in `read_meta`. */
export class EmbeddedMeta {
  private readonly statements: {
    readonly get: Database.Statement<[string], { value: string }>;
    readonly set: Database.Statement<[string, string]>;
    readonly remove: Database.Statement<[string]>;
  };
  private readonly cas: Database.Transaction<
    (key: string, expected: JsonObject | null, value: JsonObject | null) => boolean
  >;

  /** Creates the table if missing. */
  constructor(db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS read_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL -- JSON
      ) WITHOUT ROWID;
    `);
    this.statements = {
      get: db.prepare('SELECT value FROM read_meta WHERE key = ?'),
      set: db.prepare(
        'INSERT INTO read_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      remove: db.prepare('DELETE FROM read_meta WHERE key = ?'),
    };
    this.cas = db.transaction(
      (key: string, expected: JsonObject | null, value: JsonObject | null): boolean => {
        const current = this.get(key);
        if (!sameJson(current, expected)) return false;
        if (value === null) this.statements.remove.run(key);
        else this.set(key, value);
        return true;
      },
    );
  }

  get(key: string): JsonObject | null {
    const row = this.statements.get.get(key);
    return row ? (JSON.parse(row.value) as JsonObject) : null;
  }

  set(key: string, value: JsonObject): void {
    this.statements.set.run(key, JSON.stringify(value));
  }

  /** Read, compare and write in one immediate transaction: atomic across connections to the file. */
  compareAndSet(key: string, expected: JsonObject | null, value: JsonObject | null): boolean {
    return this.cas.immediate(key, expected, value);
  }
}
