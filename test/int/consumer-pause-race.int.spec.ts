import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import type { ReadStore } from '../../src/read-side/read-store.port.js';
import { ConsumerRegistry, pausedKey } from '../../src/read-side/runtime/consumer-registry.js';
import { until } from '../support/projection-runtime.js';

/**
 * The real embedded read store whose paused-flag reads, once `hold()` is called, read the flag at once but
 * answer only when released: the heartbeat's re-read of the flags caught between reading and applying.
 */
function withHeldFlagReads(store: ReadStore): {
  store: ReadStore;
  hold: () => { reading: Promise<void>; release: () => void };
} {
  let held: { started: () => void; gate: Promise<void> } | null = null;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== 'getMeta' || typeof value !== 'function') return value;
      return async (key: string) => {
        const read = (await (value as ReadStore['getMeta']).call(target, key)) as unknown;
        if (held && key.startsWith('consumer-paused:')) {
          const { started, gate } = held;
          held = null;
          started();
          await gate;
        }
        return read;
      };
    },
  });
  return {
    store: proxy,
    hold: () => {
      let release!: () => void;
      let started!: () => void;
      const reading = new Promise<void>((resolve) => (started = resolve));
      held = { started, gate: new Promise<void>((resolve) => (release = resolve)) };
      return { reading, release };
    },
  };
}

describe('pausing while the heartbeat re-reads the paused flags', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  let real: EmbeddedReadStore;
  let registry: ConsumerRegistry | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-pause-race-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    real = new EmbeddedReadStore(join(dir, 'read.sqlite'));
  });
  afterEach(async () => {
    if (registry) for (const c of registry.list()) await registry.stop(c.name);
    await real.close();
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  const append = (stream: string) =>
    events.append(
      stream,
      [{ id: randomUUID(), type: 'Noted', data: { at: Date.now() }, metadata: { schemaVersion: 1 } }],
      'any',
    );

  it('stays paused: a flag read before the pause is not applied after it', async () => {
    const delivered: RecordedEvent[] = [];
    const flags = withHeldFlagReads(real);
    registry = new ConsumerRegistry(events.consumerGroups, flags.store, { heartbeatMs: 20 });
    registry.register({
      name: 'notes',
      kind: 'projection',
      settings: { group: 'notes', eventTypes: ['Noted'], maxRetries: 3, batchSize: 10 },
      handler: async (batch) => {
        delivered.push(...batch.map((d) => d.event));
        return batch.map(() => ({ action: 'ack' as const }));
      },
    });
    await registry.start('notes');
    await append('note-1');
    await until(() => delivered.length === 1, 'the first note delivered');

    // The next heartbeat reads "not paused", and is held there while the operator pauses.
    const { reading, release } = flags.hold();
    await reading;
    await registry.setPaused('notes', true, 'test');
    expect(await real.getMeta(pausedKey('notes'))).toMatchObject({ paused: true });
    // The next re-read is held in turn (a slow read store): what the held one applies stands meanwhile.
    const next = flags.hold();
    release();
    await next.reading;

    await append('note-2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(registry.get('notes')!.runtime().paused).toBe(true);
    expect(registry.get('notes')!.runtime().subscribed).toBe(false);
    expect(delivered.map((e) => e.streamId)).toEqual(['note-1']);

    next.release();
    await registry.setPaused('notes', false, 'test');
    await until(() => delivered.length === 2, 'the second note delivered on resume');
  });
});
