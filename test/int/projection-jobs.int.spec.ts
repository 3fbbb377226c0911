import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '../../src/config/app-config.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { ProjectionStatusService } from '../../src/operations/application/projection-status.service.js';
import { PROJECTIONS } from '../../src/projections.js';
import { JobConflictError } from '../../src/read-side/runtime/jobs/job-store.js';
import { toStored, type JobRecord } from '../../src/read-side/runtime/jobs/job.js';
import { projectionGroup } from '../../src/read-side/runtime/projection-supervisor.js';
import { physicalCollection } from '../../src/read-side/runtime/live-generations.js';
import { writeHistory, type History } from '../support/event-history.js';
import {
  caughtUp,
  cleanRebuild,
  FAST_JOBS,
  dumpCollection,
  dumpGeneration,
  dumpLive,
  isolatedReadStores,
  jobEnded,
  startRuntime,
  tempDir,
  until,
  type IsolatedReadStore,
  type Runtime,
} from '../support/projection-runtime.js';

const byName = (name: string) => PROJECTIONS.find((p) => p.name === name)!;
const orders = byName('orders');
const timeline = byName('order_timeline');
const GROUPS = PROJECTIONS.map(projectionGroup);

// The runtime logs jobs and failures (some on purpose here): keep the test output for test failures.
beforeAll(() => Logger.overrideLogger(false));

/** This process's INSTANCE_ID, for the store and the status service alike: the groups it delivers are its own. */
const INSTANCE_ID = 'jobs-test-instance';

describe.each(isolatedReadStores())('projection jobs on the %s read store', (_name, openStore) => {
  let remove: () => Promise<void>;
  let dir: string;
  let events: EmbeddedEventStore;
  let isolated: IsolatedReadStore;
  let runtime: Runtime;
  let history: History;

  beforeEach(async () => {
    ({ dir, remove } = await tempDir('ordertrail-jobs-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'), { instanceId: INSTANCE_ID });
    isolated = await openStore(dir);
    history = await writeHistory(events, { carts: 50, steps: 12, seed: 17 });
  }, 60_000);

  afterEach(async () => {
    await runtime?.stop();
    await isolated.store.close();
    await isolated.cleanup();
    await events.close();
    await remove();
  }, 60_000);

  /**
   * Appends more history in the background until stopped (the live projections keep applying it), at a
   * steady pace: a rebuild that has to chase a writer faster than itself never catches up.
   */
  function keepWriting(pauseMs = 50): { stop(): Promise<void> } {
    let stopped = false;
    const loop = (async () => {
      for (let seed = 100; !stopped; seed++) {
        await writeHistory(events, { carts: 2, steps: 6, seed });
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
      },
    };
  }

  it('rebuilds while the old generation serves reads and the live group keeps applying; ends as a clean rebuild', async () => {
    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 20, pageDelayMs: 5 } });
    await caughtUp(events, GROUPS);
    const writer = keepWriting();
    let reads = 0;
    const missing: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        for (const id of history.orders) {
          const doc = await isolated.store.get(await runtime.generations.collection(orders), id);
          reads++;
          if (!doc) missing.push(id);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    const jobs = [];
    for (const name of ['orders', 'order_timeline']) {
      const job = await runtime.runner.launch('rebuild', name, { requestedBy: 'test' });
      expect(job).toMatchObject({ state: 'running', phase: 'building', generation: 2, fromGeneration: 1 });
      jobs.push(job);
    }
    const ended = await Promise.all(jobs.map((job) => jobEnded(runtime.jobs, job.id)));
    await writer.stop();
    reading = false;
    await reader;

    for (const job of ended) {
      expect(job).toMatchObject({ state: 'succeeded', phase: 'done', replacedGeneration: 1, error: null });
      // The drop of the old generation was due the grace delay after the switch, and happened then.
      expect(Date.parse(job.dropAt!) - Date.parse(job.switchedAt!)).toBe(FAST_JOBS.dropGraceMs);
      expect(Date.parse(job.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(job.dropAt!));
      expect(job.eventsDone).toBeGreaterThan(0);
      expect(job.eventsDone).toBe(job.eventsTotal);
    }
    expect(reads).toBeGreaterThan(history.orders.length);
    expect(missing).toEqual([]);
    await caughtUp(events, GROUPS);
    for (const projection of [orders, timeline]) {
      expect(await runtime.generations.freshLiveGeneration(projection.name)).toBe(2);
      expect(await dumpLive(isolated.store, runtime.generations, projection)).toEqual(
        await cleanRebuild(events, isolated.store, projection),
      );
      // The old generation is gone.
      expect(await dumpGeneration(isolated.store, projection, 1)).toEqual({ documents: [], entries: [] });
    }
  }, 240_000);

  it('the build saves its progress page by page (the default: at most every 250 ms), so a watched bar moves', async () => {
    // Pages slower than the save period (a pause of 300 ms after each): every page shows.
    runtime = await startRuntime(events, isolated.store, {
      jobs: { pageSize: 10, pageDelayMs: 300, saveEveryMs: undefined },
    });
    const { id } = await runtime.runner.launch('rebuild', 'orders', { requestedBy: 'test' });
    const seen = new Set<number>();
    let job = await runtime.jobs.get(id);
    while (job?.state === 'running') {
      if (job.phase === 'building' && job.eventsTotal > 0) seen.add(job.eventsDone);
      await new Promise((r) => setTimeout(r, 25));
      job = await runtime.jobs.get(id);
    }
    expect(job).toMatchObject({ state: 'succeeded' });
    const pages = Math.ceil(job!.eventsTotal / 10);
    expect(pages).toBeGreaterThanOrEqual(4);
    // 0, then (about) one value per page: the last page's save may come with the switch.
    expect(seen.size).toBeGreaterThanOrEqual(pages - 1);
  }, 60_000);

  it('a second job of the same projection is refused, naming the running one; cancel keeps the live generation', async () => {
    await writeHistory(events, { carts: 60, steps: 12, seed: 5 });
    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 5, pageDelayMs: 10 } });
    await caughtUp(events, GROUPS);
    const before = await dumpLive(isolated.store, runtime.generations, orders);
    const first = await runtime.runner.launch('rebuild', 'orders', { requestedBy: 'test' });
    const second = runtime.runner.launch('verify', 'orders', { requestedBy: 'test' });
    await expect(second).rejects.toBeInstanceOf(JobConflictError);
    await expect(second).rejects.toMatchObject({ running: { id: first.id } });
    // Another projection is free.
    const other = await runtime.runner.launch('rebuild', 'carts', { requestedBy: 'test' });

    await until(async () => ((await runtime.jobs.get(first.id))?.eventsDone ?? 0) > 0, 'some progress');
    const cancelled = await runtime.runner.cancel(first.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelRequested: true, switchedAt: null });
    expect(await runtime.generations.freshLiveGeneration('orders')).toBe(1);
    expect(await dumpGeneration(isolated.store, orders, 2)).toEqual({ documents: [], entries: [] });
    expect(await dumpLive(isolated.store, runtime.generations, orders)).toEqual(before);
    // The lock is free again.
    const again = await runtime.runner.launch('rebuild', 'orders', { requestedBy: 'test' });
    expect(await jobEnded(runtime.jobs, again.id)).toMatchObject({ state: 'succeeded', error: null });
    expect(await jobEnded(runtime.jobs, other.id)).toMatchObject({ state: 'succeeded', error: null });
    await expect(runtime.runner.cancel(again.id)).rejects.toThrow(/already succeeded/);
  }, 240_000);

  it('a job whose instance died is taken over and resumes where it got (building, switching, draining)', async () => {
    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 25 } });
    await caughtUp(events, GROUPS);
    await runtime.stop();

    // A rebuild that got half-way: its generation holds what it applied up to `position`.
    const all = await events.readAll({ eventTypes: orders.eventTypes });
    const half = all[Math.floor(all.length / 2)]!;
    const partial = await runtime.supervisor.runnerFor(orders, 2);
    await partial.handle(all.slice(0, all.length / 2 + 1).map((event) => ({ event, retryCount: 0 })));
    const now = new Date(Date.now() - 60_000).toISOString();
    const base: JobRecord = {
      id: randomUUID(),
      kind: 'rebuild',
      projection: 'orders',
      state: 'running',
      phase: 'building',
      generation: 2,
      fromGeneration: 1,
      replacedGeneration: null,
      prepared: true,
      position: String(half.position),
      eventsDone: Math.floor(all.length / 2) + 1,
      eventsTotal: all.length,
      rate: 0,
      etaSeconds: null,
      startedAt: now,
      updatedAt: now,
      switchedAt: null,
      dropAt: null,
      finishedAt: null,
      error: null,
      cancelRequested: false,
      requestedBy: 'test',
      repair: false,
      owner: 'a-dead-instance',
      heartbeatAt: now,
      skipped: [],
      skippedCount: 0,
      result: null,
    };
    await isolated.store.setMeta(`job:${base.id}`, toStored(base));
    await isolated.store.setMeta('projection-job:orders', { jobId: base.id });
    await isolated.store.setMeta('jobs:index', { ids: [base.id] });
    // A crash after the switch of another projection, before the old generation was dropped.
    await runtime.supervisor.runnerFor(timeline, 1);
    await (
      await runtime.supervisor.runnerFor(timeline, 2)
    ).handle(
      (await events.readAll({ eventTypes: timeline.eventTypes })).map((event) => ({ event, retryCount: 0 })),
    );
    await runtime.generations.setLiveGeneration('order_timeline', 2);
    const switched: JobRecord = {
      ...base,
      id: randomUUID(),
      projection: 'order_timeline',
      phase: 'switching',
      position: String(await events.headPosition()),
    };
    await isolated.store.setMeta(`job:${switched.id}`, toStored(switched));
    await isolated.store.setMeta('projection-job:order_timeline', { jobId: switched.id });
    await isolated.store.setMeta('jobs:index', { ids: [switched.id, base.id] });

    // Another instance (non-exclusive store: it waits for the lease to expire, which it has).
    const second = await startRuntime(events, await isolated.reopen(), {
      jobs: { exclusive: false, leaseMs: 1000 },
    });
    runtime = second;
    const [a, b] = await Promise.all([jobEnded(second.jobs, base.id), jobEnded(second.jobs, switched.id)]);
    expect(a).toMatchObject({ state: 'succeeded', owner: second.runner.instanceId, replacedGeneration: 1 });
    expect(a.eventsDone).toBe(all.length);
    expect(b).toMatchObject({ state: 'succeeded', replacedGeneration: 1 });
    await caughtUp(events, GROUPS);
    for (const projection of [orders, timeline]) {
      expect(await second.generations.freshLiveGeneration(projection.name)).toBe(2);
      expect(await dumpLive(second.store, second.generations, projection)).toEqual(
        await cleanRebuild(events, second.store, projection),
      );
      expect(await dumpGeneration(second.store, projection, 1)).toEqual({ documents: [], entries: [] });
    }
    await second.stop();
    await second.store.close();
    runtime = undefined as unknown as Runtime;
  }, 240_000);

  it('a shutdown mid-rebuild frees the job; the next start resumes it', async () => {
    await writeHistory(events, { carts: 60, steps: 12, seed: 9 });
    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 5, pageDelayMs: 10 } });
    await caughtUp(events, GROUPS);
    const job = await runtime.runner.launch('rebuild', 'orders', { requestedBy: 'test' });
    await until(async () => ((await runtime.jobs.get(job.id))?.eventsDone ?? 0) > 20, 'some progress');
    await runtime.stop();
    const left = (await runtime.jobs.get(job.id))!;
    expect(left).toMatchObject({ state: 'running', owner: null, phase: 'building' });
    expect(left.eventsDone).toBeLessThan(left.eventsTotal);

    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 50 } });
    const done = await jobEnded(runtime.jobs, job.id);
    expect(done.state).toBe('succeeded');
    await caughtUp(events, GROUPS);
    expect(await dumpLive(isolated.store, runtime.generations, orders)).toEqual(
      await cleanRebuild(events, isolated.store, orders),
    );
  }, 240_000);

  it('verify reports every drifted document and field, changes nothing, repairs on request', async () => {
    runtime = await startRuntime(events, isolated.store);
    await caughtUp(events, GROUPS);
    const live = await runtime.generations.collection(orders);
    const [victim] = await isolated.store.scan(live, { limit: 1 });
    const original = victim!;
    const wrongTotal = (original.data.total as number) + 12345;
    const { conflicts } = await isolated.store.write(live, [
      {
        id: original.id,
        expectedRevision: original.revision,
        revision: original.revision,
        position: original.position,
        data: { ...original.data, total: wrongTotal, status: 'lost' },
      },
      { id: 'ghost', expectedRevision: null, revision: 0n, position: 1n, data: { made: 'up' } },
    ]);
    expect(conflicts).toEqual([]);
    const entries = await runtime.generations.collection(timeline, 'entries');
    const [entry] = await isolated.store.scan(entries, { limit: 1 });
    await isolated.store.write(entries, [
      { ...entry!, expectedRevision: entry!.revision, data: { ...entry!.data, summary: 'rewritten' } },
    ]);

    const check = await runtime.runner.launch('verify', 'orders', { requestedBy: 'test' });
    const checked = await jobEnded(runtime.jobs, check.id);
    expect(checked.state).toBe('succeeded');
    const result = checked.result!;
    expect(result).toMatchObject({
      drifted: 2,
      repaired: 0,
      pending: 0,
      truncated: false,
      liveGeneration: 1,
    });
    expect(result.compared).toBeGreaterThanOrEqual(history.orders.length);
    const changed = result.drift.find((d) => d.id === original.id)!;
    expect(changed).toMatchObject({
      collection: 'orders',
      kind: 'changed',
      liveRevision: Number(original.revision),
      expectedRevision: Number(original.revision),
      repaired: false,
    });
    expect(changed.fields).toEqual(
      expect.arrayContaining([
        { path: 'data.total', live: wrongTotal, expected: original.data.total },
        { path: 'data.status', live: 'lost', expected: original.data.status },
      ]),
    );
    expect(changed.fields).toHaveLength(2);
    expect(result.drift.find((d) => d.id === 'ghost')).toMatchObject({ kind: 'extra', repaired: false });
    // Nothing was changed, and the shadow is gone.
    expect((await isolated.store.get(live, original.id))!.data.total).toBe(wrongTotal);
    expect(await dumpGeneration(isolated.store, orders, 2)).toEqual({ documents: [], entries: [] });

    const timelineCheck = await jobEnded(
      runtime.jobs,
      (await runtime.runner.launch('verify', 'order_timeline', { requestedBy: 'test' })).id,
    );
    expect(timelineCheck.result!.drift).toEqual([
      expect.objectContaining({
        collection: 'order_timeline',
        id: entry!.id,
        kind: 'changed',
        fields: [{ path: 'data.summary', live: 'rewritten', expected: entry!.data.summary }],
      }),
    ]);

    const repair = await runtime.runner.launch('verify', 'orders', { requestedBy: 'test', repair: true });
    const repaired = await jobEnded(runtime.jobs, repair.id);
    expect(repaired.result).toMatchObject({ drifted: 2, repaired: 1 });
    expect((await isolated.store.get(live, original.id))!.data).toEqual(original.data);
    const again = await jobEnded(
      runtime.jobs,
      (await runtime.runner.launch('verify', 'orders', { requestedBy: 'test' })).id,
    );
    expect(again.result!.drift.map((d) => d.id)).toEqual(['ghost']);
  }, 240_000);

  it('verify while the live projection keeps applying reports no drift (lag is not drift)', async () => {
    runtime = await startRuntime(events, isolated.store, { jobs: { pageSize: 20, pageDelayMs: 5 } });
    await caughtUp(events, GROUPS);
    const headBefore = await events.headPosition();
    const writer = keepWriting(200);
    const jobs = await Promise.all(
      PROJECTIONS.map((p) => runtime.runner.launch('verify', p.name, { requestedBy: 'test' })),
    );
    // Writes go on for the first seconds of the comparison, then stop: a verify catches up to the head, and
    // on a loaded machine FerretDB applies fewer events a second than an endless writer appends.
    await new Promise((r) => setTimeout(r, 3_000));
    await writer.stop();
    const ended = await Promise.all(jobs.map((job) => jobEnded(runtime.jobs, job.id)));
    // The live projections had work to do during the comparison.
    expect(await events.headPosition()).toBeGreaterThan(headBefore);
    for (const job of ended) {
      expect({ projection: job.projection, state: job.state, drift: job.result?.drift }).toEqual({
        projection: job.projection,
        state: 'succeeded',
        drift: [],
      });
    }
  }, 240_000);

  it('pause stops applying (writes go on), survives a restart, and resume catches up', async () => {
    runtime = await startRuntime(events, isolated.store);
    await caughtUp(events, GROUPS);
    await runtime.consumers.setPaused('orders', true, 'test');
    const orderId = history.orders[0]!;
    const live = await runtime.generations.collection(orders);
    const before = (await isolated.store.get(live, orderId))!;
    const stream = `order-${orderId}`;
    const revision = await events.streamRevision(stream);
    await events.append(
      stream,
      [{ id: randomUUID(), type: 'OrderCancelled', data: { reason: 'paused test' }, metadata: {} }],
      revision,
    );
    await writeHistory(events, { carts: 5, steps: 5, seed: 77 });
    // The other projections move on; orders does not.
    await caughtUp(
      events,
      GROUPS.filter((g) => g !== projectionGroup(orders)),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await isolated.store.get(live, orderId))!.revision).toBe(before.revision);
    expect((await events.consumerGroups.groupInfo(projectionGroup(orders))).checkpoint).toBeLessThan(
      await events.headPosition(),
    );

    // A restart keeps it paused.
    await runtime.stop();
    runtime = await startRuntime(events, isolated.store);
    await new Promise((r) => setTimeout(r, 300));
    expect(runtime.consumers.get('orders')!.runtime().paused).toBe(true);
    expect((await isolated.store.get(live, orderId))!.revision).toBe(before.revision);

    await runtime.consumers.setPaused('orders', false, 'test');
    await caughtUp(events, GROUPS);
    const after = (await isolated.store.get(live, orderId))!;
    expect(after.revision).toBe(before.revision + 1n);
    expect(after.data.status).toBe('cancelled');
    expect(await dumpLive(isolated.store, runtime.generations, orders)).toEqual(
      await cleanRebuild(events, isolated.store, orders),
    );
  }, 60_000);

  it('status: lag, heartbeat, stalled when work waits and no batch comes, faulted when batches keep failing', async () => {
    runtime = await startRuntime(events, isolated.store, { heartbeatMs: 50 });
    await caughtUp(events, GROUPS);
    const config = { instanceId: INSTANCE_ID, readSide: { stallMs: 400 } } as AppConfig;
    const status = new ProjectionStatusService(
      events,
      events.consumerGroups,
      runtime.generations,
      runtime.consumers,
      runtime.supervisor,
      runtime.jobs,
      config,
    );
    const first = await status.status();
    expect(first.map((s) => s.name)).toEqual(PROJECTIONS.map((p) => p.name));
    for (const s of first) {
      expect(s).toMatchObject({ status: 'running', healthy: true, lagEvents: 0, lagMs: 0, parked: 0 });
      expect(Date.now() - Date.parse(s.lastHeartbeat!)).toBeLessThan(1000);
    }
    expect(await status.healthy()).toBe(true);

    // A dead delivery loop: nothing delivers orders any more while events arrive.
    await runtime.consumers.get('orders')!.stop();
    await writeHistory(events, { carts: 6, steps: 6, seed: 3 });
    const lagging = (await status.statusOf('orders'))!;
    expect(lagging.lagEvents).toBeGreaterThan(0);
    await until(
      async () => (await status.statusOf('orders'))!.status === 'stalled',
      'orders to be stalled',
      5000,
    );
    expect(await status.healthy()).toBe(false);
    expect((await status.observe()).find((o) => o.name === 'orders')).toMatchObject({
      status: 'stalled',
      healthy: false,
    });
    // Paused is deliberate, never stalled.
    await runtime.consumers.setPaused('orders', true, 'test');
    expect((await status.statusOf('orders'))!).toMatchObject({ status: 'paused', healthy: true });
    await runtime.consumers.setPaused('orders', false, 'test');
    await runtime.consumers.start('orders');
    await caughtUp(events, GROUPS);
    expect((await status.statusOf('orders'))!).toMatchObject({ status: 'running', lagEvents: 0, lagMs: 0 });
    expect(await status.healthy()).toBe(true);

    runtime.consumers.register({
      name: 'broken',
      kind: 'process-manager',
      settings: {
        group: `broken-${randomUUID().slice(0, 6)}`,
        eventTypes: ['OrderPlaced'],
        maxRetries: 100,
        batchSize: 10,
      },
      handler: async () => {
        throw new Error('its store is down');
      },
    });
    await runtime.consumers.start('broken');
    await until(async () => (await status.statusOf('broken'))!.status === 'faulted', 'a fault', 10_000);
    expect((await status.statusOf('broken'))!).toMatchObject({
      healthy: false,
      lastError: 'its store is down',
    });
    await runtime.consumers.stop('broken');
  }, 60_000);

  it('status: a slow batch that keeps reporting progress is not stalled; one that shows none is', async () => {
    runtime = await startRuntime(events, isolated.store, { heartbeatMs: 50 });
    await caughtUp(events, GROUPS);
    const status = new ProjectionStatusService(
      events,
      events.consumerGroups,
      runtime.generations,
      runtime.consumers,
      runtime.supervisor,
      runtime.jobs,
      { instanceId: INSTANCE_ID, readSide: { stallMs: 300 } } as AppConfig,
    );
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const register = (name: string, progressing: boolean) =>
      runtime!.consumers.register({
        name,
        kind: 'process-manager',
        settings: {
          group: `${name}-${randomUUID().slice(0, 6)}`,
          eventTypes: ['OrderPlaced'],
          maxRetries: 5,
          batchSize: 5,
        },
        handler: async (batch, onProgress) => {
          // A batch far longer than PROJECTION_STALL_MS: one keeps writing (progress), the other hangs.
          const ticking = progressing ? setInterval(onProgress, 50) : undefined;
          await released;
          clearInterval(ticking);
          return batch.map(() => ({ action: 'ack' as const }));
        },
      });
    register('slow-but-moving', true);
    register('hung', false);
    await runtime.consumers.start('slow-but-moving');
    await runtime.consumers.start('hung');
    try {
      await until(
        async () => (await status.statusOf('hung'))!.status === 'stalled',
        'the hung one to stall',
        5000,
      );
      // By then both batches have been in flight for well over the stall time.
      for (let i = 0; i < 5; i++) {
        expect((await status.statusOf('slow-but-moving'))!).toMatchObject({
          status: 'running',
          healthy: true,
        });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await status.statusOf('hung'))!.healthy).toBe(false);
    } finally {
      release();
      await runtime.consumers.stop('slow-but-moving');
      await runtime.consumers.stop('hung');
    }
  }, 30_000);

  it('a lag count is bounded: it stops at the cap and says so', async () => {
    runtime = await startRuntime(events, isolated.store);
    await caughtUp(events, GROUPS);
    const count = await events.countAll({ after: -1n, eventTypes: orders.eventTypes, limit: 7 });
    expect(count).toBe(7);
    const collections = physicalCollection(orders.documents.name, 1);
    expect((await dumpCollection(isolated.store, collections)).length).toBe(history.orders.length);
  });
});
