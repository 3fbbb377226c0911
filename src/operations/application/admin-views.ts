import type { ParkedEvent } from '../../event-store/event-store.port.js';
import type { JobRecord, VerifyResult } from '../../read-side/runtime/jobs/job.js';

/** A rebuild or verify job as the admin API answers it (`GET /admin/jobs/:id`). */
export interface JobView {
  readonly id: string;
  readonly kind: JobRecord['kind'];
  readonly projection: string;
  readonly state: JobRecord['state'];
  readonly phase: JobRecord['phase'];
  /** The generation built: the new one (rebuild) or the shadow (verify). */
  readonly generation: number;
  /** The live generation when the job started. */
  readonly fromGeneration: number;
  /** Rebuild: the generation the switch replaced (null before the switch). */
  readonly replacedGeneration: number | null;
  readonly eventsDone: number;
  /** Matching events to apply; grows while new events arrive, equals eventsDone once caught up. */
  readonly eventsTotal: number;
  /** eventsDone / eventsTotal, 0..1 (1 once succeeded). */
  readonly progress: number;
  /** Events per second of the catch-up (recent). */
  readonly rate: number;
  /** Seconds left at the current rate (null: unknown). */
  readonly etaSeconds: number | null;
  /** Global position applied up to (null: none yet). */
  readonly position: number | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly switchedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly cancelRequested: boolean;
  readonly requestedBy: string;
  readonly repair: boolean;
  /** Instance running it (null: none right now; the next start or another instance takes it over). */
  readonly owner: string | null;
  readonly heartbeatAt: string;
  /** Streams the job could not fold (poison events; they stop before it, like the live projection). */
  readonly skipped: JobRecord['skipped'];
  readonly skippedCount: number;
  /** Verify: what the comparison found (null until it has run). */
  readonly result: VerifyResult | null;
  readonly links: { readonly self: string };
}

export function jobLocation(id: string): string {
  return `/admin/jobs/${id}`;
}

export function jobView(job: JobRecord): JobView {
  const progress =
    job.state === 'succeeded'
      ? 1
      : job.eventsTotal > 0
        ? Math.min(1, Math.round((job.eventsDone / job.eventsTotal) * 10_000) / 10_000)
        : 0;
  const position = BigInt(job.position);
  return {
    id: job.id,
    kind: job.kind,
    projection: job.projection,
    state: job.state,
    phase: job.phase,
    generation: job.generation,
    fromGeneration: job.fromGeneration,
    replacedGeneration: job.replacedGeneration,
    eventsDone: job.eventsDone,
    eventsTotal: job.eventsTotal,
    progress,
    rate: job.rate,
    etaSeconds: job.etaSeconds,
    position: position < 0n ? null : Number(position),
    startedAt: job.startedAt,
    updatedAt: job.updatedAt,
    switchedAt: job.switchedAt,
    finishedAt: job.finishedAt,
    error: job.error,
    cancelRequested: job.cancelRequested,
    requestedBy: job.requestedBy,
    repair: job.repair,
    owner: job.owner,
    heartbeatAt: job.heartbeatAt,
    skipped: job.skipped,
    skippedCount: job.skippedCount,
    result: job.result,
    links: { self: jobLocation(job.id) },
  };
}

/** A parked event with why it was parked (`GET /admin/projections/:name/parked`). */
export interface ParkedEventView {
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly type: string;
  /** When the event was appended (ISO). */
  readonly created: string;
  readonly reason: string;
  /** Deliveries it had before it was parked. */
  readonly retryCount: number;
  readonly parkedAt: string;
  readonly data: ParkedEvent['event']['data'];
  readonly metadata: ParkedEvent['event']['metadata'];
}

export function parkedView({ event, reason, retryCount, parkedAt }: ParkedEvent): ParkedEventView {
  return {
    position: Number(event.position),
    eventId: event.id,
    streamId: event.streamId,
    revision: Number(event.revision),
    type: event.type,
    created: event.created.toISOString(),
    reason,
    retryCount,
    parkedAt: parkedAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
  };
}
