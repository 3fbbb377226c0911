/** What health and metrics need to know about one projection. Unknown values are null. */
export interface ProjectionObservation {
  readonly name: string;
  /** running, paused, rebuilding, faulted, stalled (or unknown). A fixed set: it becomes a label value. */
  readonly status: string;
  /** False when the projection cannot make progress (stalled loop: no heartbeat while work waits; faulted). */
  readonly healthy: boolean;
  /** Matching events not yet applied. */
  readonly lagEvents: number | null;
  /** Age of the oldest event not yet applied (0 when caught up). */
  readonly lagSeconds: number | null;
  /** Events applied by this process since it started (monotonic). */
  readonly eventsApplied: number | null;
  /** Events parked for an operator. */
  readonly parked: number | null;
  /** The running rebuild, if any: events done and the total to do (null: not known yet). */
  readonly rebuild: { readonly done: number; readonly total: number | null } | null;
  /**
   * Continuous consistency monitoring (projections only; absent or null for process managers, or when it is
   * not known): degraded while documents known to differ from their streams remain, the documents compared
   * and the drifted ones found by this instance since it started (monotonic).
   */
  readonly consistency?: {
    readonly degraded: boolean;
    readonly samples: number;
    readonly driftFound: number;
  } | null;
}

/**
 * Port: the state of every projection, for `/health/ready` and `/metrics`. Called when a probe or a scrape
 * asks, never on a command's path. Bound to the projection admin's ProjectionStatusService by the
 * operations module.
 */
export abstract class ProjectionObserver {
  abstract observe(): Promise<readonly ProjectionObservation[]>;
}

/** Counting a backlog for health and metrics stops here (a scrape must stay cheap): "at least this". */
export const LAG_COUNT_CAP = 1000;
