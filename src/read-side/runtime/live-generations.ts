import type { ReadStore } from '../read-store.port.js';
import type { AnyProjection } from './projection.js';

/** How long a cached live-generation number is trusted before it is read again (other instances switch). */
export const GENERATION_TTL_MS = 1000;

export function generationKey(projection: string): string {
  return `projection:${projection}`;
}

/** The physical name of a logical collection in one generation of its projection. */
export function physicalCollection(logical: string, generation: number): string {
  return `${logical}_g${generation}`;
}

/**
 * Resolves the collections of a projection's live generation. A rebuild fills a new generation while the
 * old one serves, then switches a pointer (a meta value) — no collection is ever renamed, which works the
 * same on SQLite, MongoDB and FerretDB.
 */
export class LiveGenerations {
  private readonly cache = new Map<string, { generation: number; readAt: number }>();
  /** Bumped by every switch this instance makes. */
  private switches = 0;

  constructor(readonly store: ReadStore) {}

  async liveGeneration(projection: string): Promise<number> {
    const cached = this.cache.get(projection);
    if (cached && Date.now() - cached.readAt < GENERATION_TTL_MS) return cached.generation;
    const switchesBefore = this.switches;
    const meta = await this.store.getMeta(generationKey(projection));
    const generation = typeof meta?.live === 'number' ? meta.live : 1;
    // A switch made while the pointer was being read is newer than what was read: caching the older value
    // would send readers to the replaced generation for a whole TTL, past its drop.
    if (this.switches !== switchesBefore) return this.cache.get(projection)?.generation ?? generation;
    this.cache.set(projection, { generation, readAt: Date.now() });
    return generation;
  }

  /** The live generation as stored right now (no cache): for the switch itself. */
  async freshLiveGeneration(projection: string): Promise<number> {
    this.cache.delete(projection);
    return this.liveGeneration(projection);
  }

  async setLiveGeneration(projection: string, generation: number): Promise<void> {
    await this.store.setMeta(generationKey(projection), { live: generation });
    this.switches++;
    this.cache.set(projection, { generation, readAt: Date.now() });
  }

  /** Physical name of the projection's documents (or entries) collection in its live generation. */
  async collection(projection: AnyProjection, which: 'documents' | 'entries' = 'documents'): Promise<string> {
    const spec = which === 'documents' ? projection.documents : projection.entries;
    if (!spec) throw new Error(`projection ${projection.name} has no ${which}`);
    return physicalCollection(spec.name, await this.liveGeneration(projection.name));
  }
}
