import { idInCategory, streamName } from '../../../shared/domain/index.js';
import type { ConsumerGroups } from '../../../event-store/consumer-groups.port.js';
import {
  InvalidPositionError,
  type EventStore,
  type JsonObject,
  type RecordedEvent,
} from '../../../event-store/event-store.port.js';
import { sameJson } from '../../same-json.js';
import type { DocumentWrite, ReadDocument, ReadStore } from '../../read-store.port.js';
import type { AnyProjection } from '../projection.js';
import { applyEvent } from '../projection-runner.js';
import { diffFields } from './document-diff.js';
import type { DriftedDocument, FieldDrift, VerifyResult } from './job.js';

/** Drifted documents listed in a verify result (all are counted). */
export const DRIFT_REPORT_CAP = 1000;
/** Documents per page when walking a collection. */
const SCAN_PAGE = 500;
/** Rounds of "catch the shadow up, compare the suspects again" before judging each one exactly. */
const SETTLE_ROUNDS = 2;
/** Attempts of a conditional repair that the live projection keeps winning. */
const REPAIR_ATTEMPTS = 3;

/** Physical collections of one side of the comparison. */
export interface Side {
  readonly documents: string;
  readonly entries?: string;
}

export interface VerifyDeps {
  readonly events: EventStore;
  readonly groups: ConsumerGroups;
  readonly store: ReadStore;
  readonly projection: AnyProjection;
  /** The live projection's consumer group (its checkpoint and parked events tell lag from drift). */
  readonly group: string;
  readonly live: Side;
  readonly shadow: Side;
  readonly liveGeneration: number;
  readonly shadowGeneration: number;
  /** Brings the shadow up to the event store's head (the live projection keeps applying meanwhile). */
  catchUpShadow(): Promise<void>;
  /** Called between pages (cancel, shutdown, lease). */
  tick(): Promise<void>;
}

/** What a document (or entry) should be, from a clean fold of its stream. */
interface Expected {
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: JsonObject;
}

type Judgement =
  | { readonly verdict: 'ok' }
  | { readonly verdict: 'pending' }
  | {
      readonly verdict: 'drift';
      readonly kind: DriftedDocument['kind'];
      readonly live: ReadDocument | null;
      readonly expected: Expected | null;
    };

const sameDocument = (a: ReadDocument | undefined, b: ReadDocument | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.revision === b.revision &&
  a.position === b.position &&
  sameJson(a.data, b.data);

/**
 * Compares the live generation of a projection with a shadow generation rebuilt from the events, while the
 * live projection keeps applying. Lag is never reported as drift:
 * 1. both generations are walked by id; equal documents (same revision, position and data) are fine, every
 *    other id is a suspect (it may just be ahead or behind);
 * 2. the shadow is caught up to the head and the suspects are compared again (twice): most lag disappears;
 * 3. each remaining suspect is judged exactly: its stream is folded up to the revision the *live* document
 *    records, so a live document is compared with what it should be at its own revision, however far the
 *    live projection is. A document the live projection has not reached yet (its group checkpoint is before
 *    it, or its stream has a parked event) is `pending`, not drift. A document no event accounts for is
 *    `extra`.
 * With `repair`, the expected document is written over each changed or missing one, conditionally on the
 * revision judged (a lost race with the live projection is judged again). Extra documents are reported, not
 * deleted (the read store port has no delete).
 */
export class Verifier {
  private compared = 0;
  private drifted = 0;
  private repaired = 0;
  private pending = 0;
  private readonly drift: DriftedDocument[] = [];
  private settledUpTo: bigint | null = null;
  private parked: Set<string> | null = null;

  constructor(
    private readonly deps: VerifyDeps,
    private readonly repair: boolean,
  ) {}

  async run(): Promise<VerifyResult> {
    const { live, shadow, projection } = this.deps;
    await this.compareCollection(projection.documents.name, live.documents, shadow.documents, (id) =>
      this.judgeDocument(id),
    );
    if (projection.entries && live.entries && shadow.entries) {
      await this.compareCollection(projection.entries.name, live.entries, shadow.entries, (id) =>
        this.judgeEntry(id),
      );
    }
    return {
      liveGeneration: this.deps.liveGeneration,
      shadowGeneration: this.deps.shadowGeneration,
      compared: this.compared,
      drifted: this.drifted,
      repaired: this.repaired,
      pending: this.pending,
      drift: this.drift,
      truncated: this.drifted > this.drift.length,
    };
  }

  private async compareCollection(
    logical: string,
    live: string,
    shadow: string,
    judge: (id: string) => Promise<Judgement>,
  ): Promise<void> {
    const { store } = this.deps;
    let suspects = new Set<string>();
    // The shadow's documents against the live ones, then the live ones the shadow does not have.
    for (const [walked, other, countIt] of [
      [shadow, live, true],
      [live, shadow, false],
    ] as const) {
      let after: string | undefined;
      for (;;) {
        const page = await store.scan(walked, { limit: SCAN_PAGE, ...(after !== undefined && { after }) });
        if (page.length === 0) break;
        const counterparts = await store.getMany(
          other,
          page.map((d) => d.id),
        );
        for (const doc of page) {
          if (countIt) this.compared += 1;
          const counterpart = counterparts.get(doc.id);
          if (countIt ? !sameDocument(doc, counterpart) : counterpart === undefined) suspects.add(doc.id);
        }
        after = page[page.length - 1]!.id;
        await this.deps.tick();
        if (page.length < SCAN_PAGE) break;
      }
    }
    for (let round = 0; round < SETTLE_ROUNDS && suspects.size > 0; round++) {
      await this.deps.catchUpShadow();
      const still = new Set<string>();
      const ids = [...suspects];
      for (let i = 0; i < ids.length; i += SCAN_PAGE) {
        const chunk = ids.slice(i, i + SCAN_PAGE);
        const [a, b] = await Promise.all([store.getMany(live, chunk), store.getMany(shadow, chunk)]);
        for (const id of chunk) {
          const [l, s] = [a.get(id), b.get(id)];
          if (l === undefined && s === undefined) continue;
          if (!sameDocument(l, s)) still.add(id);
        }
      }
      suspects = still;
    }
    for (const id of suspects) {
      await this.deps.tick();
      await this.settle(logical, live, id, judge);
    }
  }

  /** Judges one suspect; repairs it when asked (re-judging after a lost race with the live projection). */
  private async settle(
    logical: string,
    live: string,
    id: string,
    judge: (id: string) => Promise<Judgement>,
  ): Promise<void> {
    let judgement = await judge(id);
    let repaired = false;
    for (let attempt = 0; this.repair && attempt < REPAIR_ATTEMPTS; attempt++) {
      if (judgement.verdict !== 'drift' || judgement.kind === 'extra' || !judgement.expected) break;
      const { expected } = judgement;
      const write: DocumentWrite = {
        id,
        expectedRevision: judgement.live ? judgement.live.revision : null,
        revision: expected.revision,
        position: expected.position,
        data: expected.data,
      };
      const { conflicts } = await this.deps.store.write(live, [write]);
      if (conflicts.length === 0) {
        repaired = true;
        break;
      }
      const again = await judge(id);
      if (again.verdict !== 'drift') {
        // The live projection got there first and the document is right now (or pending): keep the report.
        break;
      }
      judgement = again;
    }
    if (judgement.verdict === 'ok') return;
    if (judgement.verdict === 'pending') {
      this.pending += 1;
      return;
    }
    this.drifted += 1;
    if (repaired) this.repaired += 1;
    if (this.drift.length >= DRIFT_REPORT_CAP) return;
    const { live: found, expected, kind } = judgement;
    this.drift.push({
      collection: logical,
      id,
      kind,
      liveRevision: found ? Number(found.revision) : null,
      expectedRevision: expected ? Number(expected.revision) : null,
      fields: kind === 'changed' && found && expected ? fieldDrift(found, expected) : [],
      repaired,
    });
  }

  /** A per-stream document: compared with its stream folded up to the revision the live one records. */
  private async judgeDocument(id: string): Promise<Judgement> {
    const { store, projection, live, shadow } = this.deps;
    const streamId = streamName(projection.category, id);
    const found = await store.get(live.documents, id);
    if (found) {
      const folded = await this.fold(streamId, found.revision);
      if (!folded) return { verdict: 'drift', kind: 'extra', live: found, expected: null };
      const expected = folded.document;
      if (sameDocument(found, { ...expected, id, projectedAt: found.projectedAt })) return { verdict: 'ok' };
      return { verdict: 'drift', kind: 'changed', live: found, expected };
    }
    const reference = await store.get(shadow.documents, id);
    if (!reference) return { verdict: 'ok' }; // gone from both sides: nothing to judge
    if (!(await this.liveHasPassed(streamId, reference.position))) return { verdict: 'pending' };
    return { verdict: 'drift', kind: 'missing', live: null, expected: reference };
  }

  /** An entry (keyed by event id): compared with the entries its event gives in a clean fold of its stream. */
  private async judgeEntry(id: string): Promise<Judgement> {
    const { store, projection, live, shadow, events } = this.deps;
    const [found, reference] = await Promise.all([
      store.get(live.entries!, id),
      store.get(shadow.entries!, id),
    ]);
    const known = reference ?? found;
    if (!known) return { verdict: 'ok' };
    // The event at the entry's position (positions are the store's: never computed, see event-store.port.ts).
    const event = await events.eventAt(known.position).catch((error: unknown) => {
      if (error instanceof InvalidPositionError) return null;
      throw error;
    });
    const source =
      event &&
      (id === event.id || id.startsWith(`${event.id}:`)) &&
      idInCategory(projection.category, event.streamId) !== null
        ? event
        : null;
    const folded = source ? await this.fold(source.streamId, source.revision) : null;
    // A fold that stopped before the event (a poison) has no entry for it.
    const expected =
      source && folded?.document.revision === source.revision ? folded.entries.get(id) : undefined;
    if (!source || !expected) {
      return found ? { verdict: 'drift', kind: 'extra', live: found, expected: null } : { verdict: 'ok' };
    }
    if (found) {
      if (sameDocument(found, { ...expected, id, projectedAt: found.projectedAt })) return { verdict: 'ok' };
      return { verdict: 'drift', kind: 'changed', live: found, expected };
    }
    // Entries are written before their document: a live document at or past the event means the entry is due.
    const streamDoc = await store.get(live.documents, idInCategory(projection.category, source.streamId)!);
    if (!streamDoc || streamDoc.revision < source.revision) return { verdict: 'pending' };
    return { verdict: 'drift', kind: 'missing', live: null, expected };
  }

  /**
   * The stream folded from its first event up to `revision` (or its last event, if it has fewer): the
   * document and the entries of the last event folded. Null when the stream has no event at all. A poison
   * event stops the fold right before it (as the live projection stops).
   */
  private async fold(
    streamId: string,
    revision: bigint,
  ): Promise<{ document: Expected; entries: Map<string, Expected> } | null> {
    const run: RecordedEvent[] = await this.deps.events.readStream(streamId, {
      from: 0n,
      limit: Number(revision + 1n),
    });
    let data: object | null = null;
    let last: RecordedEvent | null = null;
    let entries: DocumentWrite[] = [];
    for (const recorded of run) {
      try {
        const step = applyEvent(this.deps.projection, data, recorded);
        data = step.data;
        entries = step.entries;
        last = recorded;
      } catch {
        break;
      }
    }
    if (!last || data === null) return null;
    const at = { revision: last.revision, position: last.position };
    return {
      document: { ...at, data: data as JsonObject },
      entries: new Map(
        entries.map((e) => [e.id, { revision: e.revision, position: e.position, data: e.data }]),
      ),
    };
  }

  /** Whether the live group has settled every event of the stream up to `position` (none parked). */
  private async liveHasPassed(streamId: string, position: bigint): Promise<boolean> {
    if (this.settledUpTo === null || this.settledUpTo < position) {
      this.settledUpTo = (await this.deps.groups.groupInfo(this.deps.group)).checkpoint ?? -1n;
      this.parked = null;
    }
    if (this.settledUpTo < position) return false;
    this.parked ??= new Set(
      (await this.deps.groups.listParked(this.deps.group, { limit: 10_000 })).map((p) => p.event.streamId),
    );
    return !this.parked.has(streamId);
  }
}

/** Paths as a reader sees the document over HTTP: `data.<field>…`, and `meta.revision` / `meta.position`. */
function fieldDrift(live: ReadDocument, expected: Expected): FieldDrift[] {
  const fields: FieldDrift[] = [];
  if (live.revision !== expected.revision) {
    fields.push({ path: 'meta.revision', live: Number(live.revision), expected: Number(expected.revision) });
  }
  if (live.position !== expected.position) {
    fields.push({ path: 'meta.position', live: Number(live.position), expected: Number(expected.position) });
  }
  fields.push(...diffFields(live.data, expected.data, 50, 'data'));
  return fields;
}
