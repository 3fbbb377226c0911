import {
  ReadModelTooStaleError,
  type FreshnessRead,
  type ReadOptions,
} from '../../shared/application/freshness-read.js';
import { streamName } from '../../shared/domain/index.js';
import type { ReadDocument, ReadStore } from '../read-store.port.js';
import type { AnyProjection } from './projection.js';
import type { ReadModelNotifier } from './read-model-notifier.js';
import type { LiveGenerations } from './live-generations.js';
import type { ReadModelStaleness } from './staleness.js';

/** What a strong read answers: the view folded from the stream, at the stream's revision. */
export type Folded<View> = { data: View; revision: bigint };

/**
 * QP-2 (docs/architecture.md#read-patterns): a document of a projection's live generation, saying how stale it
 * is (docs/consistency.md#staleness).
 * - With `minRevision` it waits (bounded by READ_WAIT_MS) until the projection has reached that revision, and
 *   otherwise answers what it has, marked stale — never pretending.
 * - With `maxStaleMs` (the client's `max-stale`) it waits, within the same bound, until the document is at most
 *   that stale, and otherwise answers from the event store instead (QP-1, `source: "event-store"`).
 * A document not projected at all yet (a brand-new stream) is answered from the event store, and says so;
 * `fallback` answers null when the stream does not exist either.
 *
 * Lists (QP-3) ask {@link listStaleness} before they query: a read model staler than the caller accepts is
 * refused (ReadModelTooStaleError, a 503 with Retry-After), never waited for.
 */
export class ReadModelReader {
  constructor(
    private readonly generations: LiveGenerations,
    private readonly store: ReadStore,
    private readonly notifier: ReadModelNotifier,
    /** How long a read with `minRevision` or `maxStaleMs` waits for its projection. */
    private readonly readWaitMs: number,
    private readonly staleness: ReadModelStaleness,
    /** Freshness budget of each projection, by name (the Retry-After of a refused list). */
    private readonly budgets: ReadonlyMap<string, number>,
  ) {}

  async read<View extends object>(
    projection: AnyProjection,
    id: string,
    options: Pick<ReadOptions, 'minRevision' | 'maxStaleMs'>,
    fallback: () => Promise<Folded<View> | null>,
  ): Promise<FreshnessRead<View> | null> {
    const { minRevision, maxStaleMs } = options;
    const collection = await this.generations.collection(projection);
    const stream = (doc: ReadDocument) => streamName(projection.category, doc.id);
    const read = async (): Promise<{ doc: ReadDocument | null; staleness: number }> => {
      const doc = await this.store.get(collection, id);
      return { doc, staleness: doc ? await this.staleness.ofDocument(stream(doc), doc.revision) : 0 };
    };
    const reached = (doc: ReadDocument): boolean => minRevision === null || doc.revision >= minRevision;
    const fresh = (staleness: number): boolean => maxStaleMs === null || staleness <= maxStaleMs;
    const { doc, staleness } =
      minRevision === null && maxStaleMs === null
        ? await read()
        : await this.notifier.waitFor(
            projection.name,
            id,
            { timeoutMs: this.readWaitMs },
            read,
            // A document not projected yet is waited for only for minRevision: the event store answers it at
            // once otherwise, and is never stale.
            (found) =>
              found.doc === null ? minRevision === null : reached(found.doc) && fresh(found.staleness),
          );
    if (doc && fresh(staleness)) {
      return {
        data: doc.data as unknown as View,
        revision: doc.revision,
        position: doc.position,
        projectedAt: doc.projectedAt,
        source: 'read-store',
        stale: !reached(doc),
        staleness,
      };
    }
    // Not projected yet, or staler than the caller accepts after the wait: the stream itself.
    const strong = await fallback();
    return strong && ReadModelReader.folded(strong);
  }

  /**
   * How stale the projection's read model is as a whole (its lag in time), measured before the list is read:
   * what the list then reads is at least that fresh. Past `maxStaleMs`: ReadModelTooStaleError.
   */
  async listStaleness(projection: AnyProjection, maxStaleMs: number | null): Promise<number> {
    const staleness = await this.staleness.ofProjection(projection);
    if (maxStaleMs !== null && staleness > maxStaleMs) {
      const budget = this.budgets.get(projection.name) ?? projection.freshnessBudgetMs;
      throw new ReadModelTooStaleError(projection.name, staleness, maxStaleMs, budget);
    }
    return staleness;
  }

  /** A strong read (QP-1) in the same shape: current, so never stale. */
  static folded<View>(read: Folded<View>): FreshnessRead<View> {
    return { ...read, ...FOLDED };
  }
}

const FOLDED = {
  position: null,
  projectedAt: null,
  source: 'event-store',
  stale: false,
  staleness: 0,
} as const;
