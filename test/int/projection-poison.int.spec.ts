import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { ordersProjection } from '../../src/orders/read-model/orders.projection.js';
import type { ReadStore } from '../../src/read-side/read-store.port.js';
import { ConsumerRegistry } from '../../src/read-side/runtime/consumer-registry.js';
import type { AnyProjection } from '../../src/read-side/runtime/projection.js';
import { ProjectionRunner } from '../../src/read-side/runtime/projection-runner.js';
import { projectionGroup, ProjectionSupervisor } from '../../src/read-side/runtime/projection-supervisor.js';
import { ReadModelNotifier } from '../../src/read-side/runtime/read-model-notifier.js';
import { LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import { writeHistory } from '../support/event-history.js';
import { readStoreFactories } from '../support/read-stores.js';

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(readStoreFactories())('a poison event (%s read store)', (_name, openStore) => {
  let dir: string;
  let events: EmbeddedEventStore;
  let store: ReadStore;
  let supervisor: ProjectionSupervisor | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-poison-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    store = await openStore(dir);
  });
  afterEach(async () => {
    await supervisor?.stop();
    await store.close();
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is parked with its stream while every other stream is projected; replaying it after the fix completes the document', async () => {
    await writeHistory(events, { carts: 40, steps: 14, seed: 3 });
    const all = await events.readAll({ eventTypes: ordersProjection.eventTypes });
    // Poison the first event after OrderPlaced of an order that has several events.
    const counts = new Map<string, RecordedEvent[]>();
    for (const event of all) counts.set(event.streamId, [...(counts.get(event.streamId) ?? []), event]);
    const [poisonedStream, streamEvents] = [...counts].find(([, list]) => list.length >= 3)!;
    const poison = streamEvents[1]!;

    let broken = true;
    const fragile: AnyProjection = {
      ...ordersProjection,
      evolve(doc, projected) {
        if (broken && projected.id === poison.id) throw new Error('cannot handle this event (yet)');
        return ordersProjection.evolve(doc as never, projected as never);
      },
    };
    // A unique generation per store so runs on a shared MongoDB never meet.
    const generations = new LiveGenerations(store);
    await generations.setLiveGeneration(fragile.name, Math.floor(Math.random() * 1e9));
    supervisor = new ProjectionSupervisor(
      [fragile],
      events,
      store,
      generations,
      new ReadModelNotifier(),
      { batchSize: 25, maxRetries: 1 },
      new ConsumerRegistry(events.consumerGroups, store, { heartbeatMs: 1000 }),
    );
    await supervisor.start();
    const group = projectionGroup(fragile);
    const head = await events.headPosition();
    // Everything of the poisoned stream from the poison on ends up parked: the poison itself, and each later
    // event once its retries are spent (a slow read store may still be retrying some after the checkpoint has
    // passed them: "settled" includes "queued for retry").
    const parkedInTheEnd = streamEvents.length - 1;
    await until(async () => {
      const info = await events.consumerGroups.groupInfo(group);
      return info.checkpoint !== null && info.checkpoint >= head && info.parkedCount >= parkedInTheEnd;
    }, 'the group to settle with the poison parked');

    const parked = await events.consumerGroups.listParked(group);
    expect(parked).toHaveLength(parkedInTheEnd);
    expect(parked.map((p) => p.event.id)).toContain(poison.id);
    expect(parked.every((p) => p.event.streamId === poisonedStream)).toBe(true);
    expect(parked.find((p) => p.event.id === poison.id)!.reason).toContain('cannot handle this event (yet)');

    // Every other order is complete; the poisoned one stopped right before the poison, never skipping it.
    const collection = await generations.collection(fragile);
    const clean = new ProjectionRunner(ordersProjection, { documents: `${collection}_clean` }, events, store);
    await store.ensureCollection({ ...ordersProjection.documents, name: `${collection}_clean` });
    await clean.handle(all.map((event) => ({ event, retryCount: 0 })));
    const ids = [...counts.keys()].map((streamId) => streamId.slice('order-'.length));
    const live = await store.getMany(collection, ids);
    const expected = await store.getMany(`${collection}_clean`, ids);
    const poisonedId = poisonedStream.slice('order-'.length);
    for (const id of ids) {
      if (id === poisonedId) expect(live.get(id)!.revision).toBe(poison.revision - 1n);
      else expect(live.get(id)?.data).toEqual(expected.get(id)!.data);
    }

    // The fix is deployed; the operator replays what was parked.
    broken = false;
    expect(await events.consumerGroups.replayParked(group)).toBe(parked.length);
    const last = streamEvents[streamEvents.length - 1]!;
    await until(
      async () => (await store.get(collection, poisonedId))?.revision === last.revision,
      'the replay',
    );
    expect((await store.get(collection, poisonedId))!.data).toEqual(expected.get(poisonedId)!.data);
    await until(
      async () => (await events.consumerGroups.groupInfo(group)).parkedCount === 0,
      'the parked list to empty',
    );
  }, 30_000);
});
