import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../../../event-store/event-store.port.js';
import type { ReadStore } from '../../read-store.port.js';
import type { AnyProjection } from '../projection.js';
import {
  dropGeneration,
  ensureGeneration,
  projectionGroup,
  type ProjectionSupervisor,
} from '../projection-supervisor.js';
import type { LiveGenerations } from '../live-generations.js';
import { catchUp } from './catch-up.js';
import type { JobContext } from './job-context.js';
import { Verifier } from './verify.js';

export interface JobPhaseOptions {
  /** Events per page of the catch-up read. */
  readonly pageSize: number;
  /**
   * How long the replaced generation stays after the switch before it is dropped: reads in flight finish on
   * it, and other instances (which cache the live generation for up to GENERATION_TTL_MS) notice the switch.
   */
  readonly dropGraceMs: number;
  /** A pause between pages of a catch-up, to spare a busy read store (0: none). */
  readonly pageDelayMs?: number;
}

/**
 * What a job does, phase by phase. Each phase is saved in the job before the next starts, so a job taken
 * over after a crash resumes at the phase it had reached (JobRunner runs them and owns the lease).
 *
 * Rebuild (zero downtime):
 * 1. `building`: the new generation (live + 1) is filled by a filtered catch-up read from position 0 through a
 *    ProjectionRunner writing to its collections, while the old generation keeps serving reads and the live
 *    group keeps updating it. Progress is saved with the position reached, so a restart resumes there:
 *    re-applied events are duplicates for the revision guard.
 * 2. `switching`: the live subscription of this instance is held (its batch in flight settles), a final
 *    catch-up applies what the live group applied meanwhile, the live pointer moves to the new generation
 *    (LiveGenerations.setLiveGeneration) and the hold is released: the group redelivers from its checkpoint into the
 *    new generation (what the catch-up already applied is ignored as duplicates).
 * 3. `draining`: at `dropAt`, the grace delay after the switch, the old generation is dropped (see `drain` for
 *    the last catch-up).
 * Verify: `building` into a shadow generation, then `comparing` (Verifier), then the shadow is dropped.
 */
export class JobPhases {
  constructor(
    private readonly supervisor: ProjectionSupervisor,
    private readonly events: EventStore,
    private readonly store: ReadStore,
    private readonly generations: LiveGenerations,
    private readonly options: JobPhaseOptions,
  ) {}

  async rebuild(context: JobContext, projection: AnyProjection): Promise<void> {
    if (context.job.phase === 'building') {
      await this.build(context, projection);
      context.set({ phase: 'switching' });
      await context.save(true);
    }
    if (context.job.phase === 'switching') await this.switchTo(context, projection);
    if (context.job.phase === 'draining') await this.drain(context, projection);
  }

  async verify(context: JobContext, projection: AnyProjection): Promise<void> {
    if (context.job.phase === 'building') {
      await this.build(context, projection);
      context.set({ phase: 'comparing' });
      await context.save(true);
    }
    const { generation } = context.job;
    const liveGeneration = await this.generations.freshLiveGeneration(projection.name);
    const live = await ensureGeneration(this.store, projection, liveGeneration);
    const shadow = await ensureGeneration(this.store, projection, generation);
    const verifier = new Verifier(
      {
        events: this.events,
        groups: this.supervisor.consumers.groups,
        store: this.store,
        projection,
        group: projectionGroup(projection),
        live,
        shadow,
        liveGeneration,
        shadowGeneration: generation,
        catchUpShadow: () => this.catchUpInto(context, projection, true),
        tick: async () => {
          context.checkpoint();
          await context.save();
        },
      },
      context.job.repair,
    );
    const result = await verifier.run();
    context.set({ result });
    await context.save(true);
    await dropGeneration(this.store, projection, generation);
  }

  /** Fills the target generation up to the head (from scratch, or from where a previous run got). */
  private async build(context: JobContext, projection: AnyProjection): Promise<void> {
    const { generation } = context.job;
    if (!context.job.prepared) {
      // A fresh start: whatever a crashed or cancelled job left under this generation goes first.
      if ((await this.generations.freshLiveGeneration(projection.name)) === generation) {
        throw new Error(
          `generation ${generation} of ${projection.name} is live: it cannot be rebuilt in place`,
        );
      }
      await dropGeneration(this.store, projection, generation);
      await ensureGeneration(this.store, projection, generation);
      const total = await this.events.countAll({ eventTypes: projection.eventTypes });
      context.set({ prepared: true, eventsTotal: total, position: '-1', eventsDone: 0 });
      await context.save(true);
    }
    await this.catchUpInto(context, projection, true);
  }

  /**
   * The switch. This instance's live subscription is held (its batch in flight settles first), so every event
   * the live group has settled is at or below the head the final catch-up reads to; the pointer then moves,
   * and the group, released, delivers into the new generation from its checkpoint.
   */
  private async switchTo(context: JobContext, projection: AnyProjection): Promise<void> {
    context.checkpoint();
    const release = await this.supervisor.hold(projection.name);
    try {
      await this.catchUpInto(context, projection, true);
      const { generation } = context.job;
      const live = await this.generations.freshLiveGeneration(projection.name);
      // A resumed switch may find the pointer moved already (the crash came after it).
      const replaced =
        live !== generation ? live : (context.job.replacedGeneration ?? context.job.fromGeneration);
      context.checkpoint();
      if (live !== generation) await this.generations.setLiveGeneration(projection.name, generation);
      const switchedAt = Date.now();
      context.set({
        phase: 'draining',
        switchedAt: new Date(switchedAt).toISOString(),
        dropAt: new Date(switchedAt + this.options.dropGraceMs).toISOString(),
        replacedGeneration: replaced,
      });
      await context.save(true);
    } finally {
      await release();
    }
  }

  /**
   * Drops the replaced generation once the grace delay is over. Just before, one more catch-up pass into the
   * new generation: another instance caches the live generation for up to a second, so it may have applied
   * an event to the *old* generation after this instance's final catch-up, and acknowledged it — the group
   * will never deliver it again. If a later event of that stream arrives, the runner heals the gap from the
   * event store; if none does (it was the stream's last event), only this pass puts it in the new
   * generation. It reads from the position of the final catch-up; duplicates are ignored by the revision
   * guard, so it is harmless when there was nothing to fix.
   */
  private async drain(context: JobContext, projection: AnyProjection): Promise<void> {
    const { dropAt, switchedAt } = context.job;
    // The grace runs from the switch under this process's REBUILD_DROP_GRACE_MS: an operator who restarts
    // with a shorter grace (or a job saved by a version without dropAt) gets it, and the countdown says so.
    // A longer grace never postpones a drop already announced.
    const graceEnds = Date.parse(switchedAt ?? new Date().toISOString()) + this.options.dropGraceMs;
    const at = dropAt ? Math.min(Date.parse(dropAt), graceEnds) : graceEnds;
    if (dropAt === null || at < Date.parse(dropAt)) {
      context.set({ dropAt: new Date(at).toISOString() });
      await context.save(true);
    }
    await context.waitUntil(at);
    await this.catchUpInto(context, projection, false);
    const { replacedGeneration, generation } = context.job;
    if (replacedGeneration !== null && replacedGeneration !== generation) {
      await dropGeneration(this.store, projection, replacedGeneration);
    }
  }

  /**
   * Catches the job's generation up from the job's position, saving progress after each page. Not
   * `cancellable` once the new generation is live (draining): a cancel can no longer undo the switch.
   */
  private async catchUpInto(
    context: JobContext,
    projection: AnyProjection,
    cancellable: boolean,
  ): Promise<void> {
    const runner = await this.supervisor.runnerFor(projection, context.job.generation);
    await catchUp({
      events: this.events,
      runner,
      after: BigInt(context.job.position),
      pageSize: this.options.pageSize,
      signal: context.signal,
      onPage: async ({ count, position, failures }) => {
        context.advanced(count, position, failures);
        await context.save();
        context.checkpoint(cancellable);
        if (this.options.pageDelayMs)
          await sleep(this.options.pageDelayMs, undefined, { signal: context.signal });
      },
    });
    context.caughtUp();
    await context.save(true);
  }
}
