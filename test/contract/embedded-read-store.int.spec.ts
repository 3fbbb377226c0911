import { mkdtemp, open as openFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../src/shared/infrastructure/sqlite.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import type { FindQuery } from '../../src/read-side/read-store.port.js';
import { describeReadStoreContract, insert, uniqueCollection, update } from './read-store.contract.js';

describeReadStoreContract('embedded SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-read-contract-'));
  const file = join(dir, 'read.sqlite');
  let statements = 0;
  const store = new EmbeddedReadStore(file, { trace: () => (statements += 1) });
  return {
    store,
    another: async () => new EmbeddedReadStore(file),
    queriesRun: () => statements,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('EmbeddedReadStore (SQLite file specifics)', () => {
  let dir: string;
  const open: EmbeddedReadStore[] = [];
  const openStore = (file = join(dir, 'read.sqlite')): EmbeddedReadStore => {
    const store = new EmbeddedReadStore(file);
    open.push(store);
    return store;
  };
  const spec = {
    name: uniqueCollection('orders'),
    indexes: [['status', 'createdAt'], ['customer', 'total'], ['position']],
    multiValued: ['skus'],
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-read-embedded-'));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Enough rows that SQLite's planner, with ANALYZE statistics, has a real choice to make. */
  async function seeded(store: EmbeddedReadStore): Promise<void> {
    await store.ensureCollection(spec);
    const statuses = ['open', 'paid', 'shipped', 'cancelled'];
    await store.write(
      spec.name,
      Array.from({ length: 2000 }, (_, i) =>
        insert(
          `o${i}`,
          {
            status: statuses[i % 4]!,
            customer: `c${i % 50}`,
            total: (i * 37) % 1000,
            createdAt: `2026-01-${String((i % 28) + 1).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00`,
            skus: [`s${i % 30}`, `s${(i + 7) % 30}`],
          },
          0n,
          BigInt(i + 1),
        ),
      ),
    );
    (store as unknown as { db: Database.Database }).db.exec('ANALYZE');
  }

  /** The plan must use an index and never scan the table (a `SCAN <table>` line without an index). */
  function expectIndexed(plan: string[], sorted = true): void {
    expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY|PRIMARY KEY/);
    for (const line of plan) expect(line).not.toMatch(new RegExp(`^SCAN ${spec.name}$`));
    if (sorted) expect(plan.join('\n')).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  }

  it('serves a filtered, sorted, paginated query from an index (EXPLAIN QUERY PLAN)', async () => {
    const store = openStore();
    await seeded(store);
    const byStatus: FindQuery = {
      where: { status: { eq: 'paid' } },
      orderBy: { field: 'createdAt', direction: 'desc' },
      limit: 20,
    };
    const plan = store.explain(spec.name, byStatus);
    expectIndexed(plan);
    expect(plan.join('\n')).toContain(`${spec.name}__ix:status,createdAt`);
    // The next page too: the keyset condition is a range of the index after its equality column, not a
    // filter over the rows of the status.
    const next = store.explain(spec.name, { ...byStatus, after: { value: '2026-01-10T05:00', id: 'o5' } });
    expectIndexed(next);
    expect(next.join('\n')).toMatch(/\(<expr>=\? AND <expr><\?\)/);
    const ascending = store.explain(spec.name, {
      ...byStatus,
      orderBy: { field: 'createdAt', direction: 'asc' },
      after: { value: '2026-01-10T05:00', id: 'o5' },
    });
    expectIndexed(ascending);
    expect(ascending.join('\n')).toMatch(/\(<expr>=\? AND <expr>>\?\)/);
    // Equality plus a range on the sort field, either direction.
    const range: FindQuery = {
      where: { customer: { eq: 'c7' }, total: { gte: 100, lte: 500 } },
      orderBy: { field: 'total', direction: 'asc' },
      limit: 20,
    };
    expectIndexed(store.explain(spec.name, range));
    expect(store.explain(spec.name, range).join('\n')).toContain(`${spec.name}__ix:customer,total`);
    // Position, and a multi-valued membership (served by its side table's (value, id) key).
    expectIndexed(
      store.explain(spec.name, { where: {}, orderBy: { field: 'position', direction: 'desc' }, limit: 5 }),
    );
    const bySku = store.explain(spec.name, {
      where: { skus: { has: 's3' } },
      orderBy: { field: 'position', direction: 'asc' },
      limit: 5,
    });
    expect(bySku.join('\n')).toMatch(new RegExp(`${spec.name}__skus`));
    for (const line of bySku) expect(line).not.toMatch(new RegExp(`^SCAN ${spec.name}__skus$`));

    // And the answers are right.
    const page = await store.find(spec.name, byStatus);
    expect(page).toHaveLength(20);
    expect(page.every((d) => d.data.status === 'paid')).toBe(true);
    const dates = page.map((d) => d.data.createdAt as string);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('keeps documents, specs, multi-valued entries and meta across close and reopen', async () => {
    const file = join(dir, 'nested', 'deeper', 'read.sqlite');
    const first = openStore(file);
    await first.ensureCollection(spec);
    await first.write(spec.name, [
      insert(
        'a',
        { status: 'open', customer: 'c1', total: 5, createdAt: '2026-01-01', skus: ['x'] },
        3n,
        2n ** 40n,
      ),
    ]);
    await first.setMeta('live', { generation: 3 });
    const before = await first.get(spec.name, 'a');
    await first.close();

    // A new instance that never called ensureCollection still knows the collection's fields.
    const second = openStore(file);
    expect(await second.get(spec.name, 'a')).toStrictEqual(before);
    expect(await second.getMeta('live')).toStrictEqual({ generation: 3 });
    const bySku = await second.find(spec.name, {
      where: { skus: { has: 'x' } },
      orderBy: { field: 'total', direction: 'asc' },
      limit: 10,
    });
    expect(bySku.map((d) => d.id)).toEqual(['a']);
    await expect(
      second.find(spec.name, {
        where: { other: { eq: 1 } },
        orderBy: { field: 'total', direction: 'asc' },
        limit: 1,
      }),
    ).rejects.toThrow(Error);
    expect(await second.write(spec.name, [update('a', 3n, { status: 'paid', skus: ['y'] })])).toEqual({
      conflicts: [],
    });
    expect((await second.get(spec.name, 'a'))?.revision).toBe(4n);
  });

  it('runs SQLite in WAL mode; commits do not sync, a write syncs the WAL itself before it resolves', async () => {
    const file = join(dir, 'read.sqlite');
    const store = openStore(file);
    await store.ensureCollection(spec);
    const own = (store as unknown as { db: Database.Database }).db;
    expect(own.pragma('journal_mode', { simple: true })).toBe('wal');
    // NORMAL: the commit itself does not wait for the disk; the store syncs the WAL (below).
    expect(own.pragma('synchronous', { simple: true })).toBe(1);
    expect(own.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    const raw = openSqlite(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }

    // Every fsync of a file handle in this process, with the file it synced (by inode) and when it finished.
    const wal = await stat(`${file}-wal`);
    const probe = await openFile(`${file}-wal`, 'r');
    const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const original = prototype.sync;
    const synced: { ino: number; at: number }[] = [];
    prototype.sync = async function (this: FileHandle) {
      await original.call(this);
      synced.push({ ino: (await this.stat()).ino, at: performance.now() });
    };
    try {
      for (const write of [
        () => store.write(spec.name, [insert('a', { n: 1 })]),
        () => store.setMeta('durable', { n: 1 }),
        () => store.compareAndSetMeta('durable', { n: 1 }, { n: 2 }),
      ]) {
        const started = performance.now();
        await write();
        // Resolved only after the WAL was synced, after the write began.
        expect(synced.some(({ ino, at }) => ino === wal.ino && at >= started)).toBe(true);
        synced.length = 0;
      }
    } finally {
      prototype.sync = original;
    }
  });

  it('stores one table per collection with integer revision/position and a side table per multi-valued field', async () => {
    const file = join(dir, 'read.sqlite');
    const store = openStore(file);
    await store.ensureCollection(spec);
    await store.write(spec.name, [insert('a', { skus: ['x', 'x', 'y', 3, { no: 1 }] }, 2n ** 40n, 7n)]);
    const raw = openSqlite(file, { readonly: true });
    try {
      const row = raw
        .prepare(
          `SELECT typeof(revision) AS r, typeof(position) AS p, typeof(projected_at) AS t FROM "${spec.name}"`,
        )
        .get();
      expect(row).toEqual({ r: 'integer', p: 'integer', t: 'integer' });
      const side = raw.prepare(`SELECT value, id FROM "${spec.name}__skus" ORDER BY value`).all();
      // Scalars only, once each, as JSON text (so 3 and "3" stay apart).
      expect(side).toEqual([
        { value: '"x"', id: 'a' },
        { value: '"y"', id: 'a' },
        { value: '3', id: 'a' },
      ]);
    } finally {
      raw.close();
    }
  });

  it('values never become SQL: quotes and operators in values are compared as plain text', async () => {
    const store = openStore();
    await store.ensureCollection(spec);
    const hostile = `x' OR '1'='1`;
    await store.write(spec.name, [
      insert('a', { status: hostile, customer: 'c', total: 1, createdAt: 'd', skus: ["')--"] }),
      insert('b', { status: 'open', customer: 'c', total: 2, createdAt: 'd', skus: ['s'] }),
    ]);
    const find = (query: FindQuery) => store.find(spec.name, query).then((docs) => docs.map((d) => d.id));
    const order = { field: 'createdAt', direction: 'asc' } as const;
    expect(await find({ where: { status: { eq: hostile } }, orderBy: order, limit: 10 })).toEqual(['a']);
    expect(await find({ where: { status: { eq: "' OR 1=1 --" } }, orderBy: order, limit: 10 })).toEqual([]);
    expect(await find({ where: { skus: { has: "')--" } }, orderBy: order, limit: 10 })).toEqual(['a']);
    expect(
      await find({ where: {}, orderBy: order, limit: 10, after: { value: "d' OR '1'='1", id: '' } }),
    ).toEqual([]);
    expect(await store.count(spec.name)).toBe(2);
  });

  it('two instances on one file: a batch is all-or-nothing visible and conflicts are decided per row', async () => {
    const file = join(dir, 'read.sqlite');
    const a = openStore(file);
    const b = openStore(file);
    await a.ensureCollection(spec);
    await a.write(spec.name, [insert('x', { status: 'open' }), insert('y', { status: 'open' })]);
    const [ra, rb] = await Promise.all([
      a.write(spec.name, [update('x', 0n, { by: 'a' }), update('y', 0n, { by: 'a' })]),
      b.write(spec.name, [update('y', 0n, { by: 'b' }), update('x', 0n, { by: 'b' })]),
    ]);
    expect([...ra.conflicts, ...rb.conflicts].sort()).toEqual(['x', 'y']);
    const docs = await b.getMany(spec.name, ['x', 'y']);
    expect(docs.get('x')?.revision).toBe(1n);
    expect(docs.get('y')?.revision).toBe(1n);
  });
});
