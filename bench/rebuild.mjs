/**
 * Part `rebuild` of `npm run bench`.
 *
 * 1. Rebuild time, in-process on the COMPILED modules in dist/: for each size of BENCH_REBUILD_EVENTS (default
 *    100k and 1M) an embedded event store of its own holds that many events (n/10 carts × 5 events, as many
 *    orders × 5 events, as in the projection part). For each read store (embedded; MongoDB when MONGODB_URI is
 *    set, up to BENCH_REBUILD_MONGO_MAX events) every projection is rebuilt by the real JobRunner — filtered
 *    catch-up read in pages of REBUILD_PAGE_SIZE (2000), ProjectionRunner into a new generation, hold, final
 *    catch-up, switch — one after the other, and the clock runs from the launch to the switch. The live groups
 *    are not running (nothing competes with the rebuild; the hold is then immediate).
 * 2. Reads during a rebuild, through the real service process (`node dist/main.js`, embedded stores): the
 *    same 100k events are written into its data directory before it starts; once its projections have
 *    caught up, `GET /orders/:id` (random orders, 8 connections) is measured at rest, then while `orders` is
 *    rebuilt over and over (POST /admin/projections/orders/rebuild, each through its switch and drop).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { fmt, percentile } from './aggregate-load.mjs';
import { writeEvents } from './projections.mjs';
import { importDist } from './common.mjs';

export const PAIRS = 10_000; // 100k events: the reads during a rebuild, and the postgres part's rebuild rows
export const PAGE_SIZE = 2000;
const READERS = 8;
/** A cart and its order: 5 events each. */
const EVENTS_PER_PAIR = 10;

/** BENCH_REBUILD_EVENTS: event counts, comma-separated (multiples of 10: a cart and its order are 10 events). */
export function rebuildSizes(raw, fallback) {
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(',').map((part) => {
    const value = Number(part.trim().replace(/_/g, ''));
    if (!Number.isInteger(value) || value < EVENTS_PER_PAIR || value % EVENTS_PER_PAIR !== 0)
      throw new Error(`BENCH_REBUILD_EVENTS=${raw}: each size is a multiple of 10 events, at least 10`);
    return value;
  });
}

/** The compiled modules a rebuild runs on (the postgres part's rebuild rows use them too). */
export async function rebuildDist(root) {
  return {
    store: await importDist(root, 'event-store/embedded/embedded-event-store.js'),
    postgresStore: await importDist(root, 'event-store/postgres/postgres-event-store.js'),
    embeddedRead: await importDist(root, 'read-side/embedded/embedded-read-store.js'),
    mongoRead: await importDist(root, 'read-side/mongo/mongo-read-store.js'),
    projections: await importDist(root, 'projections.js'),
    generations: await importDist(root, 'read-side/runtime/live-generations.js'),
    consumers: await importDist(root, 'read-side/runtime/consumer-registry.js'),
    supervisor: await importDist(root, 'read-side/runtime/projection-supervisor.js'),
    notifier: await importDist(root, 'read-side/runtime/read-model-notifier.js'),
    jobStore: await importDist(root, 'read-side/runtime/jobs/job-store.js'),
    jobRunner: await importDist(root, 'read-side/runtime/jobs/job-runner.js'),
  };
}

/** Rebuilds every projection with the service's JobRunner; one row per projection. */
export async function rebuildAll(dist, events, store) {
  const { PROJECTIONS } = dist.projections;
  const generations = new dist.generations.LiveGenerations(store);
  const consumers = new dist.consumers.ConsumerRegistry(events.consumerGroups, store, { heartbeatMs: 1000 });
  const supervisor = new dist.supervisor.ProjectionSupervisor(
    PROJECTIONS,
    events,
    store,
    generations,
    new dist.notifier.ReadModelNotifier(),
    { batchSize: 500, maxRetries: 3 },
    consumers,
  );
  const jobs = new dist.jobStore.JobStore(store);
  const runner = new dist.jobRunner.JobRunner(supervisor, events, store, generations, jobs, {
    pageSize: PAGE_SIZE,
    dropGraceMs: 0,
    leaseMs: 60_000,
    exclusive: true,
  });
  const rows = [];
  for (const projection of PROJECTIONS) {
    const started = performance.now();
    const job = await runner.launch('rebuild', projection.name, { requestedBy: 'bench' });
    let record;
    for (;;) {
      record = await jobs.get(job.id);
      if (record.state !== 'running' || record.switchedAt) break;
      await sleep(5);
    }
    const switched = performance.now() - started;
    while (record.state === 'running') {
      await sleep(5);
      record = await jobs.get(job.id);
    }
    if (record.state !== 'succeeded')
      throw new Error(`rebuild of ${projection.name} ${record.state}: ${record.error}`);
    // This history has only carts and orders: a projection with nothing to fold (the catalog's) has no rate.
    if (record.eventsDone === 0) continue;
    rows.push({
      projection: projection.name,
      events: record.eventsDone,
      ms: switched,
      skipped: record.skippedCount,
    });
  }
  await runner.stop();
  return rows;
}

async function rebuildRates({ root, log, dir, mongoUri, sizes, mongoMax }) {
  const dist = await rebuildDist(root);
  const results = [];
  const mongoSkipped = [];
  for (const size of sizes) {
    // A store per size, deleted after it: a million events take about a gigabyte of disk.
    const file = join(dir, `events-rebuild-${size}.sqlite`);
    const readFile = join(dir, `read-rebuild-${size}.sqlite`);
    const stores = [['embedded (SQLite)', async () => new dist.embeddedRead.EmbeddedReadStore(readFile)]];
    if (mongoUri && size <= mongoMax) {
      const url = new URL(mongoUri);
      url.pathname = `/bench_rebuild_${randomUUID().slice(0, 8)}`;
      stores.push([
        `MongoDB wire (${mongoUri.replace(/\/\/[^@]*@/, '//')})`,
        () => dist.mongoRead.MongoReadStore.connect(url.toString()),
      ]);
    } else if (mongoUri) {
      mongoSkipped.push(size);
    }
    const events = new dist.store.EmbeddedEventStore(file);
    try {
      log(`rebuild: writing ${size.toLocaleString('en-US')} events`);
      const writing = performance.now();
      await writeEvents(events, size / EVENTS_PER_PAIR);
      log(`rebuild: written in ${((performance.now() - writing) / 1000).toFixed(1)} s`);
      for (const [name, open] of stores) {
        const store = await open();
        try {
          log(`rebuild: every projection into ${name} from ${size.toLocaleString('en-US')} events`);
          results.push({ name, size, rows: await rebuildAll(dist, events, store) });
        } finally {
          await store.close();
        }
      }
    } finally {
      await events.close();
      for (const path of [file, readFile])
        for (const suffix of ['', '-wal', '-shm']) await rm(`${path}${suffix}`, { force: true });
    }
  }
  return { results, mongoSkipped };
}

// ---------------------------------------------------------------------------------------------------------
// Through the service

async function readLoop(service, token, ids, until) {
  const latencies = [];
  let errors = 0;
  const errorSamples = new Set();
  const worker = async (w) => {
    for (let i = w; !until(); i += READERS) {
      const id = ids[(i * 7919) % ids.length];
      const started = performance.now();
      try {
        const res = await fetch(`${service.base}/orders/${id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await res.json();
        latencies.push(performance.now() - started);
        if (res.status !== 200 || body?.meta?.source !== 'read-store') {
          errors++;
          if (errorSamples.size < 3) errorSamples.add(`${res.status} ${body?.meta?.source ?? body?.code}`);
        }
      } catch (error) {
        errors++;
        if (errorSamples.size < 3) errorSamples.add(String(error?.message ?? error));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: READERS }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    errors,
    errorSamples: [...errorSamples],
    seconds,
  };
}

async function readsDuringRebuild({ root, log, startService, stopService, operatorToken, duration }) {
  const dist = {
    store: await importDist(root, 'event-store/embedded/embedded-event-store.js'),
  };
  let orderIds = [];
  const service = await startService({
    env: { REBUILD_DROP_GRACE_MS: '1000', REBUILD_PAGE_SIZE: String(PAGE_SIZE) },
    prepare: async (dataDir) => {
      const events = new dist.store.EmbeddedEventStore(join(dataDir, 'events.sqlite'));
      try {
        log('rebuild: writing 100k events into the service data directory');
        await writeEvents(events, PAIRS);
        orderIds = (await events.readAll({ eventTypes: ['OrderPlaced'] })).map((e) => e.data.orderId);
      } finally {
        await events.close();
      }
    },
  });
  const call = async (method, path) => {
    const res = await fetch(`${service.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    log('rebuild: waiting for the service to project the 100k events');
    const catchUpStarted = performance.now();
    for (;;) {
      const { status, body } = await call('GET', '/admin/projections');
      if (status !== 200)
        throw new Error(`GET /admin/projections answered ${status}: ${JSON.stringify(body)}`);
      if (body.items.every((p) => p.lagEvents === 0)) break;
      if (performance.now() - catchUpStarted > 300_000)
        throw new Error('the projections did not catch up in 5 min');
      await sleep(250);
    }
    const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
    log(`rebuild: reads at rest (${duration} s)`);
    const restEnd = performance.now() + duration * 1000;
    const rest = await readLoop(service, operatorToken, orderIds, () => performance.now() > restEnd);

    log(`rebuild: reads while orders is rebuilt (at least ${duration} s)`);
    const rebuilds = [];
    let rebuilding = true;
    const rebuildLoop = (async () => {
      const end = performance.now() + duration * 1000;
      while (rebuilds.length === 0 || performance.now() < end) {
        const started = await call('POST', '/admin/projections/orders/rebuild');
        if (started.status !== 202)
          throw new Error(`rebuild answered ${started.status}: ${JSON.stringify(started.body)}`);
        let job = started.body;
        while (job.state === 'running') {
          await sleep(50);
          job = (await call('GET', `/admin/jobs/${job.id}`)).body;
        }
        if (job.state !== 'succeeded') throw new Error(`rebuild ${job.state}: ${job.error}`);
        rebuilds.push(job);
      }
      rebuilding = false;
    })();
    const during = await readLoop(service, operatorToken, orderIds, () => !rebuilding);
    await rebuildLoop;
    const buildMs = rebuilds.map((j) => Date.parse(j.switchedAt) - Date.parse(j.startedAt));
    const rate =
      rebuilds.reduce((s, j) => s + j.eventsDone, 0) / (buildMs.reduce((s, ms) => s + ms, 0) / 1000);
    return {
      rest,
      during,
      rebuilds: rebuilds.length,
      eventsPerRebuild: rebuilds[0]?.eventsDone ?? 0,
      rate,
      catchUpSeconds,
    };
  } finally {
    await stopService(service);
  }
}

export async function runRebuildBench({
  root,
  log = () => {},
  onTempDir = () => {},
  mongoUri = process.env.MONGODB_URI,
  startService,
  stopService,
  operatorToken,
  duration = 5,
  sizes = [100_000, 1_000_000],
  mongoMax = 100_000,
}) {
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-bench-rebuild-'));
  onTempDir(dir);
  // The runtime's own log lines (job started/succeeded) would land in the tables on stdout.
  Logger.overrideLogger(['error']);
  const { results, mongoSkipped } = await rebuildRates({ root, log, dir, mongoUri, sizes, mongoMax });
  const reads = await readsDuringRebuild({ root, log, startService, stopService, operatorToken, duration });
  return { rates: results, mongoSkipped, reads, mongo: Boolean(mongoUri) };
}

export const TARGETS = { embedded: 25_000, mongo: 10_000 };

export function rebuildTable({ rates, mongoSkipped = [], reads, mongo }) {
  const out = [
    `### Projection rebuild (JobRunner: filtered catch-up in pages of ${PAGE_SIZE} into a new generation, then the switch)`,
    '',
    '| read store | events in the store | projection | events folded | seconds to the switch | events/s | target |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  for (const { name, size, rows } of rates) {
    const target = name.startsWith('embedded') ? TARGETS.embedded : TARGETS.mongo;
    const store = size.toLocaleString('en-US');
    for (const row of rows) {
      const rate = row.events / (row.ms / 1000);
      out.push(
        `| ${name} | ${store} | ${row.projection} | ${row.events} | ${(row.ms / 1000).toFixed(2)} | ${Math.round(rate)} | ${rate >= target ? '✓' : '✗'} (≥ ${target.toLocaleString('en-US')}/s) |`,
      );
    }
    const events = rows.reduce((s, r) => s + r.events, 0);
    const seconds = rows.reduce((s, r) => s + r.ms, 0) / 1000;
    out.push(
      `| ${name} | ${store} | **all of them, one after the other** | ${events} | **${seconds.toFixed(2)}** | **${Math.round(events / seconds)}** | |`,
    );
  }
  const skippedNote = mongoSkipped.length
    ? `MongoDB rows not measured at ${mongoSkipped.map((n) => n.toLocaleString('en-US')).join(', ')} events (BENCH_REBUILD_MONGO_MAX).`
    : '';
  out.push(
    '',
    `Half of the events in each store are cart events, half order events (10 per cart and its order); each projection reads only its own types ` +
      `(carts: the cart events; orders, order_search, order_timeline: the order events; products has none here and no row). ${
        mongo
          ? skippedNote
          : 'MongoDB rows skipped: MONGODB_URI is not set (`scripts/ferretdb.sh start` gives one).'
      }`,
    '',
    `### GET /orders/:id during a rebuild of orders vs at rest (the service process, embedded stores, ${READERS} connections)`,
    '',
    '| phase | requests | req/s | p50 ms | p99 ms | max ms | errors or misses |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [phase, r] of [
    ['at rest', reads.rest],
    [`during ${reads.rebuilds} rebuild(s)`, reads.during],
  ]) {
    out.push(
      `| ${phase} | ${r.requests} | ${Math.round(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''} |`,
    );
  }
  out.push(
    '',
    `Each rebuild of orders: ${reads.eventsPerRebuild} events to the switch at ${Math.round(reads.rate)} events/s inside the service ` +
      `(while it answers the reads), then the 1 s drop grace. The service first projected the 100k events in ${reads.catchUpSeconds.toFixed(1)} s. ` +
      '"errors or misses": a non-200 answer, or an order not served from the read model.',
  );
  return out.join('\n');
}
