import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { ConsumerGroups } from '../../event-store/consumer-groups.port.js';
import { EventStore } from '../../event-store/event-store.port.js';
import { ReadStoreUnavailableError } from '../../read-side/read-store.port.js';
import { JobStore } from '../../read-side/runtime/jobs/job-store.js';
import type { JobRecord } from '../../read-side/runtime/jobs/job.js';
import { ConsumerRegistry } from '../../read-side/runtime/consumer-registry.js';
import { FreshnessMonitor, type FreshnessSummary } from '../../read-side/runtime/freshness.js';
import type { ConsumerKind, ManagedConsumer } from '../../read-side/runtime/managed-consumer.js';
import { ProjectionSupervisor } from '../../read-side/runtime/projection-supervisor.js';
import { ConsistencySampler, type ConsistencyState } from '../../read-side/runtime/consistency-sampler.js';
import { physicalCollection, LiveGenerations } from '../../read-side/runtime/live-generations.js';
import { LAG_COUNT_CAP, ProjectionObserver, type ProjectionObservation } from './projection-observer.js';

/** `running`, `paused` (by an operator), `rebuilding` (a rebuild job runs), `faulted`, `stalled`. */
export type ProjectionHealthStatus = 'running' | 'paused' | 'rebuilding' | 'faulted' | 'stalled';

/** Counting the events behind a projection stops here: the answer is then "at least this many". */
export const LAG_EVENTS_CAP = 100_000;

/**
 * One consumer group as an operator sees it: a projection (`kind: "projection"`) or the checkout process
 * manager (`kind: "process-manager"`). Cluster-wide facts come from the stores (checkpoint, lag, parked,
 * jobs, paused flag); `eventsPerSecond`, `eventsApplied`, `lastHeartbeat`, `lastBatchAt` and `lastError`
 * are this instance's own delivery loop.
 */
export interface ProjectionStatus {
  readonly name: string;
  readonly kind: ConsumerKind;
  /** Its consumer group (`projection-orders`, `process-place-order-on-checkout`). */
  readonly group: string;
  readonly status: ProjectionHealthStatus;
  /** False when stalled or faulted (what turns `/health/ready` red). */
  readonly healthy: boolean;
  /**
   * The consistency sampler found documents of its live generation that differ from their streams, and they
   * still do (re-checked until repaired). Serving goes on: `/health/ready` stays up and says `degraded`.
   */
  readonly degraded: boolean;
  readonly paused: boolean;
  /**
   * The instance delivering its group (INSTANCE_ID), whichever instance answers: PostgreSQL, the holder of the
   * group's lease; embedded, this instance while it runs the group; EventStoreDB, null (every instance
   * subscribes, the server shares the events out).
   */
  readonly owner: string | null;
  /** Generation serving reads (projections only). */
  readonly liveGeneration: number | null;
  /** Physical collections of the live generation (projections only). */
  readonly collections: readonly string[];
  /** The group's checkpoint: every matching event at or below it is settled (null: nothing yet). */
  readonly position: number | null;
  /** Global position of the newest event in the store. */
  readonly headPosition: number;
  /** Matching events after the checkpoint, counted up to LAG_EVENTS_CAP. */
  readonly lagEvents: number;
  /** True when counting stopped at the cap: the lag is at least `lagEvents` ("100000+"). */
  readonly lagEventsCapped: boolean;
  /** Age of the oldest matching event after the checkpoint; 0 when caught up. */
  readonly lagMs: number;
  /**
   * Projections: the freshness budget, and p50/p99 of the time from append to application of the events this
   * instance applied lately (a bounded window: the last 2,048 of the last five minutes); null for a process
   * manager.
   */
  readonly freshness: FreshnessSummary | null;
  readonly eventsPerSecond: number;
  readonly eventsApplied: number;
  readonly parked: number;
  /** ISO instant of the last sign of life of the delivery loop (a batch, or an idle tick). */
  readonly lastHeartbeat: string | null;
  readonly lastBatchAt: string | null;
  readonly lastError: string | null;
  /** Continuous consistency monitoring of this instance (projections only; null for process managers). */
  readonly consistency: ConsistencyView | null;
  /** The rebuild or verify job running on it, if any. */
  readonly job: {
    readonly id: string;
    readonly kind: JobRecord['kind'];
    readonly phase: JobRecord['phase'];
    readonly eventsDone: number;
    readonly eventsTotal: number;
  } | null;
}

/** The sampler's state as the admin API answers it (instants as ISO strings). */
export interface ConsistencyView {
  readonly sampling: ConsistencyState['sampling'];
  readonly samplesPerSecond: number;
  readonly samples: number;
  readonly driftFound: number;
  readonly driftedCount: number;
  readonly drifted: readonly {
    readonly collection: string;
    readonly id: string;
    readonly streamId: string | null;
    readonly kind: string;
    readonly liveRevision: number;
    readonly expectedRevision: number | null;
    readonly fields: readonly string[];
    readonly foundAt: string;
  }[];
  readonly passes: number;
  readonly lastSampleAt: string | null;
  readonly lastError: string | null;
}

/** Drifted documents listed per projection in the admin API (all are counted). */
const DRIFTED_LISTED = 20;

/**
 * The state of every projection (and of the checkout process manager), for operators (`GET
 * /admin/projections`), `/health/ready` and `/metrics`.
 *
 * A projection is `stalled` when work is waiting — its oldest unprocessed matching event is older than
 * PROJECTION_STALL_MS — and its delivery loop has shown no progress for that long either (no batch ended, and
 * the batch in flight, if any, completed no read or write: a hung handler, a dead subscription): health
 * turns red even when the lag in events looks small. A slow batch that keeps writing is not stalled. It is `faulted` when its
 * batches keep failing as a whole (e.g. its read store is down) or its subscription cannot start. A paused
 * projection is never stalled: it is not meant to move. With several instances, a group another instance owns
 * (its lease) is that instance's to judge: this one delivers nothing for it and is not stalled by it.
 *
 * Bound as the operations module's {@link ProjectionObserver} (health and metrics call `observe()`).
 */
@Injectable()
export class ProjectionStatusService extends ProjectionObserver {
  constructor(
    private readonly events: EventStore,
    private readonly groups: ConsumerGroups,
    private readonly generations: LiveGenerations,
    private readonly consumers: ConsumerRegistry,
    private readonly supervisor: ProjectionSupervisor,
    private readonly jobs: JobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly freshness?: FreshnessMonitor,
    @Optional() private readonly sampler?: ConsistencySampler,
  ) {
    super();
  }

  /** Every projection, then the process manager(s), with lag counted up to LAG_EVENTS_CAP. */
  async status(): Promise<ProjectionStatus[]> {
    return this.compute(this.consumers.list(), LAG_EVENTS_CAP);
  }

  /** One of them by name; null when there is none by that name. */
  async statusOf(name: string): Promise<ProjectionStatus | null> {
    const consumer = this.consumers.get(name);
    return consumer ? ((await this.compute([consumer], LAG_EVENTS_CAP))[0] ?? null) : null;
  }

  /** False when any projection or process manager is stalled or faulted. Cheap: lag is not counted. */
  async healthy(): Promise<boolean> {
    return (await this.compute(this.consumers.list(), 0)).every((s) => s.healthy);
  }

  /** For health and metrics: the same facts, with the lag counted up to the scrape-friendly LAG_COUNT_CAP. */
  async observe(): Promise<readonly ProjectionObservation[]> {
    return (await this.compute(this.consumers.list(), LAG_COUNT_CAP)).map((s) => ({
      name: s.name,
      status: s.status,
      healthy: s.healthy,
      lagEvents: s.lagEvents,
      lagSeconds: s.lagMs / 1000,
      eventsApplied: s.eventsApplied,
      parked: s.parked,
      rebuild:
        s.job?.kind === 'rebuild' ? { done: s.job.eventsDone, total: s.job.eventsTotal || null } : null,
      consistency: s.consistency
        ? { degraded: s.degraded, samples: s.consistency.samples, driftFound: s.consistency.driftFound }
        : null,
    }));
  }

  private async compute(consumers: readonly ManagedConsumer[], lagCap: number): Promise<ProjectionStatus[]> {
    const head = await this.events.headPosition();
    return Promise.all(consumers.map((consumer) => this.one(consumer, head, lagCap)));
  }

  private async one(consumer: ManagedConsumer, head: bigint, lagCap: number): Promise<ProjectionStatus> {
    const now = Date.now();
    const runtime = consumer.runtime(now);
    const projection = runtime.kind === 'projection' ? this.supervisor.projection(runtime.name) : undefined;
    // Jobs and generations are kept in the read store: while it cannot be reached the status still answers
    // (an operator needs it most then), without them, and says why.
    let readStoreError: string | null = null;
    const fromReadStore = <T>(read: () => Promise<T>): Promise<T | null> =>
      read().catch((error: unknown) => {
        if (!(error instanceof ReadStoreUnavailableError)) throw error;
        readStoreError = error.message;
        return null;
      });
    const [info, job, generation] = await Promise.all([
      this.groups.groupInfo(runtime.group),
      projection ? fromReadStore(() => this.jobs.active(runtime.name)) : Promise.resolve(null),
      projection ? fromReadStore(() => this.generations.liveGeneration(runtime.name)) : Promise.resolve(null),
    ]);
    const after = info.checkpoint ?? -1n;
    const [oldest] =
      head > after ? await this.events.readAll({ after, eventTypes: runtime.eventTypes, limit: 1 }) : [];
    const lagEvents =
      oldest && lagCap > 0
        ? await this.events.countAll({ after, eventTypes: runtime.eventTypes, limit: lagCap })
        : oldest
          ? 1
          : 0;
    const lagMs = oldest ? Math.max(0, now - oldest.created.getTime()) : 0;
    const stallMs = this.config.readSide.stallMs;
    // A batch that keeps reading and writing is progressing, however long it takes (a slow read store).
    const lastProgress = Math.max(
      runtime.lastProgressAt?.getTime() ?? 0,
      runtime.subscribedAt?.getTime() ?? 0,
    );
    const ownedElsewhere = info.owner !== null && info.owner !== this.config.instanceId;
    const stalled =
      !runtime.paused && !runtime.held && !ownedElsewhere && lagMs > stallMs && now - lastProgress > stallMs;
    const status: ProjectionHealthStatus = runtime.faulted
      ? 'faulted'
      : stalled
        ? 'stalled'
        : job?.kind === 'rebuild'
          ? 'rebuilding'
          : runtime.paused
            ? 'paused'
            : 'running';
    const collections =
      projection && generation !== null
        ? [projection.documents.name, ...(projection.entries ? [projection.entries.name] : [])].map(
            (logical) => physicalCollection(logical, generation),
          )
        : [];
    const consistency = projection ? this.consistencyOf(runtime.name) : null;
    return {
      name: runtime.name,
      kind: runtime.kind,
      group: runtime.group,
      status,
      healthy: !runtime.faulted && !stalled,
      degraded: consistency !== null && consistency.driftedCount > 0,
      paused: runtime.paused,
      owner: info.owner,
      liveGeneration: generation,
      collections,
      position: info.checkpoint === null ? null : Number(info.checkpoint),
      headPosition: Number(head),
      lagEvents,
      lagEventsCapped: lagCap > 0 && lagEvents >= lagCap,
      lagMs,
      freshness: projection ? (this.freshness?.summary(runtime.name) ?? null) : null,
      eventsPerSecond: Math.round(runtime.eventsPerSecond * 10) / 10,
      eventsApplied: runtime.eventsApplied,
      parked: info.parkedCount,
      lastHeartbeat: runtime.lastHeartbeatAt?.toISOString() ?? null,
      lastBatchAt: runtime.lastBatchAt?.toISOString() ?? null,
      lastError: runtime.lastError ?? readStoreError,
      consistency,
      job: job
        ? {
            id: job.id,
            kind: job.kind,
            phase: job.phase,
            eventsDone: job.eventsDone,
            eventsTotal: job.eventsTotal,
          }
        : null,
    };
  }

  private consistencyOf(name: string): ConsistencyView | null {
    const state = this.sampler?.state(name);
    if (!state) return null;
    return {
      sampling: state.sampling,
      samplesPerSecond: this.sampler!.settings.samplesPerSecond,
      samples: state.samples,
      driftFound: state.driftFound,
      driftedCount: state.driftedCount,
      drifted: state.drifted.slice(0, DRIFTED_LISTED).map((d) => ({
        collection: d.collection,
        id: d.id,
        streamId: d.streamId,
        kind: d.kind,
        liveRevision: d.liveRevision,
        expectedRevision: d.expectedRevision,
        fields: d.fields,
        foundAt: d.foundAt.toISOString(),
      })),
      passes: state.passes,
      lastSampleAt: state.lastSampleAt?.toISOString() ?? null,
      lastError: state.lastError,
    };
  }
}
