import type { ParkedEvent } from '../../event-store/consumer-groups.port.js';
import type { JobRecord } from '../../read-side/runtime/jobs/job.js';

/**
 * A rebuild or verify job as the admin API answers it (`GET /admin/jobs/:id`): the record (see JobRecord)
 * without its internal `prepared` flag, the position as a number, and what is derived from it.
 */
export type JobView = Omit<JobRecord, 'prepared' | 'position'> & {
  /** eventsDone / eventsTotal, 0..1 (1 once succeeded). */
  readonly progress: number;
  /** Global position applied up to (null: none yet). */
  readonly position: number | null;
  readonly links: { readonly self: string };
};

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
  const { prepared: _internal, position, ...record } = job;
  const applied = BigInt(position);
  return {
    ...record,
    // Records saved before dropAt existed have none.
    dropAt: record.dropAt ?? null,
    progress,
    position: applied < 0n ? null : Number(applied),
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
