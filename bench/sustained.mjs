/**
 * Part `sustained` of `npm run bench`: the live projections on a MongoDB-wire read store (FerretDB) under a steady
 * add-item load, with the projections' write-through cache off ("before") and at its default ("after"). Needs
 * MONGODB_URI (the part says plainly that it was skipped otherwise); FerretDB on PostgreSQL with
 * `FERRETDB_BACKEND=postgresql scripts/ferretdb.sh start`. The event store is the embedded one: what is measured
 * is the read side.
 *
 * For each of the two, a fresh service (`node dist/main.js`, a database of its own on MONGODB_URI) gets
 * BENCH_SUSTAINED_CARTS carts (10,000), and once its projections have caught up with that, autocannon offers
 * BENCH_SUSTAINED_RATE add-item commands/s (1,000) over those carts for BENCH_SUSTAINED_SECONDS (60), rate-limited
 * (autocannon's overallRate, CONNECTIONS connections). Meanwhile `GET /admin/projections` and `/health/ready` are
 * sampled every SAMPLE_MS: each projection's lag in events and in ms (the age of its oldest unprocessed event),
 * its status (ever `stalled`?), readiness (ever not 200?). Afterwards: how long the projections took to catch up,
 * and every cart read back (no lost update). The CPU the service, FerretDB and PostgreSQL used during the load
 * says which of them was the bottleneck on a machine the load generator shares.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt, percentile } from './aggregate-load.mjs';
import { describeMongo, importDist } from './common.mjs';
import { cpuMeter, dropDatabase, postgresProcesses, withDatabase } from './postgres.mjs';

const CONNECTIONS = 100;
const SAMPLE_MS = 250;
/** The issue's bar: lag p99 ≤ 1 s, never stalled. */
const LAG_TARGET_MS = 1000;
/** An achieved rate this close to the offered one counts as the target reached (autocannon's pacing). */
const REACHED = 0.95;
/** How long the projections may take to catch up after the load before the run goes on without them. */
const DRAIN_MS = 300_000;

/**
 * Polls until no projection lags, or `ms` passed. Resolves with the seconds that took, whether they caught up,
 * and Σ lagEvents at the first and the last poll (a rate of catching up even when they did not).
 */
async function caughtUp(service, tools, ms, label) {
  const started = performance.now();
  let first;
  let last;
  let logged = started;
  for (;;) {
    const { status, json } = await tools
      .call(service, 'GET', '/admin/projections', undefined, tools.operatorToken)
      .catch(() => ({ status: 0 }));
    const seconds = (performance.now() - started) / 1000;
    if (status === 200) {
      last = json.items.reduce((sum, p) => sum + p.lagEvents, 0);
      first ??= last;
      if (last === 0) return { seconds, done: true, first, last };
    }
    if (seconds * 1000 >= ms) return { seconds, done: false, first: first ?? NaN, last: last ?? NaN };
    if (performance.now() - logged > 30_000) {
      tools.log(`sustained: ${label}: ${last} events still to project after ${Math.round(seconds)} s`);
      logged = performance.now();
    }
    await sleep(SAMPLE_MS);
  }
}

/** Samples the projections' status and readiness every SAMPLE_MS until `stop()`. */
function sampler(service, tools) {
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      const [projections, ready] = await Promise.all([
        tools
          .call(service, 'GET', '/admin/projections', undefined, tools.operatorToken)
          .catch((error) => ({ status: 0, text: String(error?.message ?? error) })),
        fetch(`${service.base}/health/ready`, { signal: AbortSignal.timeout(10_000) })
          .then(async (res) => ({ status: res.status, json: await res.json().catch(() => undefined) }))
          .catch(() => ({ status: 0 })),
      ]);
      samples.push({
        at: started,
        items: projections.status === 200 ? projections.json.items : null,
        ready: ready.status,
        down:
          ready.status === 200
            ? []
            : Object.entries(ready.json?.components ?? {})
                .filter(([, state]) => state !== 'up')
                .map(([name]) => name),
      });
      await sleep(Math.max(0, SAMPLE_MS - (performance.now() - started)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

function summarise(samples) {
  const byName = new Map();
  for (const sample of samples) {
    for (const p of sample.items ?? []) {
      let s = byName.get(p.name);
      if (!s) {
        s = { name: p.name, kind: p.kind, lagEvents: [], lagMs: [], capped: false, statuses: new Map() };
        byName.set(p.name, s);
      }
      s.lagEvents.push(p.lagEvents);
      s.lagMs.push(p.lagMs);
      s.capped ||= p.lagEventsCapped;
      s.statuses.set(p.status, (s.statuses.get(p.status) ?? 0) + 1);
    }
  }
  const gaps = samples.slice(1).map((s, i) => s.at - samples[i].at);
  return {
    samples: samples.length,
    failed: samples.filter((s) => s.items === null).length,
    meanIntervalMs: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN,
    maxIntervalMs: gaps.length ? Math.max(...gaps) : NaN,
    notReady: samples.filter((s) => s.ready !== 200).length,
    down: [...new Set(samples.flatMap((s) => s.down))],
    projections: [...byName.values()].map((s) => ({
      name: s.name,
      kind: s.kind,
      capped: s.capped,
      statuses: Object.fromEntries(s.statuses),
      lagEvents: {
        p50: percentile(s.lagEvents, 50),
        p99: percentile(s.lagEvents, 99),
        max: percentile(s.lagEvents, 100),
      },
      lagMs: { p50: percentile(s.lagMs, 50), p99: percentile(s.lagMs, 99), max: percentile(s.lagMs, 100) },
    })),
  };
}

async function sustainedRun(variant, tools) {
  const { log, startService, stopService, listProducts, seedCarts, runLoad, verifyCarts } = tools;
  const database = `bench_sustained_${randomUUID().slice(0, 8)}`;
  log(`sustained: cache ${variant.name}: starting the service (read store: database ${database})`);
  const service = await startService({
    env: { MONGODB_URI: withDatabase(tools.mongoUri, database), ...variant.env },
  });
  try {
    await listProducts(service);
    log(`sustained: cache ${variant.name}: opening ${tools.carts} carts`);
    const seedStarted = performance.now();
    const carts = await seedCarts(service, tools.carts);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // The lag measured must be the load's, not what opening the carts left behind.
    const settle = await caughtUp(service, tools, 300_000, `cache ${variant.name}`);
    if (!settle.done) throw new Error('the projections did not catch up with the carts opened in 5 min');

    log(`sustained: cache ${variant.name}: ${tools.rate}/s for ${tools.seconds} s`);
    const meter = cpuMeter({
      service: () => [service.child.pid],
      ferretdb: process.env.FERRETDB_PID ? () => [Number(process.env.FERRETDB_PID)] : null,
      postgres: process.env.POSTGRES_URL
        ? postgresProcesses(process.env.POSTGRES_URL, process.env.POSTGRES_DIR)
        : null,
    });
    const loadBefore = loadavg()[0];
    const sampling = sampler(service, tools);
    meter.start();
    const load = await runLoad(service, carts, CONNECTIONS, tools.seconds, tools.rate);
    const cpu = meter.stop();
    const samples = await sampling.stop();
    const loadAfter = loadavg()[0];
    const drain = await caughtUp(service, tools, DRAIN_MS, `cache ${variant.name}`);
    const { json: end } = await tools.call(
      service,
      'GET',
      '/admin/projections',
      undefined,
      tools.operatorToken,
    );
    await sleep(500); // requests autocannon abandoned at the end may still be running in the service
    const verification = await verifyCarts(service, carts, [load]);
    const percent = (ms) => (ms === null || ms === undefined ? null : (ms / (load.duration * 1000)) * 100);
    return {
      variant,
      seedSeconds,
      settleSeconds: settle.seconds,
      load,
      achieved: load['2xx'] / load.duration,
      cpu: {
        service: percent(cpu.service),
        ferretdb: percent(cpu.ferretdb),
        postgres: percent(cpu.postgres),
      },
      loadavg: [loadBefore, loadAfter],
      lag: summarise(samples),
      drain,
      freshness: Object.fromEntries((end?.items ?? []).map((p) => [p.name, p.freshness])),
      verification,
      serviceErrors: service.stderr.lines,
    };
  } finally {
    await stopService(service);
    await dropDatabase(tools.mongoUri, database).catch(() => undefined);
  }
}

export async function runSustainedBench(tools) {
  const mongoUri = process.env.MONGODB_URI || undefined;
  if (!mongoUri)
    return {
      skipped:
        'MONGODB_URI is not set (`FERRETDB_BACKEND=postgresql scripts/ferretdb.sh start` gives FerretDB on PostgreSQL, `scripts/ferretdb.sh start` on SQLite)',
    };
  const all = { ...tools, mongoUri };
  // The service's own default, not a copy of it; '' counts as unset, so a value in this shell is not inherited.
  const { loadConfig } = await importDist(tools.root, 'config/app-config.js');
  const cacheDefault = loadConfig({ NODE_ENV: 'development' }).readSide.documentCacheSize;
  const variants = [
    {
      name: 'off',
      label: 'before: off (`PROJECTION_CACHE_DOCUMENTS=0`)',
      env: { PROJECTION_CACHE_DOCUMENTS: '0' },
    },
    {
      name: 'default',
      label: `after: default (${cacheDefault.toLocaleString('en-US')} documents per projection)`,
      env: { PROJECTION_CACHE_DOCUMENTS: '' },
    },
  ];
  const runs = [];
  for (const variant of variants) runs.push(await sustainedRun(variant, all));
  return {
    runs,
    mongo: await describeMongo(mongoUri),
    seconds: tools.seconds,
    rate: tools.rate,
    carts: tools.carts,
    correctnessFailed: runs.some((r) => r.verification.lost > 0 || r.verification.badCarts > 0),
  };
}

const percentCell = (value) => (value === null || value === undefined ? 'n/a' : `${Math.round(value)}`);
/** Catching up after the load: how long, and at how many events/s (from the lag at its start). */
const drainCell = ({ seconds, done, first, last }) => {
  const rate =
    seconds > 0 && Number.isFinite(first - last) ? ` (${Math.round((first - last) / seconds)} events/s)` : '';
  return done
    ? `${seconds.toFixed(1)}${rate}`
    : `not within ${Math.round(DRAIN_MS / 1000)} s: ${last} events left${rate}`;
};

export function sustainedTable(r) {
  if (r.skipped) return `### Sustained load on the MongoDB read store\n\nSkipped: ${r.skipped}.`;
  const out = [
    `### Sustained add-item load, read store on ${r.mongo}, event store embedded: ${r.seconds} s offered at ${r.rate.toLocaleString('en-US')}/s over ${r.carts.toLocaleString('en-US')} carts`,
    '',
    '| write-through cache | offered/s | achieved 2xx/s | target rate reached | p50 ms | p99 ms | non-2xx / errors | lost updates | samples (mean / max interval ms) | /health/ready not 200 | ever stalled | caught up after the load: s (events/s) | CPU % of a core: service / FerretDB / PostgreSQL | load average (1 min) before → after |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ];
  for (const run of r.runs) {
    const { load: m, lag } = run;
    const stalled = lag.projections.filter((p) => p.statuses.stalled > 0);
    out.push(
      `| ${run.variant.label} | ${r.rate.toLocaleString('en-US')} | ${Math.round(run.achieved)} | ` +
        `${run.achieved >= REACHED * r.rate ? 'yes' : 'no'} (${Math.round((run.achieved / r.rate) * 100)} %) | ` +
        `${fmt(m.latency.p50)} | ${fmt(m.latency.p99)} | ${m.non2xx} / ${m.errors} | ${run.verification.lost} | ` +
        `${lag.samples}${lag.failed ? ` (${lag.failed} failed)` : ''} (${Math.round(lag.meanIntervalMs)} / ${Math.round(lag.maxIntervalMs)}) | ` +
        `${lag.notReady}${lag.down.length ? ` (${lag.down.join(', ')} down)` : ''} | ` +
        `${stalled.length ? `yes: ${stalled.map((p) => `${p.name} (${p.statuses.stalled} samples)`).join(', ')}` : 'no'} | ` +
        `${drainCell(run.drain)} | ${percentCell(run.cpu.service)} / ${percentCell(run.cpu.ferretdb)} / ${percentCell(run.cpu.postgres)} | ` +
        `${run.loadavg[0].toFixed(1)} → ${run.loadavg[1].toFixed(1)} |`,
    );
  }
  out.push(
    '',
    '| write-through cache | projection | lag events p50 | p99 | max | lag ms p50 | p99 | max | statuses seen (samples) | append → applied p99 ms (service window at the end) | target: lag p99 ≤ 1 s, never stalled |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  );
  // Projections add-item does not feed: one line for them instead of a row each.
  const quiet = (p) =>
    p.lagEvents.max === 0 && Object.keys(p.statuses).every((status) => status === 'running');
  const idle = new Set(
    r.runs
      .flatMap((run) => run.lag.projections.map((p) => p.name))
      .filter((name) => r.runs.every((run) => run.lag.projections.every((p) => p.name !== name || quiet(p)))),
  );
  for (const run of r.runs) {
    for (const p of run.lag.projections) {
      if (idle.has(p.name)) continue;
      const ok = p.lagMs.p99 <= LAG_TARGET_MS && !(p.statuses.stalled > 0);
      out.push(
        `| ${run.variant.name} | ${p.name}${p.kind === 'process-manager' ? ' (process manager)' : ''} | ` +
          `${p.lagEvents.p50} | ${p.lagEvents.p99} | ${p.lagEvents.max}${p.capped ? '+' : ''} | ${p.lagMs.p50} | ${p.lagMs.p99} | ${p.lagMs.max} | ` +
          `${Object.entries(p.statuses)
            .map(([status, n]) => `${status} ${n}`)
            .join(', ')} | ${fmt(run.freshness[p.name]?.p99Ms ?? NaN)} | ${ok ? '✓' : '✗'} |`,
      );
    }
  }
  const rows = r.runs.map(
    (run) =>
      `${run.variant.name}: ${r.carts.toLocaleString('en-US')} carts opened in ${run.seedSeconds.toFixed(1)} s, projected ${run.settleSeconds.toFixed(1)} s later` +
      `${run.serviceErrors > 0 ? `; the service logged ${run.serviceErrors} stderr lines` : ''}`,
  );
  out.push(
    '',
    ...(idle.size > 0
      ? [
          `Not in the table: ${[...idle].join(', ')} — lag 0 and \`running\` in every sample (add-item is not among their event types).`,
          '',
        ]
      : []),
    `Offered: autocannon's overallRate over ${CONNECTIONS} connections, each request an add-item to a random cart (the http part's body); ` +
      `"target rate reached" means at least ${REACHED * 100} % of it acknowledged (2xx) per second. ` +
      `Lag: \`GET /admin/projections\` sampled every ${SAMPLE_MS} ms during the load — lag events = matching events after the group's checkpoint, lag ms = the age of the oldest of them (0 when caught up); ` +
      'append → applied: the p50/p99 the service itself reports over its last 2,048 applications (`freshness`), read at the end of the wait after the load (when the projections had caught up, or when the wait gave up). ' +
      'Every projection runs in the one service process; the load generator, FerretDB and its store share the same two cores. ' +
      `The projections had caught up with the opened carts before the load started (${rows.join('; ')}).`,
  );
  return out.join('\n');
}
