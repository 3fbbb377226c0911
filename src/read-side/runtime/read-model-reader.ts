import type { FreshnessRead } from '../../shared/application/freshness-read.js';
import type { ReadStore } from '../read-store.port.js';
import type { AnyProjection } from './projection.js';
import type { ReadModelNotifier } from './read-model-notifier.js';
import type { LiveGenerations } from './live-generations.js';

/**
 * QP-2 (docs/architecture.md#read-patterns): a document of a projection's live generation. With `minRevision` it waits (bounded) until the
 * projection has reached that revision and otherwise answers what it has, marked stale — never pretending.
 * A document not projected at all yet (a brand-new stream) is answered from the event store instead, and
 * says so (`source: "event-store"`); `fallback` answers null when the stream does not exist either.
 */
export class ReadModelReader {
  constructor(
    private readonly generations: LiveGenerations,
    private readonly store: ReadStore,
    private readonly notifier: ReadModelNotifier,
    /** How long a read with `minRevision` waits for its projection. */
    private readonly readWaitMs: number,
  ) {}

  async read<View extends object>(
    projection: AnyProjection,
    id: string,
    minRevision: bigint | null,
    fallback: () => Promise<{ data: View; revision: bigint } | null>,
  ): Promise<FreshnessRead<View> | null> {
    const collection = await this.generations.collection(projection);
    const read = () => this.store.get(collection, id);
    const doc =
      minRevision === null
        ? await read()
        : await this.notifier.waitFor(
            projection.name,
            id,
            { timeoutMs: this.readWaitMs },
            read,
            (found) => found !== null && found.revision >= minRevision,
          );
    if (doc) {
      return {
        data: doc.data as unknown as View,
        revision: doc.revision,
        position: doc.position,
        projectedAt: doc.projectedAt,
        source: 'read-store',
        stale: minRevision !== null && doc.revision < minRevision,
      };
    }
    const strong = await fallback();
    if (!strong) return null;
    return { ...strong, ...FOLDED };
  }

  /** A strong read (QP-1) in the same shape. */
  static folded<View>(read: { data: View; revision: bigint }): FreshnessRead<View> {
    return { ...read, ...FOLDED };
  }
}

const FOLDED = { position: null, projectedAt: null, source: 'event-store', stale: false } as const;
