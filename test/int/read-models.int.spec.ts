import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../../src/event-store/event-store.port.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import { GENERATION_TTL_MS, LiveGenerations } from '../../src/read-side/runtime/live-generations.js';

/** The real embedded read store, whose meta reads can be held back to stage a race. */
class SlowMetaReadStore extends EmbeddedReadStore {
  gate: Promise<void> | null = null;

  override async getMeta(key: string): Promise<JsonObject | null> {
    const value = await super.getMeta(key); // read now …
    if (this.gate) await this.gate; // … answer later
    return value;
  }
}

describe('LiveGenerations (live generation pointer)', () => {
  let dir: string;
  let store: SlowMetaReadStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-read-models-'));
    store = new SlowMetaReadStore(join(dir, 'read.sqlite'));
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a pointer read that started before a switch and answers after it does not bring the old generation back', async () => {
    const generations = new LiveGenerations(store);
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const slowRead = generations.liveGeneration('orders'); // reads 1 (nothing switched yet), answers late
    await new Promise((resolve) => setTimeout(resolve, 20));
    store.gate = null;
    await generations.setLiveGeneration('orders', 2);
    open();
    await slowRead;
    // Within the TTL every reader must now be sent to generation 2 (generation 1 is about to be dropped).
    expect(await generations.liveGeneration('orders')).toBe(2);
    expect(GENERATION_TTL_MS).toBeGreaterThan(100);
  });

  it('reads the pointer again once the TTL is over (another instance may have switched)', async () => {
    const generations = new LiveGenerations(store);
    expect(await generations.liveGeneration('orders')).toBe(1);
    await store.setMeta('projection:orders', { live: 3 }); // another instance's switch
    expect(await generations.liveGeneration('orders')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, GENERATION_TTL_MS + 50));
    expect(await generations.liveGeneration('orders')).toBe(3);
  });
});
