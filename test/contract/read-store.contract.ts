import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../../src/event-store/event-store.port.js';
import type {
  CollectionSpec,
  DocumentWrite,
  FindQuery,
  ReadDocument,
  ReadStore,
  Scalar,
  SortDirection,
} from '../../src/read-side/read-store.port.js';

/** A read store opened for the contract suite, and what the suite needs around it. */
export interface ReadStoreUnderTest {
  readonly store: ReadStore;
  /** Opens another instance on the same storage (another process, in effect); the suite closes it. */
  another(): Promise<ReadStore>;
  /** How many statements/commands `store` has sent so far (to check that a refused query runs nothing). */
  queriesRun(): number;
  cleanup(): Promise<void>;
}

export interface ReadStoreContractOptions {
  /** Per-test timeout (ms). */
  readonly timeoutMs?: number;
  /**
   * Why this store cannot make a guarded update atomic, if it cannot (FerretDB 1.x). The race test then
   * checks only what still holds (every document ends at one writer's step, nothing is lost) and says so in
   * its title; unset, it checks that exactly one of two racing writers applies.
   */
  readonly nonAtomicUpdates?: string;
}

/**
 * Unique per test-file run: every collection and meta key of the suite carries it, so runs against a
 * shared server never collide (and cleanup can find what a run left).
 */
export const contractRunId = randomBytes(4).toString('hex');

/** A collection name nobody else uses (`rs_<run>_<tag>`). */
export function uniqueCollection(tag: string): string {
  return `rs_${contractRunId}_${tag}`;
}

export function insert(id: string, data: JsonObject, revision = 0n, position = 1n): DocumentWrite {
  return { id, expectedRevision: null, revision, position, data };
}

export function update(
  id: string,
  expectedRevision: bigint,
  data: JsonObject,
  position = expectedRevision + 100n,
): DocumentWrite {
  return { id, expectedRevision, revision: expectedRevision + 1n, position, data };
}

/** MongoDB's (simple collation) and SQLite's (BINARY) string order: UTF-8 bytes, not UTF-16 code units. */
export function compareScalars(a: Scalar | bigint, b: Scalar | bigint): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  throw new Error(`cannot compare ${typeof a} with ${typeof b}`);
}

function ids(docs: readonly ReadDocument[]): string[] {
  return docs.map((d) => d.id);
}

/** The sort value of a document for `field` (`position` or a scalar data field). */
function sortValue(doc: ReadDocument, field: string): Scalar | bigint {
  if (field === 'position') return doc.position;
  const value = doc.data[field];
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new Error(`document ${doc.id} has no scalar ${field}`);
}

/** Expected order of a query: by the field, then by id, both in the given direction. */
function expectedOrder(docs: readonly ReadDocument[], field: string, direction: SortDirection): string[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...docs]
    .sort(
      (x, y) =>
        sign * (compareScalars(sortValue(x, field), sortValue(y, field)) || compareScalars(x.id, y.id)),
    )
    .map((d) => d.id);
}

/** Walks every page of a query with keyset pagination. */
async function walk(
  store: ReadStore,
  collection: string,
  query: Omit<FindQuery, 'after' | 'limit'>,
  pageSize: number,
): Promise<{ docs: ReadDocument[]; pages: number }> {
  const docs: ReadDocument[] = [];
  let after: FindQuery['after'];
  for (let pages = 1; pages < 10_000; pages++) {
    const page = await store.find(collection, { ...query, limit: pageSize, ...(after ? { after } : {}) });
    expect(page.length).toBeLessThanOrEqual(pageSize);
    docs.push(...page);
    const last = page.at(-1);
    if (page.length < pageSize || !last) return { docs, pages };
    const value = sortValue(last, query.orderBy.field);
    after = { value: typeof value === 'bigint' ? Number(value) : value, id: last.id };
  }
  throw new Error('keyset pagination does not end');
}

/**
 * The whole ReadStore port contract. Every adapter runs it (test/contract/*-read-store.int.spec.ts). `open` is
 * called once for the suite; every test works in collections of its own.
 */
export function describeReadStoreContract(
  name: string,
  open: () => Promise<ReadStoreUnderTest>,
  options: ReadStoreContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 20_000;

  describe(`ReadStore contract: ${name}`, () => {
    let opened: ReadStoreUnderTest | undefined;
    const created = new Set<string>();
    const under = (): ReadStoreUnderTest => {
      if (!opened) throw new Error('the read store under test is not open');
      return opened;
    };
    const store = (): ReadStore => under().store;

    /** Creates a fresh collection for one test (dropped in afterAll). */
    async function collection(
      tag: string,
      spec: Omit<CollectionSpec, 'name'> = { indexes: [] },
    ): Promise<string> {
      const name = uniqueCollection(tag);
      created.add(name);
      await store().ensureCollection({ ...spec, name });
      return name;
    }

    async function seed(name: string, writes: readonly DocumentWrite[]): Promise<void> {
      for (let i = 0; i < writes.length; i += 100) {
        const result = await store().write(name, writes.slice(i, i + 100));
        expect(result.conflicts).toEqual([]);
      }
    }

    beforeAll(async () => {
      opened = await open();
    }, timeout);

    afterAll(async () => {
      if (opened) {
        for (const name of created) await opened.store.dropCollection(name);
        await opened.cleanup();
      }
    }, timeout);

    describe('collections', () => {
      it(
        'ensureCollection is idempotent and leaves documents in place',
        async () => {
          const spec = { indexes: [['status', 'total'], ['position']], multiValued: ['skus'] };
          const name = await collection('idem', spec);
          await store().write(name, [insert('a', { status: 'open', total: 1, skus: ['x'] })]);
          await store().ensureCollection({ ...spec, name });
          await store().ensureCollection({ ...spec, name });
          expect(await store().count(name)).toBe(1);
          expect((await store().get(name, 'a'))?.data).toEqual({ status: 'open', total: 1, skus: ['x'] });
          const found = await store().find(name, {
            where: { skus: { has: 'x' }, status: { eq: 'open' } },
            orderBy: { field: 'total', direction: 'asc' },
            limit: 10,
          });
          expect(ids(found)).toEqual(['a']);
        },
        timeout,
      );

      it(
        'a multi-valued field added to an existing collection answers for the documents already there',
        async () => {
          const name = await collection('addmv', { indexes: [['n']] });
          await store().write(name, [
            insert('a', { n: 1, tags: ['red', 'blue'] }),
            insert('b', { n: 2, tags: [] }),
          ]);
          await store().ensureCollection({ name, indexes: [['n']], multiValued: ['tags'] });
          const found = await store().find(name, {
            where: { tags: { has: 'blue' } },
            orderBy: { field: 'n', direction: 'asc' },
            limit: 10,
          });
          expect(ids(found)).toEqual(['a']);
        },
        timeout,
      );

      it(
        'refuses invalid collection names and field names with an Error',
        async () => {
          const badNames = [
            '',
            'Orders',
            '1orders',
            'or-ders',
            'or ders',
            'or"ders',
            "or'ders",
            'orders; DROP TABLE x',
            'orders.sub',
            '$orders',
            'orders__skus',
            'read_meta',
            'read_collections',
            'sqlite_master',
            'o'.repeat(65),
          ];
          for (const bad of badNames) {
            await expect(store().ensureCollection({ name: bad, indexes: [] })).rejects.toThrow(Error);
            await expect(store().get(bad, 'x')).rejects.toThrow(Error);
            await expect(store().count(bad)).rejects.toThrow(Error);
            await expect(store().dropCollection(bad)).rejects.toThrow(Error);
          }
          const name = uniqueCollection('badfields');
          for (const field of ['', 'a.b', '$where', 'a b', 'a"b', "a'b", 'a)', 'ü']) {
            await expect(store().ensureCollection({ name, indexes: [[field]] })).rejects.toThrow(Error);
            await expect(
              store().ensureCollection({ name, indexes: [], multiValued: [field] }),
            ).rejects.toThrow(Error);
          }
          // A field cannot be both a scalar index field and multi-valued; an index needs fields.
          await expect(
            store().ensureCollection({ name, indexes: [['skus']], multiValued: ['skus'] }),
          ).rejects.toThrow(Error);
          await expect(store().ensureCollection({ name, indexes: [[]] })).rejects.toThrow(Error);
          await expect(
            store().ensureCollection({ name, indexes: [], multiValued: ['position'] }),
          ).rejects.toThrow(Error);
          // Nothing was created by the refused specs.
          await expect(
            store().find(name, { where: {}, orderBy: { field: 'position', direction: 'asc' }, limit: 1 }),
          ).rejects.toThrow(Error);
        },
        timeout,
      );

      it(
        'a collection that does not exist: get null, getMany empty, count 0; write and find refuse',
        async () => {
          const name = uniqueCollection('missing');
          expect(await store().get(name, 'a')).toBeNull();
          expect((await store().getMany(name, ['a', 'b'])).size).toBe(0);
          expect(await store().count(name)).toBe(0);
          await expect(store().write(name, [insert('a', {})])).rejects.toThrow(Error);
          await expect(
            store().find(name, { where: {}, orderBy: { field: 'position', direction: 'asc' }, limit: 1 }),
          ).rejects.toThrow(Error);
        },
        timeout,
      );

      it(
        'dropCollection removes documents and indexes; dropping a missing collection is harmless',
        async () => {
          const spec = { indexes: [['n']], multiValued: ['tags'] };
          const name = await collection('drop', spec);
          await seed(name, [insert('a', { n: 1, tags: ['t'] }), insert('b', { n: 2, tags: ['t'] })]);
          expect(await store().count(name)).toBe(2);
          await store().dropCollection(name);
          expect(await store().count(name)).toBe(0);
          expect(await store().get(name, 'a')).toBeNull();
          await store().dropCollection(name);
          await store().dropCollection(uniqueCollection('never'));

          // Recreated: empty, and no stale multi-valued entries answer for the old documents.
          await store().ensureCollection({ ...spec, name });
          expect(await store().count(name)).toBe(0);
          await store().write(name, [insert('c', { n: 3, tags: ['u'] })]);
          const tagged = (tag: string) =>
            store().find(name, {
              where: { tags: { has: tag } },
              orderBy: { field: 'n', direction: 'asc' },
              limit: 10,
            });
          expect(ids(await tagged('t'))).toEqual([]);
          expect(ids(await tagged('u'))).toEqual(['c']);
        },
        timeout,
      );
    });

    describe('get and getMany', () => {
      it(
        'get returns the document or null; getMany returns only the ids that exist',
        async () => {
          const name = await collection('get');
          await seed(name, [insert('a', { n: 1 }), insert('b', { n: 2 }), insert('c', { n: 3 })]);
          expect((await store().get(name, 'b'))?.data).toEqual({ n: 2 });
          expect(await store().get(name, 'zz')).toBeNull();
          const many = await store().getMany(name, ['c', 'zz', 'a', 'a']);
          expect([...many.keys()].sort()).toEqual(['a', 'c']);
          expect(many.get('c')?.data).toEqual({ n: 3 });
          expect(many.get('c')?.id).toBe('c');
          expect((await store().getMany(name, [])).size).toBe(0);
          const all = await store().getMany(
            name,
            Array.from({ length: 500 }, (_, i) => (i % 2 ? `missing-${i}` : 'b')),
          );
          expect([...all.keys()]).toEqual(['b']);
        },
        timeout,
      );
    });

    describe('write', () => {
      it(
        'inserts only if absent: a second insert of the same id is a conflict and changes nothing',
        async () => {
          const name = await collection('insert');
          expect(await store().write(name, [insert('a', { v: 'first' }, 0n, 5n)])).toEqual({ conflicts: [] });
          const before = await store().get(name, 'a');
          expect(await store().write(name, [insert('a', { v: 'second' }, 3n, 9n)])).toEqual({
            conflicts: ['a'],
          });
          expect(await store().get(name, 'a')).toStrictEqual(before);
          expect(before?.revision).toBe(0n);
          expect(before?.position).toBe(5n);
          expect(before?.data).toEqual({ v: 'first' });
        },
        timeout,
      );

      it(
        'updates when the stored revision is the expected one, replacing the data whole',
        async () => {
          const name = await collection('update');
          await seed(name, [insert('a', { keep: 1, drop: 'me', list: [1, 2] }, 4n, 40n)]);
          const first = await store().get(name, 'a');
          await new Promise((resolve) => setTimeout(resolve, 5));
          expect(await store().write(name, [update('a', 4n, { keep: 2, list: [3] }, 50n)])).toEqual({
            conflicts: [],
          });
          const after = await store().get(name, 'a');
          expect(after?.revision).toBe(5n);
          expect(after?.position).toBe(50n);
          expect(after?.data).toStrictEqual({ keep: 2, list: [3] });
          expect(after!.projectedAt.getTime()).toBeGreaterThan(first!.projectedAt.getTime());
          // And the next step from there.
          expect(await store().write(name, [update('a', 5n, { keep: 3 })])).toEqual({ conflicts: [] });
          expect((await store().get(name, 'a'))?.revision).toBe(6n);
        },
        timeout,
      );

      it(
        'reports a stale, a future or a missing expected revision as a conflict and writes nothing for it',
        async () => {
          const name = await collection('conflict');
          await seed(name, [insert('a', { v: 0 }, 3n, 30n)]);
          const before = await store().get(name, 'a');
          expect(await store().write(name, [update('a', 2n, { v: 'stale' })])).toEqual({ conflicts: ['a'] });
          expect(await store().write(name, [update('a', 7n, { v: 'future' })])).toEqual({ conflicts: ['a'] });
          expect(await store().get(name, 'a')).toStrictEqual(before);
          // An update of a document that does not exist does not create it.
          expect(await store().write(name, [update('nope', 0n, { v: 1 })])).toEqual({ conflicts: ['nope'] });
          expect(await store().get(name, 'nope')).toBeNull();
          expect(await store().count(name)).toBe(1);
        },
        timeout,
      );

      it(
        'a mixed batch applies the writes whose condition holds and reports the others, in batch order',
        async () => {
          const name = await collection('mixed', { indexes: [['v']], multiValued: ['tags'] });
          await seed(name, [
            insert('b', { v: 'b0', tags: ['old'] }, 0n),
            insert('c', { v: 'c0' }, 2n),
            insert('d', { v: 'd0', tags: ['old'] }, 5n),
          ]);
          const untouched = await store().getMany(name, ['b', 'd']);
          const result = await store().write(name, [
            insert('a', { v: 'a0', tags: ['new'] }),
            insert('b', { v: 'b-again', tags: ['new'] }),
            update('c', 2n, { v: 'c1', tags: ['new'] }),
            update('d', 4n, { v: 'd-stale', tags: ['new'] }),
            update('e', 0n, { v: 'e1' }),
            insert('f', { v: 'f0' }),
          ]);
          expect(result.conflicts).toEqual(['b', 'd', 'e']);
          const now = await store().getMany(name, ['a', 'b', 'c', 'd', 'e', 'f']);
          expect([...now.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'f']);
          expect(now.get('a')?.data).toEqual({ v: 'a0', tags: ['new'] });
          expect(now.get('b')).toStrictEqual(untouched.get('b'));
          expect(now.get('c')?.revision).toBe(3n);
          expect(now.get('c')?.data).toEqual({ v: 'c1', tags: ['new'] });
          expect(now.get('d')).toStrictEqual(untouched.get('d'));
          expect(now.get('f')?.data).toEqual({ v: 'f0' });
          // Multi-valued entries follow only the applied writes.
          const tagged = await store().find(name, {
            where: { tags: { has: 'new' } },
            orderBy: { field: 'v', direction: 'asc' },
            limit: 10,
          });
          expect(ids(tagged)).toEqual(['a', 'c']);
          const old = await store().find(name, {
            where: { tags: { has: 'old' } },
            orderBy: { field: 'v', direction: 'asc' },
            limit: 10,
          });
          expect(ids(old)).toEqual(['b', 'd']);
        },
        timeout,
      );

      it(
        'a batch of many writes, some conflicting, reports exactly the conflicting ones',
        async () => {
          const name = await collection('bigbatch');
          await seed(
            name,
            Array.from({ length: 200 }, (_, i) => insert(`d${i}`, { i }, 1n)),
          );
          // Updates of d0..d149 (every tenth stale), inserts over d150..d199 (every fifth already there).
          const updates = Array.from({ length: 150 }, (_, i) =>
            i % 10 === 0 ? update(`d${i}`, 0n, { i, stale: true }) : update(`d${i}`, 1n, { i, next: true }),
          );
          const inserts = Array.from({ length: 50 }, (_, i) =>
            insert(i % 5 === 0 ? `d${150 + i}` : `new${i}`, { i }),
          );
          const result = await store().write(name, [...updates, ...inserts]);
          const expected = [
            ...updates.filter((_, i) => i % 10 === 0).map((w) => w.id),
            ...inserts.filter((_, i) => i % 5 === 0).map((w) => w.id),
          ];
          expect(result.conflicts).toEqual(expected);
          expect(await store().count(name)).toBe(240);
          const docs = await store().getMany(name, ['d0', 'd1', 'd10', 'd149', 'd150', 'new1']);
          expect(docs.get('d0')?.revision).toBe(1n);
          expect(docs.get('d0')?.data).toEqual({ i: 0 });
          expect(docs.get('d1')?.revision).toBe(2n);
          expect(docs.get('d149')?.data).toEqual({ i: 149, next: true });
          expect(docs.get('d150')?.data).toEqual({ i: 150 });
          expect(docs.get('new1')?.revision).toBe(0n);
        },
        timeout,
      );

      it(
        'refuses malformed batches (an id twice, non-bigint revisions, non-object data) and writes nothing',
        async () => {
          const name = await collection('malformed');
          await expect(store().write(name, [insert('a', { n: 1 }), insert('a', { n: 2 })])).rejects.toThrow(
            Error,
          );
          await expect(
            store().write(name, [
              insert('b', { n: 1 }),
              { ...insert('c', {}), revision: 1 as unknown as bigint },
            ]),
          ).rejects.toThrow(Error);
          await expect(
            store().write(name, [{ ...insert('d', {}), position: '7' as unknown as bigint }]),
          ).rejects.toThrow(Error);
          await expect(
            store().write(name, [{ ...insert('e', {}), expectedRevision: 0 as unknown as bigint }]),
          ).rejects.toThrow(Error);
          await expect(store().write(name, [{ ...insert('f', {}), revision: 2n ** 63n }])).rejects.toThrow(
            Error,
          );
          await expect(store().write(name, [insert('g', [1, 2] as unknown as JsonObject)])).rejects.toThrow(
            Error,
          );
          expect(await store().count(name)).toBe(0);
          expect(await store().write(name, [])).toEqual({ conflicts: [] });
        },
        timeout,
      );

      it(
        'revisions and positions round-trip as bigint, beyond 2^32 and 2^53, and compare exactly',
        async () => {
          const name = await collection('bigint', { indexes: [['position']] });
          const values = [0n, 2n ** 32n + 5n, 2n ** 53n + 1n, 2n ** 63n - 1n];
          await seed(
            name,
            values.map((v, i) => insert(`v${i}`, { i }, v, v)),
          );
          for (const [i, v] of values.entries()) {
            const doc = await store().get(name, `v${i}`);
            expect(typeof doc?.revision).toBe('bigint');
            expect(typeof doc?.position).toBe('bigint');
            expect(doc?.revision).toBe(v);
            expect(doc?.position).toBe(v);
          }
          const many = await store().getMany(name, ['v2']);
          expect(many.get('v2')?.revision).toBe(2n ** 53n + 1n);
          // 2^53 and 2^53 + 1 are the same double: a store comparing through doubles would accept this.
          expect(await store().write(name, [update('v2', 2n ** 53n, { i: 'wrong' })])).toEqual({
            conflicts: ['v2'],
          });
          expect(
            await store().write(name, [
              {
                id: 'v2',
                expectedRevision: 2n ** 53n + 1n,
                revision: 2n ** 53n + 2n,
                position: 2n ** 40n,
                data: {},
              },
            ]),
          ).toEqual({ conflicts: [] });
          const updated = await store().get(name, 'v2');
          expect(updated?.revision).toBe(2n ** 53n + 2n);
          expect(updated?.position).toBe(2n ** 40n);
          // Positions sort as integers, not as strings.
          const byPosition = await store().find(name, {
            where: {},
            orderBy: { field: 'position', direction: 'asc' },
            limit: 10,
          });
          expect(byPosition.map((d) => d.position)).toEqual([0n, 2n ** 32n + 5n, 2n ** 40n, 2n ** 63n - 1n]);
        },
        timeout,
      );

      it(
        'sets projectedAt to the time of the write',
        async () => {
          const name = await collection('projected');
          const before = Date.now();
          await store().write(name, [insert('a', {})]);
          const after = Date.now();
          const doc = await store().get(name, 'a');
          expect(doc?.projectedAt).toBeInstanceOf(Date);
          expect(doc!.projectedAt.getTime()).toBeGreaterThanOrEqual(before);
          expect(doc!.projectedAt.getTime()).toBeLessThanOrEqual(after);
        },
        timeout,
      );

      it(
        'data round-trips exactly: nesting, arrays, unicode, integers up to MAX_SAFE_INTEGER, key order',
        async () => {
          const name = await collection('exact');
          const data: JsonObject = {
            text: 'plain',
            unicode: 'héllo wörld — 日本語 — 😀👍🏽 — עברית — e\u0301 — \uFF21',
            escapes: 'quote " backslash \\ slash / newline \n tab \t control \u0001 \u001f',
            max: Number.MAX_SAFE_INTEGER,
            min: Number.MIN_SAFE_INTEGER,
            big: 2 ** 40,
            zero: 0,
            negative: -42,
            float: 0.1,
            third: 1 / 3,
            tiny: 5e-324,
            huge: 1.7976931348623157e308,
            exponent: 1e21,
            yes: true,
            no: false,
            nothing: null,
            empty: {},
            emptyList: [],
            nested: { a: { b: { c: [1, 'two', { three: [3, [4, [5]]] }, null, false] } } },
            list: [Number.MAX_SAFE_INTEGER, -1.5, 'x', true, null, { k: 'v' }, []],
            'key with spaces': 1,
            ключ: 'значение',
            '😀': 'emoji key',
            // Keys MongoDB/FerretDB treat specially, and the escape character of the MongoDB adapter.
            'dotted.key': { 'a.b.c': 1 },
            $dollar: { $inner: 'x', mid$dle: 2 },
            '~tilde': { '~a': [1], '~t~d~s': '~' },
            '': 'empty key',
            matrix: [
              [1, 2],
              [[3], []],
            ],
            zLast: 'declared after the others',
            aFirst: 'but stays last',
          };
          await store().write(name, [insert('exact', data)]);
          const doc = await store().get(name, 'exact');
          expect(doc?.data).toStrictEqual(data);
          expect(JSON.stringify(doc?.data)).toBe(JSON.stringify(data));
          const [fromMany] = (await store().getMany(name, ['exact'])).values();
          expect(JSON.stringify(fromMany?.data)).toBe(JSON.stringify(data));
          // JSON has no negative zero: it comes back as 0.
          await store().write(name, [insert('zero', { z: -0, list: [-0] })]);
          const zero = await store().get(name, 'zero');
          expect(Object.is(zero?.data.z, 0)).toBe(true);
          expect(Object.is((zero?.data.list as number[])[0], 0)).toBe(true);
          // Ids are data too.
          const odd = 'id with spaces/ünïcödé/😀/"quotes"/$dollar.dot';
          await store().write(name, [insert(odd, { n: 1 })]);
          expect((await store().get(name, odd))?.id).toBe(odd);
        },
        timeout,
      );
    });

    describe('find', () => {
      const spec = {
        indexes: [['status', 'createdAt'], ['customer', 'total'], ['total'], ['flag'], ['v'], ['position']],
        multiValued: ['skus'],
      };
      let name: string;
      const o = (id: string, position: bigint, data: JsonObject): DocumentWrite => ({
        id,
        expectedRevision: null,
        revision: 0n,
        position,
        data,
      });
      beforeAll(async () => {
        name = await collection('find', spec);
        await seed(name, [
          o('o1', 10n, {
            status: 'open',
            customer: 'alice',
            total: 100,
            createdAt: '2026-01-05',
            skus: ['A', 'B'],
            flag: true,
            v: 1,
          }),
          o('o2', 11n, {
            status: 'open',
            customer: 'bob',
            total: 250.5,
            createdAt: '2026-01-03',
            skus: ['B'],
            flag: false,
            v: '1',
          }),
          o('o3', 12n, {
            status: 'paid',
            customer: 'alice',
            total: 40,
            createdAt: '2026-01-04',
            skus: ['C', 'A'],
            flag: true,
            v: true,
          }),
          o('o4', 13n, {
            status: 'paid',
            customer: 'carol',
            total: -5,
            createdAt: '2026-01-01',
            skus: [],
            flag: false,
            v: 0,
          }),
          o('o5', 14n, {
            status: 'shipped',
            customer: 'alice',
            total: 100,
            createdAt: '2026-01-02',
            skus: ['A', 7],
            flag: true,
            v: 'x',
          }),
          o('o6', 2n ** 40n, {
            status: 'open',
            customer: 'dave',
            total: 0,
            createdAt: '2026-01-06',
            skus: ['7'],
            flag: false,
            v: false,
          }),
          o('o7', 15n, {
            status: 'cancelled',
            customer: 'bob',
            total: 99_999_999_999,
            createdAt: '2026-01-07',
            flag: true,
            v: 2,
          }),
        ]);
      }, timeout);

      const find = (query: FindQuery) => store().find(name, query).then(ids);
      const by = (field: string, direction: SortDirection = 'asc') => ({ field, direction });

      it(
        'eq on a string field, sorted on another field',
        async () => {
          expect(
            await find({ where: { status: { eq: 'open' } }, orderBy: by('createdAt'), limit: 10 }),
          ).toEqual(['o2', 'o1', 'o6']);
          expect(
            await find({ where: { status: { eq: 'nope' } }, orderBy: by('createdAt'), limit: 10 }),
          ).toEqual([]);
        },
        timeout,
      );

      it(
        'eq is typed: 1, "1", true and 0, false are different values',
        async () => {
          const eq = (value: Scalar) =>
            find({ where: { v: { eq: value } }, orderBy: by('position'), limit: 10 });
          expect(await eq(1)).toEqual(['o1']);
          expect(await eq('1')).toEqual(['o2']);
          expect(await eq(true)).toEqual(['o3']);
          expect(await eq(0)).toEqual(['o4']);
          expect(await eq(false)).toEqual(['o6']);
          expect(await eq(1.0)).toEqual(['o1']);
          expect(await find({ where: { total: { eq: 100 } }, orderBy: by('total'), limit: 10 })).toEqual([
            'o1',
            'o5',
          ]);
          expect(
            await find({ where: { flag: { eq: true } }, orderBy: by('total', 'desc'), limit: 10 }),
          ).toEqual(['o7', 'o5', 'o1', 'o3']);
        },
        timeout,
      );

      it(
        'ranges are inclusive and typed: numeric bounds match numbers only, string bounds strings only',
        async () => {
          expect(
            await find({ where: { total: { gte: 0, lte: 100 } }, orderBy: by('total'), limit: 10 }),
          ).toEqual(['o6', 'o3', 'o1', 'o5']);
          expect(await find({ where: { total: { gte: 100 } }, orderBy: by('total'), limit: 10 })).toEqual([
            'o1',
            'o5',
            'o2',
            'o7',
          ]);
          expect(await find({ where: { total: { lte: 0 } }, orderBy: by('total'), limit: 10 })).toEqual([
            'o4',
            'o6',
          ]);
          expect(
            await find({
              where: { createdAt: { gte: '2026-01-02', lte: '2026-01-05' } },
              orderBy: by('createdAt', 'desc'),
              limit: 10,
            }),
          ).toEqual(['o1', 'o3', 'o2', 'o5']);
          expect(await find({ where: { v: { gte: 0 } }, orderBy: by('position'), limit: 10 })).toEqual([
            'o1',
            'o4',
            'o7',
          ]);
          expect(await find({ where: { v: { gte: '' } }, orderBy: by('position'), limit: 10 })).toEqual([
            'o2',
            'o5',
          ]);
          expect(await find({ where: { v: { lte: 'zzz' } }, orderBy: by('position'), limit: 10 })).toEqual([
            'o2',
            'o5',
          ]);
        },
        timeout,
      );

      it(
        'has tests membership in a multi-valued field, typed',
        async () => {
          expect(await find({ where: { skus: { has: 'A' } }, orderBy: by('position'), limit: 10 })).toEqual([
            'o1',
            'o3',
            'o5',
          ]);
          expect(await find({ where: { skus: { has: 7 } }, orderBy: by('position'), limit: 10 })).toEqual([
            'o5',
          ]);
          expect(await find({ where: { skus: { has: '7' } }, orderBy: by('position'), limit: 10 })).toEqual([
            'o6',
          ]);
          expect(await find({ where: { skus: { has: 'Z' } }, orderBy: by('position'), limit: 10 })).toEqual(
            [],
          );
        },
        timeout,
      );

      it(
        'combines conditions (eq + range + has) as a conjunction',
        async () => {
          expect(
            await find({
              where: { status: { eq: 'open' }, skus: { has: 'B' } },
              orderBy: by('createdAt'),
              limit: 10,
            }),
          ).toEqual(['o2', 'o1']);
          expect(
            await find({
              where: { customer: { eq: 'alice' }, total: { gte: 50 }, skus: { has: 'A' } },
              orderBy: by('total', 'desc'),
              limit: 10,
            }),
          ).toEqual(['o5', 'o1']);
          expect(
            await find({
              where: { customer: { eq: 'alice' }, total: { gte: 50, lte: 60 } },
              orderBy: by('total'),
              limit: 10,
            }),
          ).toEqual([]);
          expect(
            await find({
              where: { flag: { eq: false }, position: { gte: 12, lte: 2 ** 41 } },
              orderBy: by('position', 'desc'),
              limit: 10,
            }),
          ).toEqual(['o6', 'o4']);
          expect(
            await find({ where: { position: { eq: 2 ** 40 } }, orderBy: by('position'), limit: 10 }),
          ).toEqual(['o6']);
        },
        timeout,
      );

      it(
        'sorts asc and desc on a string field, a number field and position, ties broken by id',
        async () => {
          expect(await find({ where: {}, orderBy: by('customer'), limit: 10 })).toEqual([
            'o1',
            'o3',
            'o5',
            'o2',
            'o7',
            'o4',
            'o6',
          ]);
          expect(await find({ where: {}, orderBy: by('customer', 'desc'), limit: 10 })).toEqual([
            'o6',
            'o4',
            'o7',
            'o2',
            'o5',
            'o3',
            'o1',
          ]);
          expect(await find({ where: {}, orderBy: by('total', 'desc'), limit: 10 })).toEqual([
            'o7',
            'o2',
            'o5',
            'o1',
            'o3',
            'o6',
            'o4',
          ]);
          expect(await find({ where: {}, orderBy: by('total'), limit: 10 })).toEqual([
            'o4',
            'o6',
            'o3',
            'o1',
            'o5',
            'o2',
            'o7',
          ]);
          expect(await find({ where: {}, orderBy: by('position', 'desc'), limit: 10 })).toEqual([
            'o6',
            'o7',
            'o5',
            'o4',
            'o3',
            'o2',
            'o1',
          ]);
        },
        timeout,
      );

      it(
        'returns at most limit documents; limit 0 returns none',
        async () => {
          expect(await find({ where: {}, orderBy: by('total'), limit: 3 })).toEqual(['o4', 'o6', 'o3']);
          expect(await find({ where: {}, orderBy: by('total'), limit: 1 })).toEqual(['o4']);
          expect(await find({ where: {}, orderBy: by('total'), limit: 0 })).toEqual([]);
          expect(await find({ where: {}, orderBy: by('total'), limit: 1000 })).toHaveLength(7);
        },
        timeout,
      );

      it(
        'keyset: after (value, id) continues strictly after that point, in either direction',
        async () => {
          expect(
            await find({ where: {}, orderBy: by('total'), limit: 10, after: { value: 100, id: 'o1' } }),
          ).toEqual(['o5', 'o2', 'o7']);
          expect(
            await find({
              where: {},
              orderBy: by('total', 'desc'),
              limit: 10,
              after: { value: 100, id: 'o5' },
            }),
          ).toEqual(['o1', 'o3', 'o6', 'o4']);
          expect(
            await find({
              where: { status: { eq: 'open' } },
              orderBy: by('createdAt'),
              limit: 10,
              after: { value: '2026-01-03', id: 'o2' },
            }),
          ).toEqual(['o1', 'o6']);
          expect(
            await find({
              where: {},
              orderBy: by('position', 'desc'),
              limit: 2,
              after: { value: 2 ** 40, id: 'o6' },
            }),
          ).toEqual(['o7', 'o5']);
          expect(
            await find({ where: {}, orderBy: by('flag'), limit: 10, after: { value: false, id: 'o6' } }),
          ).toEqual(['o1', 'o3', 'o5', 'o7']);
        },
        timeout,
      );

      it(
        'refuses unknown fields, operators and non-scalar values with an Error, before running any query',
        async () => {
          const base: FindQuery = { where: {}, orderBy: by('total'), limit: 10 };
          const bad = (over: Record<string, unknown>): FindQuery => ({ ...base, ...over });
          const refused: FindQuery[] = [
            bad({ where: { unknown: { eq: 1 } } }),
            bad({ where: { 'data.status': { eq: 'open' } } }),
            bad({ where: { $where: { eq: 'open' } } }),
            bad({ where: { _id: { eq: 'o1' } } }),
            bad({ where: { status: { eq: { $ne: 1 } } } }),
            bad({ where: { status: { eq: { $gt: '' } } } }),
            bad({ where: { status: { eq: ['open'] } } }),
            bad({ where: { status: { eq: null } } }),
            bad({ where: { status: { eq: undefined } } }),
            bad({ where: { total: { eq: Number.NaN } } }),
            bad({ where: { total: { eq: Number.POSITIVE_INFINITY } } }),
            bad({ where: { total: { eq: 10n } } }),
            bad({ where: { total: { gte: { $gt: 0 } } } }),
            bad({ where: { total: { lte: [1] } } }),
            bad({ where: { status: { $ne: 'open' } } }),
            bad({ where: { status: { ne: 'open' } } }),
            bad({ where: { status: { eq: 'open', gte: 'a' } } }),
            bad({ where: { status: {} } }),
            bad({ where: { status: 'open' } }),
            bad({ where: { total: { gte: 1, lte: 'z' } } }),
            bad({ where: { flag: { gte: true } } }),
            bad({ where: { status: { has: 'open' } } }),
            bad({ where: { skus: { eq: 'A' } } }),
            bad({ where: { skus: { gte: 'A' } } }),
            bad({ where: { position: { eq: '10' } } }),
            bad({ where: [] }),
            bad({ orderBy: by('unknown') }),
            bad({ orderBy: by('skus') }),
            bad({ orderBy: by('_id') }),
            bad({ orderBy: by('data.total') }),
            bad({ orderBy: { field: 'total', direction: 'up' } }),
            bad({ orderBy: undefined }),
            bad({ limit: -1 }),
            bad({ limit: 1.5 }),
            bad({ limit: Number.NaN }),
            bad({ limit: '10' }),
            bad({ after: { value: { $gt: '' }, id: 'o1' } }),
            bad({ after: { value: 100, id: { $gt: '' } } }),
            bad({ after: { value: null, id: 'o1' } }),
            bad({ orderBy: by('position'), after: { value: 'x', id: 'o1' } }),
          ];
          const before = under().queriesRun();
          for (const query of refused) {
            await expect(store().find(name, query)).rejects.toThrow(Error);
          }
          expect(under().queriesRun()).toBe(before);
          // The store still answers afterwards.
          expect(await find({ where: { total: { eq: 100 } }, orderBy: by('total'), limit: 10 })).toEqual([
            'o1',
            'o5',
          ]);
          expect(under().queriesRun()).toBeGreaterThan(before);
        },
        timeout,
      );
    });

    describe('find: keyset pagination over a few hundred documents', () => {
      // Duplicate sort values everywhere, so the id tie-break decides page boundaries. The groups include
      // characters whose UTF-8 order differs from their UTF-16 order (U+FF21 vs an emoji).
      const groups = ['alpha', 'beta', 'Beta', 'ÉCLAIR', 'zeta', '\uFF21wide', '😀emoji', 'beta'];
      const spec = { indexes: [['group', 'score'], ['score'], ['position']], multiValued: ['tags'] };
      let name: string;
      let all: ReadDocument[];
      beforeAll(async () => {
        name = await collection('pages', spec);
        const writes = Array.from({ length: 320 }, (_, i): DocumentWrite => {
          const id = `k${((i * 7919) % 1000).toString().padStart(3, '0')}${i % 3 === 0 ? '-x' : ''}`;
          return {
            id,
            expectedRevision: null,
            revision: BigInt(i),
            position: 2n ** 40n + BigInt((i * 13) % 97),
            data: {
              group: groups[i % groups.length]!,
              score: ((i * 37) % 23) - 11 + (i % 3 === 0 ? 0.5 : 0),
              tags: i % 4 === 0 ? ['four'] : ['other'],
            },
          };
        });
        await seed(name, writes);
        all = [
          ...(
            await store().getMany(
              name,
              writes.map((w) => w.id),
            )
          ).values(),
        ];
        expect(all).toHaveLength(320);
      }, timeout * 3);

      const orders: [string, SortDirection, number][] = [
        ['group', 'asc', 17],
        ['group', 'desc', 23],
        ['score', 'asc', 19],
        ['score', 'desc', 7],
        ['position', 'asc', 29],
        ['position', 'desc', 13],
      ];
      for (const [field, direction, pageSize] of orders) {
        it(
          `walking every page sorted on ${field} ${direction} gives each document once, in order`,
          async () => {
            const { docs, pages } = await walk(
              store(),
              name,
              { where: {}, orderBy: { field, direction } },
              pageSize,
            );
            expect(pages).toBeGreaterThan(5);
            expect(new Set(ids(docs)).size).toBe(docs.length);
            expect(ids(docs)).toEqual(expectedOrder(all, field, direction));
          },
          timeout * 3,
        );
      }

      it(
        'walking a filtered query (eq, range, has) gives exactly the matching documents, in order',
        async () => {
          const cases: [FindQuery['where'], string, SortDirection, (d: ReadDocument) => boolean][] = [
            [{ group: { eq: 'beta' } }, 'score', 'desc', (d) => d.data.group === 'beta'],
            [
              { score: { gte: -2, lte: 4.5 } },
              'score',
              'asc',
              (d) => (d.data.score as number) >= -2 && (d.data.score as number) <= 4.5,
            ],
            [{ tags: { has: 'four' } }, 'group', 'desc', (d) => (d.data.tags as string[]).includes('four')],
            [
              { group: { gte: 'beta', lte: 'zeta' }, tags: { has: 'other' } },
              'position',
              'asc',
              (d) =>
                compareScalars(d.data.group as string, 'beta') >= 0 &&
                compareScalars(d.data.group as string, 'zeta') <= 0 &&
                (d.data.tags as string[]).includes('other'),
            ],
          ];
          for (const [where, field, direction, matches] of cases) {
            const { docs } = await walk(store(), name, { where, orderBy: { field, direction } }, 11);
            const expected = expectedOrder(all.filter(matches), field, direction);
            expect(expected.length).toBeGreaterThan(10);
            expect(ids(docs)).toEqual(expected);
          }
        },
        timeout * 3,
      );
    });

    describe('multi-valued fields', () => {
      it(
        'follow the document: values removed from the array no longer match, new ones do',
        async () => {
          const name = await collection('multi', { indexes: [['n']], multiValued: ['skus', 'labels'] });
          await seed(name, [
            insert('a', { n: 1, skus: ['x', 'y', 'y'], labels: ['l1'] }),
            insert('b', { n: 2, skus: ['y'], labels: [] }),
          ]);
          const has = (field: string, value: Scalar) =>
            store()
              .find(name, {
                where: { [field]: { has: value } },
                orderBy: { field: 'n', direction: 'asc' },
                limit: 10,
              })
              .then(ids);
          expect(await has('skus', 'x')).toEqual(['a']);
          expect(await has('skus', 'y')).toEqual(['a', 'b']);

          await store().write(name, [update('a', 0n, { n: 1, skus: ['y', 'z'], labels: ['l1'] })]);
          expect(await has('skus', 'x')).toEqual([]);
          expect(await has('skus', 'z')).toEqual(['a']);
          expect(await has('skus', 'y')).toEqual(['a', 'b']);

          // The field gone, or not an array: no value matches any more.
          await store().write(name, [
            update('a', 1n, { n: 1, labels: 'l1' }),
            update('b', 0n, { n: 2, skus: [] }),
          ]);
          expect(await has('skus', 'y')).toEqual([]);
          expect(await has('skus', 'z')).toEqual([]);
          expect(await has('labels', 'l1')).toEqual([]);

          // A conflicting write does not touch them.
          await store().write(name, [update('b', 0n, { n: 2, skus: ['w'] })]);
          expect(await has('skus', 'w')).toEqual([]);
        },
        timeout,
      );
    });

    describe('count', () => {
      it(
        'counts the documents of a collection',
        async () => {
          const name = await collection('count');
          expect(await store().count(name)).toBe(0);
          await seed(
            name,
            Array.from({ length: 42 }, (_, i) => insert(`c${i}`, { i })),
          );
          expect(await store().count(name)).toBe(42);
          await store().write(name, [insert('c0', {}), update('c1', 0n, {})]);
          expect(await store().count(name)).toBe(42);
        },
        timeout,
      );
    });

    describe('meta', () => {
      it(
        'get answers null for a missing key; set creates and overwrites; values round-trip exactly',
        async () => {
          const key = `contracttest:${contractRunId}:live`;
          const other = `contracttest:${contractRunId}:other`;
          expect(await store().getMeta(key)).toBeNull();
          await store().setMeta(key, { generation: 1, name: 'orders_g1' });
          expect(await store().getMeta(key)).toStrictEqual({ generation: 1, name: 'orders_g1' });
          const value: JsonObject = {
            generation: 2,
            nested: { list: [1, 'two', null, { three: true }, [[4]]], max: Number.MAX_SAFE_INTEGER },
            'a.b': { $c: '~' },
            unicode: 'ünï 😀',
          };
          await store().setMeta(key, value);
          expect(await store().getMeta(key)).toStrictEqual(value);
          expect(await store().getMeta(other)).toBeNull();
          await store().setMeta(other, {});
          expect(await store().getMeta(other)).toStrictEqual({});
          expect(await store().getMeta(key)).toStrictEqual(value);
        },
        timeout,
      );
    });

    describe('scan', () => {
      it(
        'walks a whole collection in id order, page by page, whatever the writes do to positions',
        async () => {
          const name = await collection('scan', { indexes: [['n']] });
          const ids = Array.from({ length: 57 }, (_, i) => `s${String(i).padStart(3, '0')}`);
          // Positions in the reverse order of ids: scan order must not depend on them.
          await seed(
            name,
            ids.map((id, i) => insert(id, { n: i }, 0n, BigInt(1000 - i))),
          );
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await store().scan(name, { limit: 10, ...(after !== undefined && { after }) });
            seen.push(...page.map((d) => d.id));
            if (page.length < 10) break;
            after = page[page.length - 1]!.id;
          }
          expect(seen).toEqual(ids);
          const [first] = await store().scan(name, { limit: 1 });
          expect(first).toMatchObject({ id: 's000', revision: 0n, position: 1000n, data: { n: 0 } });
          expect(await store().scan(name, { after: 's056', limit: 5 })).toEqual([]);
          expect(await store().scan(name, { limit: 0 })).toEqual([]);
          expect(await store().scan(uniqueCollection('nosuch'), { limit: 5 })).toEqual([]);
        },
        timeout,
      );
    });

    describe('meta compare-and-set', () => {
      it(
        'creates only a missing key, replaces only the expected value (key order ignored), deletes',
        async () => {
          const key = `contracttest:${contractRunId}:cas`;
          expect(await store().compareAndSetMeta(key, { a: 1 }, { a: 2 })).toBe(false);
          expect(await store().getMeta(key)).toBeNull();
          expect(await store().compareAndSetMeta(key, null, { a: 1, b: { c: [1, 2] } })).toBe(true);
          expect(await store().compareAndSetMeta(key, null, { a: 9 })).toBe(false);
          expect(await store().getMeta(key)).toStrictEqual({ a: 1, b: { c: [1, 2] } });
          expect(await store().compareAndSetMeta(key, { a: 1, b: { c: [2, 1] } }, { a: 9 })).toBe(false);
          expect(await store().compareAndSetMeta(key, { b: { c: [1, 2] }, a: 1 }, { a: 2 })).toBe(true);
          expect(await store().getMeta(key)).toStrictEqual({ a: 2 });
          expect(await store().compareAndSetMeta(key, { a: 1 }, null)).toBe(false);
          expect(await store().compareAndSetMeta(key, { a: 2 }, null)).toBe(true);
          expect(await store().getMeta(key)).toBeNull();
          expect(await store().compareAndSetMeta(key, null, null)).toBe(true);
        },
        timeout,
      );

      it(
        'two instances creating the same key at once: exactly one wins',
        async () => {
          const other = await under().another();
          try {
            for (let round = 0; round < 10; round++) {
              const key = `contracttest:${contractRunId}:lock${round}`;
              const [a, b] = await Promise.all([
                store().compareAndSetMeta(key, null, { owner: 'a' }),
                other.compareAndSetMeta(key, null, { owner: 'b' }),
              ]);
              expect(a !== b).toBe(true);
              expect(await store().getMeta(key)).toStrictEqual({ owner: a ? 'a' : 'b' });
            }
          } finally {
            await other.close();
          }
        },
        timeout,
      );
    });

    describe('two instances racing', () => {
      let second: ReadStore | undefined;
      beforeAll(async () => {
        second = await under().another();
      }, timeout);
      afterAll(async () => {
        await second?.close();
      }, timeout);

      it(
        'inserts of the same new ids from two instances: exactly one applies per id',
        async () => {
          const name = await collection('raceins');
          const count = 30;
          const batch = (who: string) => Array.from({ length: count }, (_, i) => insert(`r${i}`, { who }));
          const [a, b] = await Promise.all([
            store().write(name, batch('a')),
            second!.write(name, batch('b')),
          ]);
          const docs = await store().getMany(
            name,
            batch('x').map((w) => w.id),
          );
          for (let i = 0; i < count; i++) {
            const id = `r${i}`;
            const aWon = !a.conflicts.includes(id);
            const bWon = !b.conflicts.includes(id);
            expect([id, aWon !== bWon]).toEqual([id, true]);
            expect(docs.get(id)?.data).toEqual({ who: aWon ? 'a' : 'b' });
          }
        },
        timeout,
      );

      const atomic = options.nonAtomicUpdates === undefined;
      it(
        atomic
          ? 'conditional updates of the same step from two instances: exactly one applies per document'
          : `conditional updates of the same step from two instances: each document ends at one writer's step (not atomic here: ${options.nonAtomicUpdates})`,
        async () => {
          const name = await collection('raceupd');
          const count = 30;
          await seed(
            name,
            Array.from({ length: count }, (_, i) => insert(`r${i}`, { who: 'seed' }, 4n)),
          );
          // One batch per instance, and single-document writes interleaved between the instances.
          const step = (who: string, i: number) => update(`r${i}`, 4n, { who, i });
          const results = await Promise.all([
            store().write(
              name,
              Array.from({ length: count / 2 }, (_, i) => step('a', i)),
            ),
            second!.write(
              name,
              Array.from({ length: count / 2 }, (_, i) => step('b', i)),
            ),
            ...Array.from({ length: count / 2 }, (_, k) => {
              const i = count / 2 + k;
              return [store().write(name, [step('a', i)]), second!.write(name, [step('b', i)])];
            }).flat(),
          ]);
          const conflicted = (result: { conflicts: readonly string[] }, id: string) =>
            result.conflicts.includes(id);
          const docs = await store().getMany(
            name,
            Array.from({ length: count }, (_, i) => `r${i}`),
          );
          for (let i = 0; i < count; i++) {
            const id = `r${i}`;
            const [a, b] =
              i < count / 2
                ? [results[0], results[1]]
                : [results[2 + 2 * (i - count / 2)]!, results[3 + 2 * (i - count / 2)]!];
            const aApplied = !conflicted(a, id);
            const bApplied = !conflicted(b, id);
            const doc = docs.get(id);
            expect(doc?.revision).toBe(5n);
            if (atomic) {
              expect([id, aApplied !== bApplied]).toEqual([id, true]);
              expect(doc?.data).toEqual({ who: aApplied ? 'a' : 'b', i });
            } else {
              expect([id, aApplied || bApplied]).toEqual([id, true]);
              expect([
                { who: 'a', i },
                { who: 'b', i },
              ]).toContainEqual(doc?.data);
            }
          }
        },
        timeout,
      );

      it(
        'the second instance sees what the first wrote (same storage)',
        async () => {
          const name = await collection('shared', { indexes: [['n']] });
          await store().write(name, [insert('a', { n: 1 })]);
          expect((await second!.get(name, 'a'))?.data).toEqual({ n: 1 });
          const found = await second!.find(name, {
            where: { n: { eq: 1 } },
            orderBy: { field: 'n', direction: 'asc' },
            limit: 1,
          });
          expect(ids(found)).toEqual(['a']);
        },
        timeout,
      );
    });

    describe('close', () => {
      it(
        'releases the store: every call afterwards rejects; closing twice is harmless',
        async () => {
          const name = await collection('close', { indexes: [['n']] });
          const instance = await under().another();
          await instance.write(name, [insert('a', { n: 1 })]);
          await instance.close();
          await instance.close();
          await expect(instance.get(name, 'a')).rejects.toThrow(Error);
          await expect(instance.write(name, [insert('b', {})])).rejects.toThrow(Error);
          await expect(
            instance.find(name, { where: {}, orderBy: { field: 'n', direction: 'asc' }, limit: 1 }),
          ).rejects.toThrow(Error);
          await expect(instance.count(name)).rejects.toThrow(Error);
          await expect(instance.getMeta('x')).rejects.toThrow(Error);
          // The other instance is unaffected.
          expect((await store().get(name, 'a'))?.data).toEqual({ n: 1 });
        },
        timeout,
      );
    });
  });
}
