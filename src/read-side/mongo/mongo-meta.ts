import type { Collection, Db } from 'mongodb';
import type { JsonObject } from '../../event-store/event-store.port.js';
import { META_COLLECTION } from '../read-store.validation.js';
import { sameJson } from '../same-json.js';
import { decodeObject, encodeObject } from './mongo-codec.js';
import { isDuplicateKey, retryOnDuplicateKey } from './mongo-errors.js';

interface MetaEntry {
  _id: string;
  value: JsonObject;
}

/** The read side's own named values (`read_meta`), stored in the same escaped form as documents. */
export class MongoMeta {
  private readonly meta: Collection<MetaEntry>;

  constructor(db: Db) {
    this.meta = db.collection<MetaEntry>(META_COLLECTION);
  }

  async get(key: string): Promise<JsonObject | null> {
    const found = await this.meta.findOne({ _id: key });
    return found ? decodeObject(found.value) : null;
  }

  async set(key: string, value: JsonObject): Promise<void> {
    await retryOnDuplicateKey(() =>
      this.meta.updateOne({ _id: key }, { $set: { value: encodeObject(value) } }, { upsert: true }),
    );
  }

  /**
   * Creating is an `insertOne` (a duplicate key means somebody else created it first); replacing or deleting
   * reads the entry, compares it with `expected`, then updates/deletes with a filter on the exact stored
   * value, so a change in between makes the filter miss. (FerretDB 1.x rewrites a matched document by `_id`
   * alone, so there two racing replacements of one value can both report success; creation stays atomic.)
   */
  async compareAndSet(key: string, expected: JsonObject | null, value: JsonObject | null): Promise<boolean> {
    if (expected === null) {
      if (value === null) return (await this.meta.findOne({ _id: key })) === null;
      try {
        await this.meta.insertOne({ _id: key, value: encodeObject(value) });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    }
    const found = await this.meta.findOne({ _id: key });
    if (!found || !sameJson(decodeObject(found.value), expected)) return false;
    const filter = { _id: key, value: { $eq: found.value } };
    if (value === null) return (await this.meta.deleteOne(filter)).deletedCount === 1;
    return (await this.meta.updateOne(filter, { $set: { value: encodeObject(value) } })).matchedCount === 1;
  }
}
