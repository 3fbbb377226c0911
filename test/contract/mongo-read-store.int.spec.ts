import { Long, MongoBulkWriteError, MongoClient, type WriteError } from 'mongodb';
import { MongoReadStore } from '../../src/read-side/mongo/mongo-read-store.js';
import {
  contractRunId,
  describeReadStoreContract,
  insert,
  uniqueCollection,
  update,
} from './read-store.contract.js';

/**
 * The port contract against a MongoDB-wire server named by MONGODB_URI: MongoDB 6+ (e.g. the docker-compose
 * service, mongodb://localhost:27017/ordertrail_test?directConnection=true) or the FerretDB that .ci/run builds
 * and starts (scripts/ferretdb.sh). Collections and meta keys carry a per-run suffix, so a shared server is fine.
 */
const uri = process.env.MONGODB_URI;

/** What the server is, asked once before the suites are declared (their titles depend on it). */
async function probe(target: string): Promise<{ ferretdb: boolean } | { error: string }> {
  try {
    const store = await MongoReadStore.connect(target, { client: { serverSelectionTimeoutMS: 10_000 } });
    const ferretdb = store.isFerretDb;
    await store.close();
    return { ferretdb };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const server = uri ? await probe(uri) : null;

if (!uri) {
  process.stdout.write('MongoDB read-store contract suite skipped: MONGODB_URI is not set\n');
  describe('ReadStore contract: MongoDB', () => {
    it.skip('needs MONGODB_URI (e.g. from scripts/ferretdb.sh start, or a MongoDB 6+ server)', () =>
      undefined);
  });
} else if (!server || 'error' in server) {
  describe('ReadStore contract: MongoDB', () => {
    it(`reaches the server at MONGODB_URI`, () => {
      throw new Error(
        `MONGODB_URI is set but the server does not answer: ${server?.error ?? 'unknown error'}`,
      );
    });
  });
} else {
  const label = server.ferretdb ? 'MongoDB wire on FerretDB' : 'MongoDB';
  const clients: MongoClient[] = [];
  const raw = async (): Promise<MongoClient> => {
    const client = await new MongoClient(uri).connect();
    clients.push(client);
    return client;
  };
  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close();
  });

  describeReadStoreContract(
    label,
    async () => {
      let commands = 0;
      const store = await MongoReadStore.connect(uri, { trace: () => (commands += 1) });
      return {
        store,
        another: () => MongoReadStore.connect(uri),
        queriesRun: () => commands,
        cleanup: async () => {
          // The suite's meta keys (its collections are dropped by the suite itself).
          const client = await raw();
          await client
            .db()
            .collection<{ _id: string }>('read_meta')
            .deleteMany({ _id: { $regex: `^contracttest:${contractRunId}:` } });
          await store.close();
        },
      };
    },
    {
      timeoutMs: 60_000,
      ...(server.ferretdb
        ? {
            nonAtomicUpdates:
              'FerretDB 1.x updates read the document, then rewrite it by _id alone, so the revision guard is not atomic',
          }
        : {}),
    },
  );

  describe(`MongoReadStore specifics (${label})`, () => {
    const spec = {
      name: uniqueCollection('mongo'),
      indexes: [['status', 'createdAt'], ['position']],
      multiValued: ['skus'],
    };
    let store: MongoReadStore;
    let client: MongoClient;
    beforeAll(async () => {
      store = await MongoReadStore.connect(uri);
      client = await raw();
      await store.ensureCollection(spec);
    }, 30_000);
    afterAll(async () => {
      await store.dropCollection(spec.name);
      await client
        .db()
        .collection(uniqueCollection('bulk'))
        .drop()
        .catch(() => undefined);
      await store.close();
    }, 30_000);

    it('unordered bulkWrite with duplicate keys: writeErrors carry the index of each failed op, counts the rest', async () => {
      // What MongoReadStore.write relies on, checked on the server itself.
      const name = uniqueCollection('bulk');
      const collection = client.db().collection<{ _id: string; revision: bigint }>(name);
      await collection.insertMany([
        { _id: 'a', revision: 0n },
        { _id: 'c', revision: 0n },
      ]);
      const error = await collection
        .bulkWrite(
          [
            { insertOne: { document: { _id: 'a', revision: 0n } } },
            { insertOne: { document: { _id: 'b', revision: 0n } } },
            { updateOne: { filter: { _id: 'c', revision: 0n }, update: { $set: { revision: 1n } } } },
            { updateOne: { filter: { _id: 'zz', revision: 0n }, update: { $set: { revision: 1n } } } },
            { insertOne: { document: { _id: 'c', revision: 0n } } },
          ],
          { ordered: false },
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(MongoBulkWriteError);
      const bulk = error as MongoBulkWriteError;
      const failures = ([] as WriteError[]).concat(bulk.writeErrors);
      // Indexes are those of the operations as given, across the driver's split into insert/update commands.
      expect(failures.map((f) => [f.index, f.code])).toEqual([
        [0, 11000],
        [4, 11000],
      ]);
      expect(bulk.result.insertedCount).toBe(1);
      // One total for all updates: which update missed is not reported (hence the writeId read-back).
      expect(bulk.result.matchedCount).toBe(1);
      expect(await collection.countDocuments({})).toBe(3);
    });

    it('stores revision and position as int64 and projectedAt as a date, never as strings', async () => {
      await store.write(spec.name, [
        insert('t', { status: 'open', createdAt: 'x', skus: [] }, 2n ** 33n, 2n ** 53n + 1n),
      ]);
      const documents = client.db().collection(spec.name);
      const stored = await documents.findOne({ _id: 't' as never }, { promoteLongs: false });
      expect(stored?.revision).toBeInstanceOf(Long);
      expect((stored?.revision as Long).toBigInt()).toBe(2n ** 33n);
      expect((stored?.position as Long).toBigInt()).toBe(2n ** 53n + 1n);
      expect(stored?.projectedAt).toBeInstanceOf(Date);
      expect(await documents.countDocuments({ _id: 't' as never, revision: { $type: 'long' } })).toBe(1);
      expect(await documents.countDocuments({ _id: 't' as never, position: { $type: 'long' } })).toBe(1);
    });

    it('creates the declared indexes on data.<field> ending with _id, and a multikey index per multi-valued field', async () => {
      const indexes = await client.db().collection(spec.name).listIndexes().toArray();
      const byName = new Map(
        indexes.map((index) => [index.name as string, index.key as Record<string, number>]),
      );
      expect(byName.get('ix:status,createdAt')).toEqual({ 'data.status': 1, 'data.createdAt': 1, _id: 1 });
      expect(byName.get('ix:position')).toEqual({ position: 1, _id: 1 });
      expect(byName.get('mv:skus')).toEqual({ 'data.skus': 1 });
      // ensureCollection again: the same indexes, no error.
      await store.ensureCollection(spec);
      expect(await client.db().collection(spec.name).listIndexes().toArray()).toHaveLength(indexes.length);
    });

    it('a batch larger than one command of updates still reports exactly its conflicts', async () => {
      const ids = Array.from({ length: 260 }, (_, i) => `big${i}`);
      await store.write(
        spec.name,
        ids.map((id) => insert(id, { status: 'open', createdAt: id, skus: [] }, 1n)),
      );
      const result = await store.write(
        spec.name,
        ids.map((id, i) => update(id, i % 13 === 0 ? 0n : 1n, { status: 'paid', createdAt: id, skus: [] })),
      );
      expect(result.conflicts).toEqual(ids.filter((_, i) => i % 13 === 0));
      expect((await store.get(spec.name, 'big1'))?.revision).toBe(2n);
      expect((await store.get(spec.name, 'big13'))?.revision).toBe(1n);
    }, 60_000);

    it('connect rejects when the server cannot be reached', async () => {
      await expect(
        MongoReadStore.connect('mongodb://127.0.0.1:1/nothing', {
          client: { serverSelectionTimeoutMS: 300 },
        }),
      ).rejects.toThrow(Error);
    });
  });
}
