import type { JobStore } from './job-store.js';
import type { JobRecord, SkippedStream } from './job.js';

/** The job was cancelled by an operator (DELETE /admin/jobs/:id): stop and clean up. */
export class JobCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelledError';
  }
}

/** The job is no longer this instance's (taken over after a lease expired, or deleted): stop touching it. */
export class JobLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobLostError';
  }
}

/** Streams a job lists by name (their total is kept in `skippedCount`). */
const SKIPPED_LISTED = 20;
/** Window of the rate estimate. */
const RATE_WINDOW_MS = 5_000;

/**
 * A running job as its owner sees it: the stored record (`stored`, what a compare-and-set expects) and the
 * changes not saved yet. Progress is saved at most every `saveEveryMs`, and every save renews the lease.
 * A save that loses its compare-and-set re-reads the job: a cancel request is taken on board, a job that is
 * gone or owned by another instance stops this run (JobLostError).
 */
export class JobContext {
  private stored: JobRecord;
  private changes: Partial<JobRecord> = {};
  private lastSave = 0;
  private cancelled = false;
  private readonly samples: { at: number; done: number }[] = [];

  constructor(
    private readonly jobs: JobStore,
    record: JobRecord,
    private readonly instanceId: string,
    readonly signal: AbortSignal,
    private readonly saveEveryMs: number,
  ) {
    this.stored = record;
  }

  /** The job with the changes not saved yet. */
  get job(): JobRecord {
    return { ...this.stored, ...this.changes };
  }

  set(patch: Partial<JobRecord>): void {
    this.changes = { ...this.changes, ...patch };
  }

  /** Marks the job cancelled from this process (its loop stops at the next page). */
  requestCancel(): void {
    this.cancelled = true;
  }

  get cancelRequested(): boolean {
    return this.cancelled || this.stored.cancelRequested;
  }

  /** Between pages: stop on shutdown, and on a cancel unless the job is past the point of no return. */
  checkpoint(cancellable = true): void {
    this.signal.throwIfAborted();
    if (cancellable && this.cancelRequested) throw new JobCancelledError();
  }

  /** A page of the catch-up is applied: counts it, remembers poison streams, estimates the rate. */
  advanced(count: number, position: bigint, failures: readonly SkippedStream[]): void {
    const job = this.job;
    const done = job.eventsDone + count;
    const skipped = [...job.skipped];
    let skippedCount = job.skippedCount;
    for (const failure of failures) {
      if (skipped.some((s) => s.streamId === failure.streamId)) continue;
      skippedCount += 1;
      if (skipped.length < SKIPPED_LISTED) skipped.push(failure);
    }
    const now = Date.now();
    this.samples.push({ at: now, done });
    while (this.samples.length > 2 && this.samples[0]!.at < now - RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const rate = now > first.at ? ((done - first.done) * 1000) / (now - first.at) : 0;
    const total = Math.max(job.eventsTotal, done);
    this.set({
      eventsDone: done,
      eventsTotal: total,
      position: position.toString(),
      rate: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 ? Math.round(((total - done) / rate) * 10) / 10 : null,
      skipped,
      skippedCount,
    });
  }

  /** Caught up: the total is what was done, nothing is left to estimate. */
  caughtUp(): void {
    this.samples.length = 0;
    const job = this.job;
    this.set({ eventsTotal: job.eventsDone, rate: 0, etaSeconds: 0 });
  }

  /** Saves the changes (and renews the lease) when `force`d or when the last save is old enough. */
  async save(force = false, options: { release?: boolean } = {}): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastSave < this.saveEveryMs) return;
    for (let attempt = 0; attempt < 10; attempt++) {
      const stamp = new Date().toISOString();
      const next: JobRecord = {
        ...this.stored,
        ...this.changes,
        cancelRequested: this.stored.cancelRequested || this.cancelled,
        owner: options.release ? null : this.instanceId,
        heartbeatAt: stamp,
        updatedAt: stamp,
      };
      if (await this.jobs.replace(this.stored, next)) {
        this.stored = next;
        this.changes = {};
        this.lastSave = now;
        return;
      }
      const current = await this.jobs.get(this.stored.id);
      if (!current) throw new JobLostError(`job ${this.stored.id} no longer exists`);
      if (current.owner !== null && current.owner !== this.instanceId) {
        throw new JobLostError(`job ${this.stored.id} was taken over by instance ${current.owner}`);
      }
      this.stored = current;
    }
    throw new JobLostError(`job ${this.stored.id} keeps changing under this instance`);
  }

  /** Waits until `at` (ms since the epoch), renewing the lease meanwhile; a shutdown cuts it short. */
  async waitUntil(at: number): Promise<void> {
    for (;;) {
      this.signal.throwIfAborted();
      const remaining = at - Date.now();
      if (remaining <= 0) return;
      await new Promise<void>((resolve) => {
        const signal = this.signal;
        const timer = setTimeout(done, Math.min(remaining, this.saveEveryMs));
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
      await this.save(true);
    }
  }
}
