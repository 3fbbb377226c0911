import { ApplicationError } from '../../../shared/application/errors.js';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { EventStore } from '../../../event-store/event-store.port.js';
import type { ReadStore } from '../../read-store.port.js';
import type { AnyProjection } from '../projection.js';
import { dropGeneration, type ProjectionSupervisor } from '../projection-supervisor.js';
import type { LiveGenerations } from '../live-generations.js';
import { JobCancelledError, JobContext, JobLostError } from './job-context.js';
import { JobPhases, type JobPhaseOptions } from './job-phases.js';
import { type JobStore } from './job-store.js';
import { isTerminal, type JobKind, type JobRecord } from './job.js';

export interface JobRunnerOptions extends JobPhaseOptions {
  /** A running job whose owner has not renewed it for this long is taken over by another instance. */
  readonly leaseMs: number;
  /**
   * The read store belongs to this one process (the embedded store): a job found running at start-up is an
   * orphan of a crash and is taken over at once, without waiting for its lease.
   */
  readonly exclusive: boolean;
  /**
   * How often a running job saves its progress (which also renews its lease), at most: a page applied saves
   * it when this long has passed since the last save. Default 250 ms, so a watched progress bar moves at
   * least every page or every 250 ms, whichever is later (a compare-and-set of one small document each time).
   */
  readonly saveEveryMs?: number;
}

/** See JobRunnerOptions.saveEveryMs. */
export const DEFAULT_SAVE_EVERY_MS = 250;

/** The job cannot be cancelled any more: it finished, or its new generation is live already. */
export class JobNotCancellableError extends ApplicationError {
  constructor(readonly job: JobRecord) {
    super(
      'conflict',
      'JOB_NOT_CANCELLABLE',
      isTerminal(job.state)
        ? `job ${job.id} has already ${job.state === 'succeeded' ? 'succeeded' : job.state === 'failed' ? 'failed' : 'been cancelled'}`
        : `job ${job.id} has switched the live generation already; it only drops the old one now`,
      { jobId: job.id, state: job.state, phase: job.phase },
    );
  }
}

interface Execution {
  readonly context: JobContext;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs rebuild and verify jobs (one at a time per projection, any number of projections at once), keeps them
 * in the read store (JobStore) and takes over the ones a crashed instance left running. What each job does,
 * phase by phase, is JobPhases'; this class owns their lifecycle: launch, lease, cancel, take-over, the end
 * state. A cancel (before the switch) or a failure drops the half-built generation; the live one never changed.
 */
export class JobRunner {
  /** Identifies this process as a job owner (leases). */
  readonly instanceId = randomUUID();
  private readonly logger = new Logger('ProjectionJobs');
  private readonly running = new Map<string, Execution>();
  private readonly phases: JobPhases;
  private scanTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly supervisor: ProjectionSupervisor,
    events: EventStore,
    private readonly store: ReadStore,
    private readonly generations: LiveGenerations,
    readonly jobs: JobStore,
    private readonly options: JobRunnerOptions,
  ) {
    this.phases = new JobPhases(supervisor, events, store, generations, options);
  }

  /** Takes over the jobs left running by a crash (and keeps looking for orphans of other instances). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.takeOverOrphans();
    if (!this.options.exclusive) {
      this.scanTimer = setInterval(
        () => {
          this.takeOverOrphans().catch((error: unknown) =>
            this.logger.warn(`looking for orphaned jobs failed: ${errorText(error)}`),
          );
        },
        Math.max(1000, Math.floor(this.options.leaseMs / 2)),
      );
      this.scanTimer.unref();
    }
  }

  /**
   * Stops every job of this process at its next page and frees its lease (the job stays `running`: the next
   * start, here or on another instance, resumes it).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.scanTimer);
    const executions = [...this.running.values()];
    for (const execution of executions) execution.abort.abort(new Error('shutting down'));
    await Promise.all(executions.map((execution) => execution.done));
  }

  /**
   * Starts a job on a projection of the supervisor. Throws JobConflictError when a job of that projection
   * is running (here or on another instance).
   */
  async launch(
    kind: JobKind,
    projection: string,
    options: { repair?: boolean; requestedBy: string },
  ): Promise<JobRecord> {
    if (!this.supervisor.projection(projection)) throw new Error(`no projection named ${projection}`);
    const live = await this.generations.freshLiveGeneration(projection);
    const now = new Date().toISOString();
    const record: JobRecord = {
      id: randomUUID(),
      kind,
      projection,
      state: 'running',
      phase: 'building',
      generation: live + 1,
      fromGeneration: live,
      replacedGeneration: null,
      prepared: false,
      position: '-1',
      eventsDone: 0,
      eventsTotal: 0,
      rate: 0,
      etaSeconds: null,
      startedAt: now,
      updatedAt: now,
      switchedAt: null,
      dropAt: null,
      finishedAt: null,
      error: null,
      cancelRequested: false,
      requestedBy: options.requestedBy,
      repair: kind === 'verify' && options.repair === true,
      owner: this.instanceId,
      heartbeatAt: now,
      skipped: [],
      skippedCount: 0,
      result: null,
    };
    await this.jobs.create(record);
    this.execute(record);
    return record;
  }

  /**
   * Cancels a running job: at its next page it drops its half-built generation and ends `cancelled` (the
   * live generation never changed). Resolves with the job once it has ended here, or right away with
   * `cancelRequested` when another instance runs it (it notices within a save period). Null: no such job.
   * Throws JobNotCancellableError when the job has ended or has switched generations already.
   */
  async cancel(id: string, waitMs = 10_000): Promise<JobRecord | null> {
    for (let attempt = 0; ; attempt++) {
      const job = await this.jobs.get(id);
      if (!job) return null;
      if (isTerminal(job.state) || job.switchedAt !== null || job.phase === 'draining') {
        throw new JobNotCancellableError(job);
      }
      if (job.cancelRequested) break;
      const stamp = new Date().toISOString();
      if (await this.jobs.replace(job, { ...job, cancelRequested: true, updatedAt: stamp })) break;
      if (attempt >= 20) throw new Error(`job ${id} keeps changing; try again`);
    }
    let execution = this.running.get(id);
    if (!execution) {
      // Nobody may be running it (an orphan): take it over, so that the cancel is carried out now.
      await this.takeOverOrphans();
      execution = this.running.get(id);
    }
    if (execution) {
      execution.context.requestCancel();
      await Promise.race([execution.done, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    }
    return this.jobs.get(id);
  }

  /** Whether this process runs the job (tests, diagnostics). */
  isRunningHere(id: string): boolean {
    return this.running.has(id);
  }

  private async takeOverOrphans(): Promise<void> {
    if (this.stopped) return;
    for (const job of await this.jobs.running()) {
      if (this.running.has(job.id)) continue;
      const silentFor = Date.now() - Date.parse(job.heartbeatAt);
      const orphan = job.owner === null || this.options.exclusive || silentFor > this.options.leaseMs;
      if (!orphan) continue;
      const stamp = new Date().toISOString();
      const mine: JobRecord = { ...job, owner: this.instanceId, heartbeatAt: stamp, updatedAt: stamp };
      if (!(await this.jobs.replace(job, mine))) continue; // another instance was quicker
      this.logger.log(`taking over ${job.kind} job ${job.id} of ${job.projection} (phase ${job.phase})`);
      this.execute(mine);
    }
  }

  private execute(record: JobRecord): void {
    const abort = new AbortController();
    const context = new JobContext(
      this.jobs,
      record,
      this.instanceId,
      abort.signal,
      this.options.saveEveryMs ?? DEFAULT_SAVE_EVERY_MS,
    );
    const done = this.run(context)
      .catch((error: unknown) => this.logger.error(`job ${record.id}: ${errorText(error)}`))
      .finally(() => this.running.delete(record.id));
    this.running.set(record.id, { context, abort, done });
  }

  private async run(context: JobContext): Promise<void> {
    const job = context.job;
    const projection = this.supervisor.projection(job.projection);
    try {
      if (!projection)
        throw new Error(`no projection named ${job.projection} in this version of the service`);
      context.checkpoint();
      if (job.kind === 'rebuild') await this.phases.rebuild(context, projection);
      else await this.phases.verify(context, projection);
      await this.finish(context, 'succeeded', null);
      const done = context.job;
      this.logger.log(
        `${done.kind} of ${done.projection} succeeded (job ${done.id}, ${done.eventsDone} events)`,
      );
    } catch (error) {
      if (error instanceof JobLostError) {
        this.logger.warn(`job ${job.id}: ${error.message}; this instance stops running it`);
        return;
      }
      if (context.signal.aborted && !(error instanceof JobCancelledError)) {
        // A shutdown: the job stays running; freeing the lease lets the next start take it over at once.
        await context.save(true, { release: true }).catch(() => undefined);
        return;
      }
      const cancelled = error instanceof JobCancelledError;
      if (projection) await this.dropUnfinished(context, projection);
      await this.finish(context, cancelled ? 'cancelled' : 'failed', cancelled ? null : errorText(error));
      if (!cancelled)
        this.logger.error(`${job.kind} of ${job.projection} failed (job ${job.id}): ${errorText(error)}`);
    }
  }

  private async finish(
    context: JobContext,
    state: 'succeeded' | 'failed' | 'cancelled',
    error: string | null,
  ) {
    const stamp = new Date().toISOString();
    context.set({
      state,
      phase: 'done',
      finishedAt: stamp,
      error,
      rate: 0,
      etaSeconds: state === 'succeeded' ? 0 : null,
    });
    await context.save(true);
    await this.jobs.release(context.job);
  }

  /** After a cancel or a failure: the generation being built goes, unless it is live (never the live one). */
  private async dropUnfinished(context: JobContext, projection: AnyProjection): Promise<void> {
    const { generation, kind, switchedAt } = context.job;
    if (kind === 'rebuild' && switchedAt !== null) return;
    try {
      if ((await this.generations.freshLiveGeneration(projection.name)) === generation) return;
      await dropGeneration(this.store, projection, generation);
    } catch (error) {
      this.logger.warn(`could not drop generation ${generation} of ${projection.name}: ${errorText(error)}`);
    }
  }
}
