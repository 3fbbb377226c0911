import { Injectable } from '@nestjs/common';
import { ConsumerGroups } from '../../event-store/consumer-groups.port.js';
import { JobRunner } from '../../read-side/runtime/jobs/job-runner.js';
import { JobConflictError, JobStore, JOBS_KEPT } from '../../read-side/runtime/jobs/job-store.js';
import type { JobKind, JobState } from '../../read-side/runtime/jobs/job.js';
import { ConsumerRegistry } from '../../read-side/runtime/consumer-registry.js';
import type { ManagedConsumer } from '../../read-side/runtime/managed-consumer.js';
import type { Actor } from '../../shared/application/command-context.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { jobLocation, jobView, parkedView, type JobView, type ParkedEventView } from './admin-views.js';
import { NotAProjectionError } from './projection-admin.errors.js';
import { ProjectionStatusService, type ProjectionStatus } from './projection-status.service.js';

export interface JobFilter {
  readonly projection?: string;
  readonly kind?: JobKind;
  readonly state?: JobState;
}

/**
 * The projection admin: what `/admin/projections` and `/admin/jobs` do, for every caller (HTTP today; the
 * CLI and the admin page go through HTTP). Names are those of `GET /admin/projections`: the four projections
 * and the checkout process manager (`place-order-on-checkout`), which can be paused, resumed and have its
 * parked events replayed, but has no read model to rebuild or verify.
 *
 * Errors: ResourceNotFoundError (`projection`/`job`: 404), NotAProjectionError (409), JobConflictError (409,
 * a job of that projection is running), JobNotCancellableError (409).
 */
@Injectable()
export class ProjectionAdminService {
  constructor(
    private readonly status: ProjectionStatusService,
    private readonly consumers: ConsumerRegistry,
    private readonly runner: JobRunner,
    private readonly jobs: JobStore,
    private readonly groups: ConsumerGroups,
  ) {}

  list(): Promise<ProjectionStatus[]> {
    return this.status.status();
  }

  async get(name: string): Promise<ProjectionStatus> {
    const status = await this.status.statusOf(name);
    if (!status) throw new ResourceNotFoundError('projection', name);
    return status;
  }

  /**
   * Stops applying: persisted (it survives restarts, and every instance follows within one heartbeat
   * period); in this instance it has stopped when this resolves (batch in flight settled). Idempotent.
   */
  async pause(name: string, actor: Actor): Promise<ProjectionStatus> {
    await this.consumers.setPaused(this.consumer(name).name, true, actor.id);
    return this.get(name);
  }

  /** Applies again: the group redelivers from its checkpoint, so the projection catches up. Idempotent. */
  async resume(name: string, actor: Actor): Promise<ProjectionStatus> {
    await this.consumers.setPaused(this.consumer(name).name, false, actor.id);
    return this.get(name);
  }

  rebuild(name: string, actor: Actor): Promise<JobView> {
    return this.launch('rebuild', name, { requestedBy: actor.id });
  }

  verify(name: string, repair: boolean, actor: Actor): Promise<JobView> {
    return this.launch('verify', name, { repair, requestedBy: actor.id });
  }

  /** The oldest parked events first, and how many there are in all. */
  async parked(name: string, limit: number): Promise<{ items: ParkedEventView[]; total: number }> {
    const { group } = this.consumer(name).spec.settings;
    const [parked, info] = await Promise.all([
      this.groups.listParked(group, { limit }),
      this.groups.groupInfo(group),
    ]);
    return { items: parked.map(parkedView), total: info.parkedCount };
  }

  /** Moves parked events (all, or the oldest `limit`) back to delivery. */
  async replayParked(name: string, limit: number | undefined): Promise<{ replayed: number }> {
    const { group } = this.consumer(name).spec.settings;
    return { replayed: await this.groups.replayParked(group, limit === undefined ? {} : { limit }) };
  }

  /** The newest jobs first (of the JOBS_KEPT remembered), filtered. */
  async listJobs(limit: number, filter: JobFilter = {}): Promise<JobView[]> {
    const filtered =
      filter.projection !== undefined || filter.kind !== undefined || filter.state !== undefined;
    // Unfiltered, only the jobs asked for are read; a filter looks through every job remembered.
    const jobs = await this.jobs.list(filtered ? JOBS_KEPT : limit);
    return jobs
      .filter(
        (job) =>
          (filter.projection === undefined || job.projection === filter.projection) &&
          (filter.kind === undefined || job.kind === filter.kind) &&
          (filter.state === undefined || job.state === filter.state),
      )
      .slice(0, limit)
      .map(jobView);
  }

  async job(id: string): Promise<JobView> {
    const job = await this.jobs.get(id);
    if (!job) throw new ResourceNotFoundError('job', id);
    return jobView(job);
  }

  /**
   * Cancels a running job (before its switch). `done`: it has ended (`cancelled`) by the time this resolves;
   * false when another instance runs it and has not acted on the request yet.
   */
  async cancelJob(id: string): Promise<{ job: JobView; done: boolean }> {
    const job = await this.runner.cancel(id);
    if (!job) throw new ResourceNotFoundError('job', id);
    return { job: jobView(job), done: job.state !== 'running' };
  }

  private async launch(
    kind: JobKind,
    name: string,
    options: { repair?: boolean; requestedBy: string },
  ): Promise<JobView> {
    const consumer = this.consumer(name);
    if (consumer.spec.kind !== 'projection') throw new NotAProjectionError(name);
    try {
      return jobView(await this.runner.launch(kind, name, options));
    } catch (error) {
      // Where the running job can be watched: an operator (or the CLI) follows it instead of starting another.
      if (error instanceof JobConflictError) {
        throw new JobConflictError(error.running, { jobLocation: jobLocation(error.running.id) });
      }
      throw error;
    }
  }

  private consumer(name: string): ManagedConsumer {
    const consumer = this.consumers.get(name);
    if (!consumer) throw new ResourceNotFoundError('projection', name);
    return consumer;
  }
}
