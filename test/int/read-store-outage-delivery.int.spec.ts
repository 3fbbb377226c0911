import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { ordersProjection } from '../../src/orders/read-model/orders.projection.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import { ReadStoreUnavailableError, type ReadStore } from '../../src/read-side/read-store.port.js';
import { ConsumerRegistry } from '../../src/read-side/runtime/consumer-registry.js';
import { LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import { ProjectionRunner } from '../../src/read-side/runtime/projection-runner.js';
import { projectionGroup, ProjectionSupervisor } from '../../src/read-side/runtime/projection-supervisor.js';
import { ReadModelNotifier } from '../../src/read-side/runtime/read-model-notifier.js';
import { writeHistory } from '../support/event-history.js';
import { until } from '../support/projection-runtime.js';

/**
 * The real embedded read store, with an outage switch: while `down`, every read and write fails the way the
 * MongoDB adapter fails when its server cannot be reached (ReadStoreUnavailableError).
 */
function withOutage(store: ReadStore): {
  store: ReadStore;
  setDown: (down: boolean) => void;
  failures: () => number;
} {
  let down = false;
  let failures = 0;
  const gated = new Set<PropertyKey>(['get', 'getMany', 'write', 'find', 'count']);
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !gated.has(property)) return value;
      return (...args: unknown[]) => {
        if (down) {
          failures++;
          return Promise.reject(
            new ReadStoreUnavailableError('the read store cannot be reached (test outage)'),
          );
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, setDown: (d) => (down = d), failures: () => failures };
}

describe('a read-store outage while a projection is fed', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  let real: EmbeddedReadStore;
  let supervisor: ProjectionSupervisor | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-outage-delivery-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    real = new EmbeddedReadStore(join(dir, 'read.sqlite'));
  });
  afterEach(async () => {
    await supervisor?.stop();
    await real.close();
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parks nothing: the batches are tried again until the store is back, and every document ends complete', async () => {
    const history = await writeHistory(events, { carts: 30, steps: 10, seed: 11 });
    expect(history.orders.length).toBeGreaterThan(3);
    const generations = new LiveGenerations(real);
    await generations.setLiveGeneration(ordersProjection.name, 1);
    const outage = withOutage(real);
    outage.setDown(true);
    // maxRetries 1: a batch handed back as failed twice would park its events at once.
    supervisor = new ProjectionSupervisor(
      [ordersProjection],
      events,
      outage.store,
      generations,
      new ReadModelNotifier(),
      { batchSize: 25, maxRetries: 1 },
      new ConsumerRegistry(events.consumerGroups, outage.store, { heartbeatMs: 1000 }),
    );
    await supervisor.start();
    await until(() => outage.failures() >= 5, 'the projection to meet the outage');
    await new Promise((r) => setTimeout(r, 1000));
    outage.setDown(false);

    const group = projectionGroup(ordersProjection);
    const head = await events.headPosition();
    await until(async () => {
      const info = await events.consumerGroups.groupInfo(group);
      return info.checkpoint !== null && info.checkpoint >= head;
    }, 'the group to catch up after the outage');
    expect((await events.consumerGroups.groupInfo(group)).parkedCount).toBe(0);

    // Every order as a fold of its whole stream gives it.
    const collection = await generations.collection(ordersProjection);
    const all = await events.readAll({ eventTypes: ordersProjection.eventTypes });
    await real.ensureCollection({ ...ordersProjection.documents, name: `${collection}_clean` });
    const clean = new ProjectionRunner(ordersProjection, { documents: `${collection}_clean` }, events, real);
    await clean.handle(all.map((event) => ({ event, retryCount: 0 })));
    await until(async () => {
      const live = await real.getMany(collection, history.orders);
      return history.orders.every((id) => live.has(id));
    }, 'every order to be projected');
    const live = await real.getMany(collection, history.orders);
    const expected = await real.getMany(`${collection}_clean`, history.orders);
    for (const id of history.orders) expect([id, live.get(id)!.data]).toEqual([id, expected.get(id)!.data]);
  }, 60_000);
});
