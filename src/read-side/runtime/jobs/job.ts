import type { JsonObject } from '../../../event-store/event-store.port.js';

/** `rebuild`: a new generation replaces the live one. `verify`: a shadow generation is compared with it. */
export type JobKind = 'rebuild' | 'verify';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';
/**
 * Where a job is (persisted, so a restarted job resumes there):
 * - `building`: a filtered catch-up read from position 0 fills the new (or shadow) generation;
 * - `switching`: the live subscription is held, a final catch-up runs, the live pointer moves (rebuild);
 * - `draining`: the new generation is live; at `dropAt` (the grace delay after the switch) one more catch-up,
 *   then the old one is dropped;
 * - `comparing`: the shadow is diffed with the live generation (verify), repairing when asked;
 * - `done`: finished (whatever the state).
 */
export type JobPhase = 'building' | 'switching' | 'draining' | 'comparing' | 'done';

export const JOB_KINDS: readonly JobKind[] = ['rebuild', 'verify'];
export const JOB_STATES: readonly JobState[] = ['running', 'succeeded', 'failed', 'cancelled'];

/** A stream a job could not fold (a poison event): its document stops right before it, as the live one does. */
export interface SkippedStream {
  readonly streamId: string;
  readonly reason: string;
}

/** One field that differs between a live document and what a clean fold gives. */
export interface FieldDrift {
  /** `status`, `lines[0].quantity`, `["odd key"]`. */
  readonly path: string;
  /** The live value (null when only the expected document has the field: see `presence`). */
  readonly live: JsonObject[string];
  readonly expected: JsonObject[string];
  /** Set when the field exists on one side only. */
  readonly presence?: 'live-only' | 'expected-only';
}

/** A document (or entry) of the live generation that is not what a clean fold of its stream gives. */
export interface DriftedDocument {
  /** Logical collection name (`orders`, `order_timeline`). */
  readonly collection: string;
  readonly id: string;
  /**
   * `changed`: it exists but differs (see `fields`; a wrong revision or position shows as a field too);
   * `missing`: the projection has passed its events but it does not exist; `extra`: no event accounts for it.
   */
  readonly kind: 'changed' | 'missing' | 'extra';
  readonly liveRevision: number | null;
  readonly expectedRevision: number | null;
  readonly fields: readonly FieldDrift[];
  /** Written over with the expected document (repair). Extra documents are reported, never deleted. */
  readonly repaired: boolean;
}

export interface VerifyResult {
  readonly liveGeneration: number;
  readonly shadowGeneration: number;
  /** Documents and entries compared. */
  readonly compared: number;
  /** Drifted documents found (all of them, even past the `drift` list's cap). */
  readonly drifted: number;
  readonly repaired: number;
  /**
   * Documents that could not be judged because the live projection had not reached them yet when the
   * comparison ended (a paused or lagging projection, a parked event): not drift, not verified either.
   */
  readonly pending: number;
  /** The drifted documents, at most DRIFT_REPORT_CAP of them. */
  readonly drift: readonly DriftedDocument[];
  readonly truncated: boolean;
}

/**
 * A job as persisted in the read store's meta (`job:<id>`): plain JSON, positions as decimal strings
 * (bigint). Every write of it is a compare-and-set on the whole value, so an owner that lost it (a cancel
 * request, a take-over after its lease expired) finds out at once.
 */
export interface JobRecord {
  readonly id: string;
  readonly kind: JobKind;
  readonly projection: string;
  readonly state: JobState;
  readonly phase: JobPhase;
  /** The generation being built: the new one (rebuild) or the shadow (verify). */
  readonly generation: number;
  /** The live generation when the job started. */
  readonly fromGeneration: number;
  /** The generation the switch replaced (dropped after the grace delay); null before the switch. */
  readonly replacedGeneration: number | null;
  /** Whether leftovers of `generation` were dropped and its collections created (a resume skips that). */
  readonly prepared: boolean;
  /** Every matching event at or below this position is applied to `generation` ("-1": none yet). */
  readonly position: string;
  readonly eventsDone: number;
  readonly eventsTotal: number;
  /** Recent events/s of the catch-up (0 when idle). */
  readonly rate: number;
  readonly etaSeconds: number | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly switchedAt: string | null;
  /**
   * When the replaced generation is dropped (switchedAt + REBUILD_DROP_GRACE_MS): the end of `draining`, a
   * countdown rather than an estimate. Null before the switch (and in records of versions without it).
   */
  readonly dropAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly cancelRequested: boolean;
  readonly requestedBy: string;
  /** verify: write the expected documents over the drifted ones. */
  readonly repair: boolean;
  /** Instance running it, and when it last said so (its lease). Null owner: free to take over at once. */
  readonly owner: string | null;
  readonly heartbeatAt: string;
  readonly skipped: readonly SkippedStream[];
  readonly skippedCount: number;
  readonly result: VerifyResult | null;
}

/** The JSON form that is stored (and compared by compare-and-set): no undefined, no non-finite numbers. */
export function toStored(record: JobRecord): JsonObject {
  return JSON.parse(
    JSON.stringify(record, (_key, value: unknown) =>
      typeof value === 'number' && !Number.isFinite(value) ? null : value,
    ),
  ) as JsonObject;
}

export function fromStored(value: JsonObject): JobRecord {
  return value as unknown as JobRecord;
}

export const isTerminal = (state: JobState): boolean => state !== 'running';
