import { idInCategory, streamName } from '../../../shared/domain/index.js';
import type { ConsumerGroups } from '../../../event-store/consumer-groups.port.js';
import type { EventStore } from '../../../event-store/event-store.port.js';
import type { DocumentWrite, ReadDocument, ReadStore } from '../../read-store.port.js';
import type { AnyProjection } from '../projection.js';
import {
  DocumentJudge,
  fieldDrift,
  sameDocument,
  type Expected,
  type FoundJudgement,
} from '../document-judge.js';
import type { DriftedDocument, VerifyResult } from './job.js';

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

type Judgement =
  | FoundJudgement
  | { readonly verdict: 'pending' }
  | {
      readonly verdict: 'drift';
      readonly kind: DriftedDocument['kind'];
      readonly live: ReadDocument | null;
      readonly expected: Expected | null;
    };

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
  private readonly judge: DocumentJudge;

  constructor(
    private readonly deps: VerifyDeps,
    private readonly repair: boolean,
  ) {
    this.judge = new DocumentJudge(deps.events, deps.projection);
  }

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
    const found = await store.get(live.documents, id);
    if (found) return this.judge.judgeDocument(found);
    const reference = await store.get(shadow.documents, id);
    if (!reference) return { verdict: 'ok' }; // gone from both sides: nothing to judge
    if (!(await this.liveHasPassed(streamName(projection.category, id), reference.position))) {
      return { verdict: 'pending' };
    }
    return { verdict: 'drift', kind: 'missing', live: null, expected: reference };
  }

  /** An entry (keyed by event id): compared with the entries its event gives in a clean fold of its stream. */
  private async judgeEntry(id: string): Promise<Judgement> {
    const { store, projection, live, shadow } = this.deps;
    const [found, reference] = await Promise.all([
      store.get(live.entries!, id),
      store.get(shadow.entries!, id),
    ]);
    if (found) return this.judge.judgeEntry(found, (reference ?? found).position);
    if (!reference) return { verdict: 'ok' };
    const source = await this.judge.sourceOfEntry(id, reference.position);
    const expected = source ? await this.judge.expectedEntry(source, id) : undefined;
    if (!source || !expected) return { verdict: 'ok' };
    // Entries are written before their document: a live document at or past the event means the entry is due.
    const streamDoc = await store.get(live.documents, idInCategory(projection.category, source.streamId)!);
    if (!streamDoc || streamDoc.revision < source.revision) return { verdict: 'pending' };
    return { verdict: 'drift', kind: 'missing', live: null, expected };
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
