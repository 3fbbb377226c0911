import type { JsonObject } from '../../../event-store/event-store.port.js';
import { ApplicationError } from '../../../shared/application/errors.js';
import type { ReadStore } from '../../read-store.port.js';
import { fromStored, isTerminal, toStored, type JobRecord } from './job.js';

const jobKey = (id: string): string => `job:${id}`;
const lockKey = (projection: string): string => `projection-job:${projection}`;
const INDEX_KEY = 'jobs:index';
/** Jobs remembered (newest first); older finished ones are forgotten. */
export const JOBS_KEPT = 100;
const CAS_ATTEMPTS = 20;

/** A job of this projection is running already: one at a time per projection. */
export class JobConflictError extends ApplicationError {
  constructor(
    readonly running: JobRecord,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    super(
      'conflict',
      'JOB_RUNNING',
      `${running.kind} job ${running.id} of projection ${running.projection} is still running`,
      { jobId: running.id, jobKind: running.kind, ...details },
    );
  }
}

/**
 * Jobs in the read store's meta, so that every instance sees them and a crash leaves them where a restart
 * finds them:
 * - `job:<id>` the job itself (see JobRecord);
 * - `projection-job:<name>` → `{jobId}`: the running job of a projection (a lock, taken by compare-and-set,
 *   so two instances cannot start two jobs of one projection);
 * - `jobs:index` → `{ids}`: the newest JOBS_KEPT job ids, newest first.
 */
export class JobStore {
  constructor(private readonly store: ReadStore) {}

  async get(id: string): Promise<JobRecord | null> {
    const value = await this.store.getMeta(jobKey(id));
    return value ? fromStored(value) : null;
  }

  /** The newest jobs first. */
  async list(limit: number): Promise<JobRecord[]> {
    const ids = await this.ids();
    const jobs = await Promise.all(ids.slice(0, limit).map((id) => this.get(id)));
    return jobs.filter((job): job is JobRecord => job !== null);
  }

  /** Every job still marked running (for take-over after a crash). */
  async running(): Promise<JobRecord[]> {
    const jobs = await Promise.all((await this.ids()).map((id) => this.get(id)));
    return jobs.filter((job): job is JobRecord => job !== null && job.state === 'running');
  }

  /** The running job of a projection, if any. */
  async active(projection: string): Promise<JobRecord | null> {
    const lock = await this.store.getMeta(lockKey(projection));
    if (typeof lock?.jobId !== 'string') return null;
    const job = await this.get(lock.jobId);
    return job && !isTerminal(job.state) ? job : null;
  }

  /**
   * Records a new running job and takes its projection's lock. The job is written before the lock is taken,
   * so a lock always names a job that exists; a lock naming a finished job (a crash between the end and the
   * release) is stale and is taken over. Throws JobConflictError when another job holds the lock.
   */
  async create(record: JobRecord): Promise<JobRecord> {
    await this.store.setMeta(jobKey(record.id), toStored(record));
    const mine = { jobId: record.id };
    try {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        if (await this.store.compareAndSetMeta(lockKey(record.projection), null, mine)) break;
        const lock = await this.store.getMeta(lockKey(record.projection));
        if (!lock) continue;
        const holder = typeof lock.jobId === 'string' ? await this.get(lock.jobId) : null;
        if (holder && !isTerminal(holder.state)) throw new JobConflictError(holder);
        if (await this.store.compareAndSetMeta(lockKey(record.projection), lock, mine)) break;
        if (attempt === CAS_ATTEMPTS - 1)
          throw new Error(`could not take the job lock of ${record.projection}`);
      }
    } catch (error) {
      await this.store.compareAndSetMeta(jobKey(record.id), toStored(record), null);
      throw error;
    }
    await this.remember(record.id);
    return record;
  }

  /** Compare-and-set of a job: writes `next` only if the stored job is still `current`. */
  async replace(current: JobRecord, next: JobRecord): Promise<boolean> {
    return this.store.compareAndSetMeta(jobKey(current.id), toStored(current), toStored(next));
  }

  /** Frees the projection's lock if this job holds it. */
  async release(job: JobRecord): Promise<void> {
    await this.store.compareAndSetMeta(lockKey(job.projection), { jobId: job.id }, null);
  }

  private async ids(): Promise<string[]> {
    const index = await this.store.getMeta(INDEX_KEY);
    return Array.isArray(index?.ids) ? index.ids.filter((id): id is string => typeof id === 'string') : [];
  }

  /** Puts a job first in the index; forgets the finished jobs beyond JOBS_KEPT. */
  private async remember(id: string): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const index = await this.store.getMeta(INDEX_KEY);
      const ids = [id, ...(Array.isArray(index?.ids) ? index.ids : []).filter((x) => x !== id)];
      const kept: string[] = [];
      const dropped: string[] = [];
      for (const [i, jobId] of ids.entries()) {
        if (typeof jobId !== 'string') continue;
        if (i < JOBS_KEPT) kept.push(jobId);
        else dropped.push(jobId);
      }
      // A running job beyond the cap stays (it must remain findable for a take-over).
      for (const jobId of [...dropped]) {
        const job = await this.get(jobId);
        if (job && !isTerminal(job.state)) {
          kept.push(jobId);
          dropped.splice(dropped.indexOf(jobId), 1);
        }
      }
      const next: JsonObject = { ids: kept };
      if (await this.store.compareAndSetMeta(INDEX_KEY, index, next)) {
        for (const jobId of dropped) {
          const job = await this.store.getMeta(jobKey(jobId));
          if (job) await this.store.compareAndSetMeta(jobKey(jobId), job, null);
        }
        return;
      }
    }
    throw new Error('could not record the job in the jobs index');
  }
}
