import { randomUUID } from 'node:crypto';
import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type BulkWriteResult,
  type Collection,
  type WriteError,
} from 'mongodb';
import type { DocumentWrite, WriteResult } from '../read-store.port.js';
import { encodeObject, type StoredDocument } from './mongo-codec.js';
import { DUPLICATE_KEY } from './mongo-errors.js';

/**
 * FerretDB 1.x (SQLite backend) runs each statement of an `update` command as a query whose cursor — and
 * pooled SQLite connection, 100 per database — stays open until the whole command ends, then takes one more
 * connection for its transaction. Once the cursors of the commands in flight hold all 100, none can finish:
 * the database is wedged for good (seen with one command of 100+ updates, and with ~30 concurrent update
 * commands). So on FerretDB this adapter sends small commands, one at a time per instance.
 */
const FERRETDB_OPS_PER_BULK_WRITE = 16;
/**
 * Inserts hold no such cursor (an `insert` command is one statement per document in one transaction), and
 * one command of 2,000 inserts takes ~70 ms on FerretDB where 125 commands of 16 take seconds: on FerretDB,
 * inserts go in commands of their own, this many at a time.
 */
const FERRETDB_INSERTS_PER_BULK_WRITE = 1000;

/** How a batch is cut into bulkWrite commands, and whether commands may run side by side. */
export interface BulkWriteLimits {
  /** Operations per command. Infinite: the whole batch, inserts and updates together, in one command. */
  readonly opsPerCommand: number;
  /** Inserts per command when the batch is cut (inserts then go in commands of their own). */
  readonly insertsPerCommand: number;
  /** One command at a time per store instance (see FERRETDB_OPS_PER_BULK_WRITE). */
  readonly oneAtATime: boolean;
}

/**
 * The limits for the server found at open: the whole batch in one command on MongoDB; on FerretDB updates
 * in commands of FERRETDB_OPS_PER_BULK_WRITE, inserts of FERRETDB_INSERTS_PER_BULK_WRITE, one at a time.
 * `maxOpsPerBulkWrite` (an option of the store) replaces the operations per command on either.
 */
export function bulkWriteLimits(ferretDb: boolean, maxOpsPerBulkWrite: number | undefined): BulkWriteLimits {
  const opsPerCommand =
    maxOpsPerBulkWrite ?? (ferretDb ? FERRETDB_OPS_PER_BULK_WRITE : Number.POSITIVE_INFINITY);
  return {
    opsPerCommand,
    insertsPerCommand: ferretDb ? Math.max(opsPerCommand, FERRETDB_INSERTS_PER_BULK_WRITE) : opsPerCommand,
    oneAtATime: ferretDb,
  };
}

/** Writes the conditional batches of one store instance (it queues their commands when one at a time). */
export class MongoBatchWriter {
  /** The bulkWrite in flight when commands go one at a time: the next one waits for it. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly limits: BulkWriteLimits) {}

  /**
   * One unordered bulkWrite (cut in commands by the limits): `insertOne` for `expectedRevision: null` — a
   * duplicate key (E11000) is that write's conflict — and `updateOne({_id, revision: expected}, {$set})`
   * without upsert otherwise. The driver reports write errors with the index of the failed operation, but
   * only a total of matched updates; when that total falls short, the batch reads back which of its
   * documents carry its `writeId`. (An update of this batch overwritten by a newer one in the meantime is
   * then reported as a conflict: the caller re-reads and finds a revision at or past its own.)
   * Any other write error rejects the batch; the writes without error may have been applied.
   * The writes are validated by the caller.
   */
  async write(
    documents: Collection<StoredDocument>,
    writes: readonly DocumentWrite[],
    onProgress?: () => void,
  ): Promise<WriteResult> {
    if (writes.length === 0) return { conflicts: [] };
    const writeId = randomUUID();
    const projectedAt = new Date();
    const operations: AnyBulkWriteOperation<StoredDocument>[] = writes.map((w) => {
      const fields = {
        revision: w.revision,
        position: w.position,
        projectedAt,
        data: encodeObject(w.data),
        writeId,
      };
      return w.expectedRevision === null
        ? { insertOne: { document: { _id: w.id, ...fields } } }
        : {
            updateOne: {
              filter: { _id: w.id, revision: w.expectedRevision },
              update: { $set: fields },
              upsert: false,
            },
          };
    });

    const conflicting = new Set<number>();
    let updatesShort = false;
    for (const indices of this.chunks(operations)) {
      const chunk = indices.map((i) => operations[i]!);
      const updates = chunk.filter((op) => 'updateOne' in op).length;
      let matched: number;
      try {
        matched = (await this.bulkWrite(documents, chunk)).matchedCount;
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError) || error.writeConcernError) throw error;
        // One WriteError or several (the driver's OneOrMore).
        const failures = ([] as WriteError[]).concat(error.writeErrors);
        for (const failure of failures) {
          const operation = chunk[failure.index];
          if (failure.code === DUPLICATE_KEY && operation && 'insertOne' in operation) {
            conflicting.add(indices[failure.index]!);
          } else {
            throw error;
          }
        }
        matched = error.result.matchedCount;
      }
      if (matched < updates) updatesShort = true;
      onProgress?.();
    }

    if (updatesShort) {
      const updateIds = writes.filter((w) => w.expectedRevision !== null).map((w) => w.id);
      const applied = new Set<string>();
      const cursor = documents.find({ _id: { $in: updateIds }, writeId }, { projection: { _id: 1 } });
      for await (const stored of cursor) applied.add(stored._id);
      writes.forEach((w, i) => {
        if (w.expectedRevision !== null && !applied.has(w.id)) conflicting.add(i);
      });
    }
    return { conflicts: writes.filter((_, i) => conflicting.has(i)).map((w) => w.id) };
  }

  /**
   * The operations of one `write`, as the index lists of the bulkWrite commands to send: all in one when
   * the operations per command are unlimited; otherwise inserts in chunks of `insertsPerCommand`, then
   * updates in chunks of `opsPerCommand`.
   */
  private chunks(operations: readonly AnyBulkWriteOperation<StoredDocument>[]): number[][] {
    const all = operations.map((_, i) => i);
    if (!Number.isFinite(this.limits.opsPerCommand)) return [all];
    const inserts = all.filter((i) => 'insertOne' in operations[i]!);
    const updates = all.filter((i) => !('insertOne' in operations[i]!));
    const split = (indices: number[], size: number): number[][] =>
      Array.from({ length: Math.ceil(indices.length / size) }, (_, k) =>
        indices.slice(k * size, (k + 1) * size),
      );
    return [...split(inserts, this.limits.insertsPerCommand), ...split(updates, this.limits.opsPerCommand)];
  }

  /** One unordered bulkWrite; queued behind the one in flight when commands go one at a time. */
  private bulkWrite(
    documents: Collection<StoredDocument>,
    operations: AnyBulkWriteOperation<StoredDocument>[],
  ): Promise<BulkWriteResult> {
    if (!this.limits.oneAtATime) return documents.bulkWrite(operations, { ordered: false });
    const run = this.inFlight.then(() => documents.bulkWrite(operations, { ordered: false }));
    this.inFlight = run.catch(() => undefined);
    return run;
  }
}
