import { Logger } from '@nestjs/common';
import type { EventStore } from '../../event-store/event-store.port.js';
import { recurringFailuresOf } from '../../shared/infrastructure/failure-log.js';
import type { ReadDocument, ReadStore } from '../read-store.port.js';
import { DocumentJudge, fieldDrift, type FoundJudgement } from './document-judge.js';
import type { JobStore } from './jobs/job-store.js';
import { physicalCollection, type LiveGenerations } from './live-generations.js';
import type { AnyProjection } from './projection.js';

/** Documents read per page of the walk (one keyset read serves this many samples). */
export const SAMPLE_PAGE = 50;
/** A document whose stream is longer than this is not sampled (its fold would read that many events). */
export const MAX_SAMPLED_REVISION = 10_000n;
/** Drifted documents remembered per projection (re-checked until they are right again); more are counted. */
export const DRIFT_REMEMBERED = 100;
/** Changed fields named per drifted document (paths only: values may be personal data). */
const FIELDS_NAMED = 10;
/** How long "is a job running on this projection?" is trusted before it is asked again. */
const JOB_CHECK_MS = 1000;

export interface ConsistencySettings {
  /** Documents each projection compares with its stream per second (CONSISTENCY_SAMPLES_PER_SECOND); 0: off. */
  readonly samplesPerSecond: number;
}

/** A document found to differ from the fold of its stream, remembered until a re-check finds it right. */
export interface DriftSighting {
  /** Logical collection (`orders`, `order_timeline_entries`). */
  readonly collection: string;
  readonly id: string;
  /** The stream it was judged against (null: an entry no event of this projection accounts for). */
  readonly streamId: string | null;
  readonly kind: 'changed' | 'extra';
  readonly liveRevision: number;
  readonly expectedRevision: number | null;
  /** Paths that differ (`data.total`, `meta.revision`), at most ten. */
  readonly fields: readonly string[];
  readonly foundAt: Date;
}

/**
 * What the sampler knows about one projection, in this instance: `off` (CONSISTENCY_SAMPLES_PER_SECOND=0),
 * `suspended` (a rebuild or verify job runs on it: the job checks everything, and a rebuild switches
 * generations under the walk) or `sampling`.
 */
export interface ConsistencyState {
  readonly sampling: 'off' | 'suspended' | 'sampling';
  /** Documents known to have drifted right now (re-checked until right again): the projection is degraded. */
  readonly degraded: boolean;
  /** Documents (and entries) compared with their streams since this instance started. */
  readonly samples: number;
  /** Drifted documents found since this instance started (each counted once until it is right again). */
  readonly driftFound: number;
  /** Documents known to have drifted now (may exceed `drifted.length`, which lists at most 100). */
  readonly driftedCount: number;
  readonly drifted: readonly DriftSighting[];
  /** Complete passes over the live generation. */
  readonly passes: number;
  readonly lastSampleAt: Date | null;
  /** Why the last sample could not be taken (a store down), null once one succeeds again. */
  readonly lastError: string | null;
}

interface Walk {
  readonly collection: string;
  after: string | undefined;
  page: ReadDocument[];
}

interface ProjectionSampling {
  readonly projection: AnyProjection;
  readonly judge: DocumentJudge;
  generation: number | null;
  walks: Walk[];
  /** Whose turn it is among `walks` (documents, then entries, alternately). */
  turn: number;
  readonly drifted: Map<string, DriftSighting>;
  /** Drifted documents beyond DRIFT_REMEMBERED (counted, not listed). */
  overflow: number;
  recheck: number;
  samples: number;
  driftFound: number;
  passes: number;
  lastSampleAt: Date | null;
  lastError: string | null;
  job: { active: boolean; checkedAt: number };
}

const key = (collection: string, id: string): string => `${collection}\n${id}`;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Continuous consistency monitoring: in the background, each projection's live generation is walked a few
 * documents a second (keyset pages of SAMPLE_PAGE, round and round, from a random start) and each document
 * (and entry) is compared with a fold of its stream from the event store — the very judgement `verify` makes
 * (DocumentJudge): a document is judged at the revision it records, so one that is merely behind (lag) is
 * never drift, whatever the delivery did. A mismatch is read again and judged again (the live projection may
 * have moved it meanwhile); if it still differs, it is drift: counted, logged once (one JSON line with the
 * document id, its stream and the paths that differ) and remembered. While any remembered document still
 * differs, the projection is `degraded`; each tick re-checks one of them, so a repair (`verify --repair`), a
 * rebuild or the projection's own next write clears it.
 *
 * Cheap by construction: one document judged per projection per tick (plus one re-check while degraded),
 * ticks never overlap (a slow store slows the sampling down, it never piles it up), nothing runs on a
 * request's path, and a projection with a rebuild or verify job running is not sampled. Instance-local: every
 * instance samples on its own and says what it found.
 */
export class ConsistencySampler {
  private readonly logger = new Logger('Consistency');
  private readonly states = new Map<string, ProjectionSampling>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private started = false;

  constructor(
    projections: readonly AnyProjection[],
    events: EventStore,
    private readonly store: ReadStore,
    private readonly generations: LiveGenerations,
    private readonly jobs: JobStore,
    readonly settings: ConsistencySettings,
  ) {
    for (const projection of projections) {
      this.states.set(projection.name, {
        projection,
        judge: new DocumentJudge(events, projection),
        generation: null,
        walks: [],
        turn: 0,
        drifted: new Map(),
        overflow: 0,
        recheck: 0,
        samples: 0,
        driftFound: 0,
        passes: 0,
        lastSampleAt: null,
        lastError: null,
        job: { active: false, checkedAt: 0 },
      });
    }
  }

  get enabled(): boolean {
    return this.settings.samplesPerSecond > 0;
  }

  start(): void {
    if (!this.enabled || this.started) return;
    this.started = true;
    this.schedule();
  }

  /** Stops sampling; resolves once the tick in flight (if any) is done. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The state of one projection (null: not a projection). */
  state(name: string): ConsistencyState | null {
    const s = this.states.get(name);
    if (!s) return null;
    return {
      sampling: !this.enabled ? 'off' : s.job.active ? 'suspended' : 'sampling',
      degraded: s.drifted.size > 0,
      samples: s.samples,
      driftFound: s.driftFound,
      driftedCount: s.drifted.size + s.overflow,
      drifted: [...s.drifted.values()],
      passes: s.passes,
      lastSampleAt: s.lastSampleAt,
      lastError: s.lastError,
    };
  }

  /** One round: a sample (and a re-check while degraded) per projection. Public for tests. */
  async tick(): Promise<void> {
    for (const s of this.states.values()) {
      try {
        if (await this.jobRunning(s)) continue;
        await this.follow(s);
        if (s.drifted.size > 0) await this.recheckOne(s);
        await this.sampleOne(s);
        s.lastError = null;
      } catch (error) {
        s.lastError = errorText(error);
        recurringFailuresOf(this.logger).occurred(
          'CONSISTENCY_SAMPLING_FAILED',
          `${s.projection.name}: ${s.lastError}`,
          { projection: s.projection.name },
          'warn',
        );
      }
    }
  }

  /** The next tick a period after this one started, or at once if it took longer: ticks never overlap. */
  private schedule(delayMs = 1000 / this.settings.samplesPerSecond): void {
    if (!this.started) return;
    const periodMs = 1000 / this.settings.samplesPerSecond;
    this.timer = setTimeout(() => {
      const startedAt = Date.now();
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule(Math.max(0, periodMs - (Date.now() - startedAt)));
      });
    }, delayMs);
    this.timer.unref();
  }

  private async jobRunning(s: ProjectionSampling): Promise<boolean> {
    const now = Date.now();
    if (now - s.job.checkedAt >= JOB_CHECK_MS) {
      s.job = { active: (await this.jobs.active(s.projection.name)) !== null, checkedAt: now };
    }
    return s.job.active;
  }

  /** Follows the live generation: a switch (a rebuild, here or elsewhere) restarts the walk on the new one. */
  private async follow(s: ProjectionSampling): Promise<void> {
    const generation = await this.generations.liveGeneration(s.projection.name);
    if (generation === s.generation) return;
    s.generation = generation;
    // A random start, so that a restarted instance does not re-check the same documents first.
    const start = Math.random().toString(16).slice(2, 10);
    const specs = [s.projection.documents, ...(s.projection.entries ? [s.projection.entries] : [])];
    s.walks = specs.map((spec) => ({ collection: spec.name, after: start, page: [] }));
    s.turn = 0;
  }

  private async sampleOne(s: ProjectionSampling): Promise<void> {
    const walk = s.walks[s.turn % s.walks.length]!;
    s.turn += 1;
    const doc = await this.next(s, walk);
    if (!doc) return;
    await this.judgeAndRecord(s, walk.collection, doc, true);
  }

  /** The next document of the walk (a new page when the last one is used up; round again at the end). */
  private async next(s: ProjectionSampling, walk: Walk): Promise<ReadDocument | null> {
    for (let attempt = 0; attempt < 2 && walk.page.length === 0; attempt++) {
      const physical = physicalCollection(walk.collection, s.generation!);
      walk.page = await this.store.scan(physical, {
        limit: SAMPLE_PAGE,
        ...(walk.after !== undefined && { after: walk.after }),
      });
      if (walk.page.length > 0) walk.after = walk.page[walk.page.length - 1]!.id;
      else {
        // The end of the collection (an empty one ends at once): a pass, and round again from the start.
        if (attempt === 0 && !this.isEntries(s, walk.collection)) {
          s.passes += 1;
          // Documents not remembered (past DRIFT_REMEMBERED) are found again by the next pass.
          s.overflow = 0;
        }
        walk.after = undefined;
      }
    }
    return walk.page.shift() ?? null;
  }

  private isEntries(s: ProjectionSampling, collection: string): boolean {
    return collection !== s.projection.documents.name;
  }

  private async judge(s: ProjectionSampling, collection: string, doc: ReadDocument): Promise<FoundJudgement> {
    return this.isEntries(s, collection) ? s.judge.judgeEntry(doc) : s.judge.judgeDocument(doc);
  }

  /**
   * Judges one document; a mismatch is read afresh and judged again before it counts (the page it came from
   * may be a few seconds old, and the live projection writes on). `fromPage`: `doc` was not read just now.
   */
  private async judgeAndRecord(
    s: ProjectionSampling,
    collection: string,
    doc: ReadDocument,
    fromPage: boolean,
  ): Promise<void> {
    if (doc.revision > MAX_SAMPLED_REVISION) return;
    let judgement = await this.judge(s, collection, doc);
    if (judgement.verdict === 'drift' && fromPage) {
      const current = await this.store.get(physicalCollection(collection, s.generation!), doc.id);
      if (!current) return;
      judgement = await this.judge(s, collection, current);
    }
    s.samples += 1;
    s.lastSampleAt = new Date();
    const k = key(collection, doc.id);
    if (judgement.verdict === 'ok') {
      if (s.drifted.delete(k)) {
        this.logger.log(
          { projection: s.projection.name, collection, documentId: doc.id },
          'consistency drift cleared: the document equals the fold of its stream again',
        );
      }
      return;
    }
    const { live, expected, kind, streamId } = judgement;
    const sighting: DriftSighting = {
      collection,
      id: doc.id,
      streamId,
      kind,
      liveRevision: Number(live.revision),
      expectedRevision: expected ? Number(expected.revision) : null,
      fields: expected ? fieldDrift(live, expected, FIELDS_NAMED).map((f) => f.path) : [],
      foundAt: s.drifted.get(k)?.foundAt ?? new Date(),
    };
    if (s.drifted.has(k)) {
      s.drifted.set(k, sighting);
      return;
    }
    s.driftFound += 1;
    if (s.drifted.size < DRIFT_REMEMBERED) s.drifted.set(k, sighting);
    else s.overflow += 1;
    this.logger.warn(
      {
        projection: s.projection.name,
        collection,
        documentId: doc.id,
        streamId,
        kind,
        liveRevision: sighting.liveRevision,
        expectedRevision: sighting.expectedRevision,
        fields: sighting.fields,
      },
      'consistency drift: a read document differs from the fold of its stream',
    );
  }

  /** Re-checks one remembered drifted document (round robin) in the live generation. */
  private async recheckOne(s: ProjectionSampling): Promise<void> {
    const sightings = [...s.drifted.values()];
    const sighting = sightings[s.recheck % sightings.length]!;
    s.recheck += 1;
    const current = await this.store.get(physicalCollection(sighting.collection, s.generation!), sighting.id);
    if (!current) {
      // Gone from the live generation (a rebuild that no event gave it to): nothing left to be wrong.
      s.drifted.delete(key(sighting.collection, sighting.id));
      return;
    }
    await this.judgeAndRecord(s, sighting.collection, current, false);
  }
}
