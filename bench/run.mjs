#!/usr/bin/env node
/**
 * `npm run bench` (= `npm run build && node bench/run.mjs`): prints markdown tables on stdout (progress on
 * stderr) and exits 0; exits 1 when the benchmark could not run or a correctness check failed (lost or
 * duplicated updates, a cart whose lines disagree with its stream, a snapshot that folds differently).
 * Missing a performance target is reported in the table, not by the exit code.
 *
 * Part 1 (http): add-item commands over HTTP on the embedded store. Every scenario starts a FRESH service
 * (`node dist/main.js`, temp DATA_DIR, free port), lists the products it adds in the catalog (an operator's
 * requests: the shop sets the prices), seeds carts for one shopper, runs a warm-up and then the
 * measured autocannon run in a separate process (bench/load.mjs), then reads every cart back and checks
 * that the acknowledged adds are exactly the events in the streams (no lost update), then stops the service.
 * Part 2 (load): aggregate load time vs stream length, with and without snapshots (bench/aggregate-load.mjs).
 * Part audit: time travel (state at a revision / an instant, diffs) on a 100k-event stream and NDJSON replay
 * throughput, through HTTP on the built service (bench/audit.mjs).
 * Part recovery: seconds from the end of a read-store outage (a FerretDB of its own killed -9 under load; on the
 * embedded read store, every projection paused) until every projection's freshness budget holds again, with
 * the backlog (bench/recovery.mjs). The freshness part also prints each projection's p50/p99 freshness against
 * its budget, as the service measured it (bench/freshness.mjs).
 * Part postgres: add-item on PostgreSQL with 1 and 3 instances beside the embedded store (same load, CPU per
 * command, lost updates), failover seconds after kill -9 of a group's owner, and the rebuild rate from PostgreSQL
 * into the embedded read store and MongoDB (bench/postgres.mjs); skipped, saying so, without POSTGRES_URL (and its
 * MongoDB rows without MONGODB_URI).
 * Part sustained: a steady add-item rate for a minute with the read store on MongoDB (FerretDB), the projections'
 * write-through cache off and on: each projection's lag (events, ms) sampled every 250 ms, stalls, readiness
 * (bench/sustained.mjs); skipped, saying so, without MONGODB_URI.
 *
 * Environment:
 *   BENCH_ONLY=http,load,...    run only these parts (http, load, projection, freshness, rebuild, recovery,
 *                               audit, memory, postgres, sustained)
 *   POSTGRES_URL, POSTGRES_DIR  the postgres part's server (scripts/postgres.sh start exports both; POSTGRES_DIR
 *                               lets it count PostgreSQL's CPU)
 *   FERRETDB_PID                FerretDB's process, to count its CPU (scripts/ferretdb.sh start exports it)
 *   BENCH_PG_CARTS=1000         carts of the postgres part's add-item rows
 *   BENCH_FAILOVER_TRIALS=3     kills per lease in the postgres part's failover
 *   BENCH_PG_STEPS=add-item,failover,rebuild
 *                               the steps of the postgres part to run (rebuild: from PostgreSQL and from the embedded
 *                               store into the embedded read store and MONGODB_URI, 100k events)
 *   BENCH_SUSTAINED_SECONDS=60  seconds of the sustained part's load (each of its two runs)
 *   BENCH_SUSTAINED_RATE=1000   add-item commands/s it offers (achieved rate reported beside it)
 *   BENCH_SUSTAINED_CARTS=10000 carts it spreads them over
 *   FERRETDB_BACKEND=postgresql not read by the bench: scripts/ferretdb.sh's, to start FerretDB on PostgreSQL; the
 *                               tables say which backend FERRETDB_PID runs on
 *   BENCH_MEMORY_EVENTS=n       events in the store at the end of the memory part (default 1,000,000)
 *   BENCH_FRESHNESS_RATE=n      command rate of the freshness part (default: half the spread-c16 maximum
 *                               measured in this run, else 1500)
 *   BENCH_REBUILD_EVENTS=100000,1000000  store sizes the rebuild part rebuilds every projection from
 *   BENCH_REBUILD_MONGO_MAX=100000  the largest of them also rebuilt into MONGODB_URI (FerretDB: 1M is minutes)
 *   BENCH_RECOVERY_RATE=10      add-item/s during the recovery part (FerretDB on 2 shared cores keeps up with
 *                               about that; checkouts and price changes come on top)
 *   BENCH_RECOVERY_OUTAGE=20    seconds the read store is down (or the projections paused) in the recovery part
 *   MONGODB_URI                 also measure projections into this MongoDB-wire server
 *   BENCH_DURATION=10           seconds measured per scenario run (warm-up BENCH_WARMUP=2 s not counted)
 *   BENCH_RUNS=1                runs per scenario (fresh service each); the table shows medians
 *   BENCH_SCENARIOS=a,b         only these scenarios (names as in the table, e.g. spread-c16,hot-c16)
 *   BENCH_SERVICE_ENTRY=path    the service entry point to start (default dist/main.js)
 *   BENCH_BASE=<git rev>        compare: the http part becomes an A/B run (bench/ab.mjs). The revision is checked
 *                               out into a temporary `git worktree add --detach`, given this checkout's
 *                               node_modules (refused if its package-lock.json differs: nothing is installed),
 *                               built with its own `npm run build`; then every scenario runs on base and current
 *                               alternately, BENCH_RUNS rounds (default 2 here), and one table per scenario shows
 *                               2xx/s, p50, p99, CPU ms per command, RSS, lost updates and current ÷ base. Default
 *                               scenarios: spread-c1, spread-c16, spread-c64, hot-c16. The worktree is removed at
 *                               the end, on failure and on SIGINT/SIGTERM/SIGHUP.
 *   BENCH_PROFILE=1|<dir>       instead of every part: one run of spread-c64 (or the first BENCH_SCENARIOS) on a
 *                               service started with `node --cpu-prof --cpu-prof-dir=<dir>` (default
 *                               .cache/profiles/<time>/, kept), then the top ten functions by self time of the
 *                               samples taken during the measured load (bench/profile.mjs; `node
 *                               bench/profile.mjs <file.cpuprofile> [n]` reads a profile again).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { abTable, prepareBase, runAb } from './ab.mjs';
import { fmt, percentile, runAggregateLoadBench } from './aggregate-load.mjs';
import { auditTable, runAuditBench } from './audit.mjs';
import {
  FRESHNESS_ROWS_NOTE,
  SIDE_PRODUCTS,
  freshnessRows,
  freshnessRowsTable,
  freshnessSnapshot,
  projectionStatus,
  sideTraffic,
} from './freshness.mjs';
import { memoryTable, runMemoryBench } from './memory.mjs';
import { postgresTable, runPostgresBench, STEPS as PG_STEP_NAMES } from './postgres.mjs';
import { projectionTable, runProjectionBench } from './projections.mjs';
import { rebuildSizes, rebuildTable, runRebuildBench } from './rebuild.mjs';
import { recoveryTable, runRecoveryBench } from './recovery.mjs';
import { runSustainedBench, sustainedTable } from './sustained.mjs';
import { profileTable, topSelfTime } from './profile.mjs';
import { signJwt, freePort, rssMegabytes, cpuMs } from './common.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;

function numberFromEnv(name, fallback, { integer = false, min = 0 } = {}) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
  }
  return value;
}

const DURATION = numberFromEnv('BENCH_DURATION', 10, { min: 1 });
const WARMUP = numberFromEnv('BENCH_WARMUP', 2, { min: 0 });
const RUNS = numberFromEnv('BENCH_RUNS', 1, { integer: true, min: 1 });
const PARTS = [
  'http',
  'load',
  'projection',
  'freshness',
  'rebuild',
  'recovery',
  'audit',
  'memory',
  'postgres',
  'sustained',
];
const ONLY = (env.BENCH_ONLY?.trim() || PARTS.join(',')).split(',').map((p) => p.trim());
for (const part of ONLY)
  if (!PARTS.includes(part)) throw new Error(`BENCH_ONLY=${env.BENCH_ONLY}: parts are ${PARTS.join(', ')}`);
const FRESHNESS_RATE = env.BENCH_FRESHNESS_RATE
  ? numberFromEnv('BENCH_FRESHNESS_RATE', 1500, { min: 1 })
  : undefined;
const REBUILD_EVENTS = rebuildSizes(env.BENCH_REBUILD_EVENTS, [100_000, 1_000_000]);
const REBUILD_MONGO_MAX = numberFromEnv('BENCH_REBUILD_MONGO_MAX', 100_000, { integer: true, min: 0 });
const RECOVERY_RATE = numberFromEnv('BENCH_RECOVERY_RATE', 10, { min: 1 });
const RECOVERY_OUTAGE = numberFromEnv('BENCH_RECOVERY_OUTAGE', 20, { min: 3 });
const MEMORY_EVENTS = numberFromEnv('BENCH_MEMORY_EVENTS', 1_000_000, { integer: true, min: 1 });
const PG_CARTS = numberFromEnv('BENCH_PG_CARTS', 1000, { integer: true, min: 1 });
const FAILOVER_TRIALS = numberFromEnv('BENCH_FAILOVER_TRIALS', 3, { integer: true, min: 1 });
const PG_STEPS = (env.BENCH_PG_STEPS?.trim() || PG_STEP_NAMES.join(',')).split(',').map((s) => s.trim());
for (const step of PG_STEPS)
  if (!PG_STEP_NAMES.includes(step))
    throw new Error(`BENCH_PG_STEPS=${env.BENCH_PG_STEPS}: steps are ${PG_STEP_NAMES.join(', ')}`);
const SUSTAINED_SECONDS = numberFromEnv('BENCH_SUSTAINED_SECONDS', 60, { min: 1 });
const SUSTAINED_RATE = numberFromEnv('BENCH_SUSTAINED_RATE', 1000, { min: 1 });
const SUSTAINED_CARTS = numberFromEnv('BENCH_SUSTAINED_CARTS', 10_000, { integer: true, min: 1 });
const ONLY_SCENARIOS = env.BENCH_SCENARIOS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const SECRET = `bench-secret-${randomUUID()}`;
/** The service refuses to start outside development without one (≥ 32 characters); nothing is paid here. */
const PAYMENT_WEBHOOK_SECRET = `bench-payment-webhook-secret-${randomUUID()}`;
const SHOPPER = `bench-shopper-${randomUUID().slice(0, 8)}`;
const SKUS = 90; // < 100 lines per cart; every sku listed at one price before the load (see listProducts)

const TARGET_SPREAD = { rps: 2000, p99: 25 };
const TARGET_HOT = { rps: 1000 };
const SCENARIOS = [
  { name: 'spread-c1', label: '1,000 carts', carts: 1000, connections: 1 },
  { name: 'spread-c16', label: '1,000 carts', carts: 1000, connections: 16, target: TARGET_SPREAD },
  { name: 'spread-c64', label: '1,000 carts', carts: 1000, connections: 64, target: TARGET_SPREAD },
  { name: 'hot-c16', label: '10 hot carts', carts: 10, connections: 16, target: TARGET_HOT },
  { name: 'hot-c64', label: '10 hot carts', carts: 10, connections: 64 },
];

const log = (line) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed on any exit path.

const children = new Set();
const tempDirs = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAllChildren() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => {
  killAllChildren();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    killAllChildren();
    process.exit(code);
  });
}

function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Service

const TOKEN = signJwt({ sub: SHOPPER, roles: ['shopper'] }, SECRET);
const OPERATOR_TOKEN = signJwt({ sub: 'bench-operator', roles: ['operator'] }, SECRET);

/** Keeps the last `max` characters of a stream, and counts its lines. */
function tail(stream, max = 32_768) {
  const state = { text: '', lines: 0 };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    state.lines += chunk.split('\n').length - 1;
    state.text = (state.text + chunk).slice(-max);
  });
  return state;
}

/**
 * Starts the built service on a fresh data directory. `prepare(dataDir)` runs before the process starts
 * (e.g. to write events into its store); `extraEnv` adds variables. `entry`/`cwd` start another build (the
 * A/B comparison's base worktree), `execArgv` adds node options (the profile's --cpu-prof).
 */
async function startService({ env: extraEnv = {}, prepare, entry, cwd = ROOT, execArgv = [] } = {}) {
  const mainJs = entry
    ? resolve(entry)
    : env.BENCH_SERVICE_ENTRY
      ? resolve(env.BENCH_SERVICE_ENTRY)
      : join(ROOT, 'dist', 'main.js');
  if (!existsSync(mainJs))
    throw new Error(`${mainJs} is missing: run \`npm run build\` first (npm run bench does)`);
  const dataDir = await mkdtemp(join(os.tmpdir(), 'ordertrail-bench-'));
  tempDirs.add(dataDir);
  if (prepare) await prepare(dataDir);
  const port = await freePort();
  // The embedded stores unless `extraEnv` names others: the stores this shell exports are not inherited (with
  // POSTGRES_URL exported for the postgres part, the http part would otherwise run on PostgreSQL).
  const inherited = { ...env };
  for (const name of [
    'EVENTSTORE_CONNECTION_STRING',
    'MONGODB_URI',
    'POSTGRES_URL',
    'POSTGRES_SCHEMA',
    'INSTANCE_ID',
  ])
    delete inherited[name];
  const childEnv = {
    ...inherited,
    NODE_ENV: 'test',
    AUTH_JWT_SECRET: SECRET,
    PAYMENT_WEBHOOK_SECRET,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    ...extraEnv,
  };
  const child = track(
    spawn(process.execPath, [...execArgv, mainJs], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  const stdout = tail(child.stdout);
  const stderr = tail(child.stderr);
  const service = { child, dataDir, base: `http://127.0.0.1:${port}`, stdout, stderr };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(
        `the service exited during start (${child.exitCode ?? child.signalCode}):\n${stderr.text || stdout.text}`,
      );
    }
    try {
      const response = await fetch(`${service.base}/health/live`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return service;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopService(service);
      throw new Error(`the service did not answer /health/live within 30 s:\n${stderr.text || stdout.text}`);
    }
    await sleep(100);
  }
}

/** SIGTERM, then wait (SIGKILL after 10 s). Returns whether it stopped on its own. */
async function stopService(service) {
  const { child } = service;
  let graceful = true;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    graceful = await waitForExit(child, 10_000);
    if (!graceful) {
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  }
  await rm(service.dataDir, { recursive: true, force: true });
  tempDirs.delete(service.dataDir);
  return { graceful, exitCode: child.exitCode, signal: child.signalCode };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers (seeding and verification only; the load itself comes from bench/load.mjs)

async function call(service, method, path, body, token = TOKEN) {
  const response = await fetch(`${service.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * The shop sets the prices: the operator lists every product the load adds (`sku-<n>` at 100 + n cents, see
 * bench/load.mjs) and `extra` ones, before anything is measured.
 */
async function listProducts(service, extra = []) {
  const products = [
    ...Array.from({ length: SKUS }, (_, n) => ({
      sku: `sku-${n}`,
      name: `Bench item ${n}`,
      unitPrice: 100 + n,
    })),
    ...extra,
  ];
  await pool(products, 16, async ({ sku, name, unitPrice }) => {
    const body = { sku, name, prices: { EUR: unitPrice } };
    const { status, text } = await call(service, 'POST', '/catalog/products', body, OPERATOR_TOKEN);
    if (status !== 201)
      throw new Error(`POST /catalog/products (${sku}) answered ${status}: ${text.slice(0, 500)}`);
  });
}

async function seedCarts(service, count) {
  return pool(Array.from({ length: count }), 16, async () => {
    const { status, json, text } = await call(service, 'POST', '/carts', { currency: 'EUR' });
    if (status !== 201 || typeof json?.id !== 'string')
      throw new Error(`POST /carts answered ${status}: ${text.slice(0, 500)}`);
    return json.id;
  });
}

/**
 * Runs bench/load.mjs in its own process and returns its JSON summary. Given several services (instances of one
 * deployment), the connections are spread over them, as a load balancer would.
 */
async function runLoad(target, carts, connections, duration, rate) {
  const services = Array.isArray(target) ? target : [target];
  const configFile = join(services[0].dataDir, `load-${randomUUID()}.json`);
  await writeFile(
    configFile,
    JSON.stringify({
      urls: services.map((service) => service.base),
      token: TOKEN,
      carts,
      skus: SKUS,
      connections,
      duration,
      rate,
    }),
  );
  const child = track(
    spawn(process.execPath, [join(ROOT, 'bench', 'load.mjs'), `@${configFile}`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const stdout = tail(child.stdout, 1_000_000);
  const stderr = tail(child.stderr);
  const finished = await waitForExit(child, (duration + 60) * 1000);
  if (!finished) {
    child.kill('SIGKILL');
    throw new Error(`bench/load.mjs did not finish within ${duration + 60} s`);
  }
  if (child.exitCode !== 0)
    throw new Error(`bench/load.mjs failed (${child.exitCode ?? child.signalCode}):\n${stderr.text}`);
  const line = stdout.text.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`bench/load.mjs printed no JSON result:\n${stdout.text}\n${stderr.text}`);
  }
}

/**
 * Reads every cart back. Each cart stream is CartOpened (revision 0) + one event per acknowledged add of
 * quantity 1, so Σ revision over the carts must equal the 2xx count (plus at most the requests autocannon
 * abandoned in flight when it stopped, whose outcome it never saw), and each cart's line quantities must
 * add up to its revision.
 */
async function verifyCarts(service, carts, loads) {
  const read = await pool(carts, 16, async (id) => {
    const { status, json, text } = await call(service, 'GET', `/carts/${id}?consistency=strong`);
    if (status !== 200) throw new Error(`GET /carts/${id} answered ${status}: ${text.slice(0, 500)}`);
    const revision = Number(json?.meta?.revision);
    const lines = json?.data?.lines ?? [];
    const quantity = lines.reduce((sum, line) => sum + Number(line.quantity), 0);
    return { revision, quantity };
  });
  const appended = read.reduce((sum, cart) => sum + cart.revision, 0);
  const badCarts = read.filter(
    (cart) => !Number.isInteger(cart.revision) || cart.quantity !== cart.revision,
  ).length;
  const acknowledged = loads.reduce((sum, load) => sum + load['2xx'], 0);
  const inFlight = loads.reduce((sum, load) => sum + Math.max(0, load.sent - load.completed), 0);
  const lost = Math.max(0, acknowledged - appended);
  const unacknowledged = Math.max(0, appended - acknowledged);
  const duplicated = Math.max(0, unacknowledged - inFlight);
  return { appended, acknowledged, inFlight, lost, unacknowledged, duplicated, badCarts };
}

// ---------------------------------------------------------------------------------------------------------
// Part 1: HTTP commands

async function runScenarioOnce(scenario, serviceOptions = {}) {
  const service = await startService(serviceOptions);
  let stopped;
  try {
    await listProducts(service);
    const carts = await seedCarts(service, scenario.carts);
    const loads = [];
    if (WARMUP > 0) loads.push(await runLoad(service, carts, scenario.connections, WARMUP));
    const cpuBefore = cpuMs(service.child.pid);
    const from = Number(process.hrtime.bigint() / 1000n);
    const measured = await runLoad(service, carts, scenario.connections, DURATION);
    // Read before the settle pause: CPU per command counts what the service spent while the load ran, the
    // read side's work on it included (it shares the process); what it finishes after the load is not counted.
    const cpuAfter = cpuMs(service.child.pid);
    const window = { from, to: Number(process.hrtime.bigint() / 1000n) };
    loads.push(measured);
    await sleep(500); // requests autocannon abandoned at the end may still be running in the service
    const rss = rssMegabytes(service.child.pid);
    const verification = await verifyCarts(service, carts, loads);
    return {
      measured,
      warmup: loads.length > 1 ? loads[0] : undefined,
      verification,
      rss,
      window,
      cpuPerCommand:
        cpuBefore === null || cpuAfter === null || measured['2xx'] === 0
          ? NaN
          : (cpuAfter - cpuBefore) / measured['2xx'],
      serviceErrors: service.stderr,
    };
  } finally {
    stopped = await stopService(service);
    if (!stopped.graceful) log(`${scenario.name}: the service ignored SIGTERM for 10 s and was killed`);
    // NestJS's shutdown hooks re-raise the signal after closing the app, so "killed by SIGTERM" is normal.
    else if (stopped.exitCode !== 0 && stopped.signal !== 'SIGTERM')
      log(`${scenario.name}: the service exited with ${stopped.exitCode ?? stopped.signal} on SIGTERM`);
  }
}

function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/**
 * Logs one scenario run, adds what went wrong to `notes`, and returns whether a correctness check failed
 * (lost or duplicated updates, a cart whose lines disagree with its stream).
 */
function reviewRun(label, result, notes) {
  let correctnessFailed = false;
  const m = result.measured;
  const v = result.verification;
  log(
    `http: ${label}: ${Math.round(m.requestsPerSecondMean)} req/s, p50 ${m.latency.p50} ms, p99 ${m.latency.p99} ms, ` +
      `non-2xx ${m.non2xx}, errors ${m.errors}; appended ${v.appended} / acknowledged ${v.acknowledged} (in flight ${v.inFlight})`,
  );
  for (const [phase, load] of [
    ['warm-up', result.warmup],
    ['measured', m],
  ]) {
    if (!load) continue;
    const where = `${label} (${phase})`;
    if (load.non2xx > 0)
      notes.push(
        `${where}: status codes ${JSON.stringify(load.statusCodeStats)}; e.g. ${[...new Set(load.failureSamples)].join(' | ')}`,
      );
    if (load.errors > 0)
      notes.push(
        `${where}: ${load.errors} errors (${load.timeouts} timeouts), e.g. ${[...new Set(load.errorSamples)].join(', ')}`,
      );
  }
  if (v.lost > 0)
    notes.push(
      `${label}: LOST UPDATES: ${v.acknowledged} adds acknowledged, only ${v.appended} in the streams`,
    );
  if (v.duplicated > 0)
    notes.push(`${label}: ${v.duplicated} events more than acknowledged + in-flight requests (duplicates?)`);
  if (v.badCarts > 0)
    notes.push(`${label}: ${v.badCarts} carts whose line quantities do not add up to their revision`);
  if (v.lost > 0 || v.duplicated > 0 || v.badCarts > 0) correctnessFailed = true;
  if (result.serviceErrors.lines > 0) {
    notes.push(
      `${label}: the service logged ${result.serviceErrors.lines} stderr lines, last: ${result.serviceErrors.text.trim().split('\n').slice(-3).join(' / ').slice(0, 600)}`,
    );
  }
  return correctnessFailed;
}

async function runHttpPart() {
  const scenarios = ONLY_SCENARIOS ? SCENARIOS.filter((s) => ONLY_SCENARIOS.includes(s.name)) : SCENARIOS;
  if (scenarios.length === 0)
    throw new Error(`BENCH_SCENARIOS matched none of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const rows = [];
  const notes = [];
  let correctnessFailed = false;
  for (const scenario of scenarios) {
    const runs = [];
    for (let run = 1; run <= RUNS; run++) {
      log(
        `http: ${scenario.name} run ${run}/${RUNS} (${scenario.carts} carts, c=${scenario.connections}, ${WARMUP}+${DURATION} s)`,
      );
      const result = await runScenarioOnce(scenario);
      runs.push(result);
      if (reviewRun(`${scenario.name} run ${run}`, result, notes)) correctnessFailed = true;
    }
    const pick = (f) => median(runs.map(f));
    const worst = (f) => Math.max(...runs.map(f));
    const row = {
      scenario,
      rps: pick((r) => r.measured.requestsPerSecondMean),
      okPerSecond: pick((r) => r.measured['2xx'] / r.measured.duration),
      p50: pick((r) => r.measured.latency.p50),
      p99: pick((r) => r.measured.latency.p99),
      non2xx: worst((r) => r.measured.non2xx),
      errors: worst((r) => r.measured.errors),
      timeouts: worst((r) => r.measured.timeouts),
      lost: worst((r) => r.verification.lost),
      unacknowledged: worst((r) => r.verification.unacknowledged),
      inFlight: worst((r) => r.verification.inFlight),
      rss: pick((r) => r.rss),
    };
    rows.push(row);
  }
  return { rows, notes, correctnessFailed };
}

// ---------------------------------------------------------------------------------------------------------
// BENCH_BASE: the http scenarios on another commit and on this checkout, alternately (bench/ab.mjs)

/** Without BENCH_SCENARIOS, the four profiles of issue 14's targets (hot-c64 is left out). */
const AB_SCENARIOS = ['spread-c1', 'spread-c16', 'spread-c64', 'hot-c16'];

async function runAbPart() {
  const names = ONLY_SCENARIOS ?? AB_SCENARIOS;
  const scenarios = SCENARIOS.filter((s) => names.includes(s.name));
  if (scenarios.length === 0)
    throw new Error(`BENCH_SCENARIOS matched none of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  // One round would be a single A then B: a drift between the two would read as a difference.
  const runs = env.BENCH_RUNS ? RUNS : 2;
  const base = await prepareBase({ root: ROOT, rev: env.BENCH_BASE.trim(), log });
  try {
    return await runAb({ base, scenarios, runs, runScenarioOnce, reviewRun, log });
  } finally {
    base.remove();
  }
}

// ---------------------------------------------------------------------------------------------------------
// BENCH_PROFILE: a V8 CPU profile of the service under add-item load (bench/profile.mjs reads it)

async function runProfilePart() {
  const [name] = ONLY_SCENARIOS ?? ['spread-c64'];
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario)
    throw new Error(`BENCH_SCENARIOS=${name}: scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  // Kept after the run, to open in Chrome DevTools (Performance) or to read again with bench/profile.mjs.
  const dir =
    env.BENCH_PROFILE === '1'
      ? join(ROOT, '.cache', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'))
      : resolve(env.BENCH_PROFILE);
  await mkdir(dir, { recursive: true });
  log(`profile: ${scenario.name} (${WARMUP}+${DURATION} s) with --cpu-prof into ${dir}`);
  // The service profiles its whole life; the table counts the measured load's samples only (result.window).
  const result = await runScenarioOnce(scenario, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const notes = [];
  if (reviewRun(`${scenario.name} profiled`, result, notes)) notes.push('CORRECTNESS CHECK FAILED');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0)
    throw new Error(
      `no .cpuprofile in ${dir}: the service did not exit on its own (it writes the profile at exit)`,
    );
  // One profile per thread (CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile): the main thread (id 0) first.
  const threadOf = (f) => Number(f.split('.').at(-3));
  const m = result.measured;
  return [
    ...files
      .sort((a, b) => threadOf(a) - threadOf(b))
      .flatMap((f) => [
        profileTable(
          topSelfTime(join(dir, f), 10, ROOT, result.window),
          `CPU profile of the service, ${scenario.name}, ${threadOf(f) === 0 ? 'main thread (HTTP, commands, appends)' : `worker thread ${threadOf(f)}`}`,
        ),
        '',
      ]),
    `Under the load: ${Math.round(m['2xx'] / m.duration)} 2xx/s, p50 ${m.latency.p50} ms, p99 ${m.latency.p99} ms, ` +
      `${Number.isFinite(result.cpuPerCommand) ? result.cpuPerCommand.toFixed(3) : '—'} CPU ms per command (profiling adds some).`,
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Part 4: write → read-model freshness at a steady command rate

/**
 * While autocannon offers a steady add-item load (half the maximum), a probe adds an item to a cart of its
 * own every 20 ms and immediately reads it back with `?minRevision=<the revision it wrote>`: the time that
 * read takes is how long the write took to reach the read model (the server answers as soon as the
 * projection has written it; it includes one loopback round trip).
 */
async function runFreshnessPart(rate) {
  const service = await startService();
  try {
    const probes = Array.from({ length: 80 }, (_, n) => ({ sku: `probe-${n}`, name: 'probe', unitPrice: 1 }));
    await listProducts(service, [...probes, ...SIDE_PRODUCTS]);
    const carts = await seedCarts(service, 1000);
    const [probeCart] = await seedCarts(service, 1);
    await caughtUp(service, 30_000);
    const before = await freshnessSnapshot(service, call, OPERATOR_TOKEN);
    const side = sideTraffic({ service, call, operatorToken: OPERATOR_TOKEN, ...FRESHNESS_SIDE_TRAFFIC });
    const samples = [];
    let stale = 0;
    let stop = false;
    const probe = (async () => {
      for (let i = 0; !stop; i++) {
        const added = await call(service, 'POST', `/carts/${probeCart}/items`, {
          sku: probes[i % probes.length].sku,
          quantity: 1,
        });
        if (added.status !== 200) throw new Error(`probe add-item answered ${added.status}: ${added.text}`);
        const started = performance.now();
        const read = await call(service, 'GET', `/carts/${probeCart}?minRevision=${added.json.revision}`);
        samples.push(performance.now() - started);
        if (read.json?.meta?.stale !== false) stale++;
        await sleep(20);
      }
    })();
    const load = await runLoad(service, carts, 32, DURATION, Math.round(rate));
    stop = true;
    await probe;
    const sideCounts = await side.stop();
    // Events still waiting when the load stops are measured when they are applied: count them too.
    await caughtUp(service, 60_000);
    const projections = freshnessRows(before, await freshnessSnapshot(service, call, OPERATOR_TOKEN));
    return {
      projections,
      side: sideCounts,
      rate,
      achieved: load['2xx'] / load.duration,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: percentile(samples, 100),
      samples: samples.length,
      stale,
      non2xx: load.non2xx,
    };
  } finally {
    await stopService(service);
  }
}

/** Every projection's lag is 0 (all it was sent has been applied), or `ms` have passed: then it throws. */
async function caughtUp(service, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = await projectionStatus(service, call, OPERATOR_TOKEN);
    if ([...status.values()].every((p) => p.lagEvents === 0)) return;
    if (Date.now() > deadline) throw new Error(`the projections did not catch up within ${ms / 1000} s`);
    await sleep(100);
  }
}

/** Checkouts and price changes during the freshness run, so that every projection has something to apply. */
const FRESHNESS_SIDE_TRAFFIC = { checkoutsPerSecond: 5, repricesPerSecond: 2 };

function freshnessTable(r) {
  return [
    `### Write → read-model freshness (embedded stores, ${DURATION} s at a steady ${Math.round(r.rate)} add-item/s)`,
    '',
    '| offered commands/s | achieved 2xx/s | probe samples | freshness p50 ms | p99 ms | max ms | stale answers | target |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${Math.round(r.rate)} | ${Math.round(r.achieved)} | ${r.samples} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.stale} | ${r.p99 <= 50 && r.stale === 0 ? '✓' : '✗'} (p99 ≤ 50 ms) |`,
    '',
    'Freshness = time of `GET /carts/:id?minRevision=<revision just written>` issued right after the write was acknowledged (includes one loopback round trip).',
    '',
    `#### Freshness per projection, as the service measured it, in the same run`,
    '',
    freshnessRowsTable(r.projections),
    '',
    `Besides the add-item load: ${r.side.checkouts} checkouts (${FRESHNESS_SIDE_TRAFFIC.checkoutsPerSecond}/s: a cart opened, one item, checked out) and ${r.side.reprices} price changes ` +
      `(${FRESHNESS_SIDE_TRAFFIC.repricesPerSecond}/s), so that orders, order_search, order_timeline and products apply events too` +
      `${r.side.failed ? `; ${r.side.failed} of them failed (${r.side.failureSamples.join(' | ')})` : ''}. ${FRESHNESS_ROWS_NOTE}`,
  ].join('\n');
}

function verdict(row) {
  const { target } = row.scenario;
  if (!target) return '—';
  const misses = [];
  if (row.okPerSecond < target.rps) misses.push(`< ${target.rps}/s`);
  if (target.p99 !== undefined && row.p99 > target.p99) misses.push(`p99 > ${target.p99} ms`);
  if (row.errors > 0 || row.non2xx > 0) misses.push('errors');
  if (row.lost > 0) misses.push('lost updates');
  return misses.length ? `✗ (${misses.join(', ')})` : '✓';
}

function httpTable({ rows }) {
  const out = [
    `### Add-item over HTTP (embedded store, synchronous=FULL appends; ${DURATION} s measured after ${WARMUP} s warm-up; ${RUNS === 1 ? '1 run' : `median of ${RUNS} runs, worst counts`})`,
    '',
    '| scenario | carts | connections | req/s (mean) | 2xx/s | p50 ms | p99 ms | non-2xx | errors / timeouts | lost updates | service RSS MB | target |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const s = row.scenario;
    out.push(
      `| ${s.name} | ${s.label} | ${s.connections} | ${Math.round(row.rps)} | ${Math.round(row.okPerSecond)} | ${fmt(row.p50)} | ${fmt(row.p99)} | ` +
        `${row.non2xx} | ${row.errors} / ${row.timeouts} | ${row.lost} | ${Number.isFinite(row.rss) ? Math.round(row.rss) : '—'} | ${verdict(row)} |`,
    );
  }
  out.push('');
  for (const row of rows) {
    const extra =
      row.unacknowledged > 0
        ? ` (${row.unacknowledged} appends whose response autocannon dropped at stop; ≤ ${row.inFlight} in flight)`
        : '';
    out.push(`- ${row.scenario.name}: lost updates: ${row.lost}${extra}`);
  }
  out.push(
    '',
    'Targets (docs/benchmarks.md): 1,000 carts at c=16/c=64 ≥ 2,000 commands/s, p99 ≤ 25 ms, 0 errors; 10 hot carts at c=16 ≥ 1,000 commands/s, 0 lost updates.',
    'Lost updates: after each scenario every cart is read back (GET /carts/:id); Σ(meta.revision) = events appended by add-item must equal the 2xx add-item responses of the warm-up + measured runs.',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Part 2: aggregate load

function loadTable({ rows, notes }) {
  const out = [
    '### Aggregate load time vs stream length (embedded store, fresh AggregateStore per load, cacheSize 0)',
    '',
    '| events in stream | snapshot at | with snapshots p50 ms | with p99 ms | without snapshots p50 ms | without p99 ms | loads (with / without) |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    out.push(
      `| ${row.size.toLocaleString('en-US')} | ${row.snapshotAt} | ${fmt(row.with.p50)} | ${fmt(row.with.p99)} | ${fmt(row.without.p50)} | ${fmt(row.without.p99)} | ${row.with.n} / ${row.without.n} |`,
    );
  }
  const smallest = rows.find((r) => r.size === 100);
  const largest = rows.find((r) => r.size === 100_000);
  out.push('');
  if (smallest && largest) {
    const ratio = largest.with.p50 / smallest.with.p50;
    out.push(
      `With-snapshot ratio 100k / 100 (p50): **${ratio.toFixed(2)}×** (target ≤ 1.5×) ${ratio <= 1.5 ? '✓' : '✗'}`,
    );
  }
  out.push(
    'Each stream ends on a multiple of 100 events, so its last snapshot is at its last event and "with snapshots" reads the snapshot plus an empty tail (at most 99 tail events in general).',
  );
  out.push(
    '"Without snapshots" loads through a copy of the cart aggregate with stateSchemaVersion 999, so every snapshot is ignored and the whole stream is folded.',
  );
  for (const note of notes) out.push(`- ${note}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------

function machineInfo() {
  const cpus = os.cpus();
  return [
    '## ordertrail benchmark',
    '',
    `Node ${process.version} on ${os.platform()} ${os.release()} (${os.arch()}), ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM; load generator (autocannon) on the same machine, over loopback. ${new Date().toISOString()}`,
    '',
    'Reproduce: `npm run bench` (every part), or `BENCH_ONLY=http,load,projection,freshness,rebuild npm run bench` for some;',
    '`BENCH_DURATION=<s>` (default 10), `BENCH_RUNS=<n>` (default 1, medians), `BENCH_SCENARIOS=spread-c16,hot-c16`.',
  ].join('\n');
}

async function main() {
  const started = Date.now();
  const sections = [machineInfo()];
  let failed = false;

  if (env.BENCH_PROFILE) {
    try {
      sections.push(await runProfilePart());
    } catch (error) {
      failed = true;
      sections.push(`### CPU profile\n\nFAILED: ${error?.stack ?? error}`);
      log(`profile failed: ${error?.stack ?? error}`);
    }
    process.stdout.write(`${sections.join('\n\n')}\n`);
    killAllChildren();
    process.exitCode = failed ? 1 : 0;
    return;
  }

  /**
   * Runs part `name` when BENCH_ONLY names it (and `when` holds): the sections it returns are printed, a failed
   * correctness check fails the run, and a part that throws prints FAILED under its `title` and fails it too.
   */
  async function part(name, title, run, when = true) {
    if (!ONLY.includes(name) || !when) return;
    try {
      const result = await run();
      sections.push(...result.sections);
      if (result.correctnessFailed) failed = true;
    } catch (error) {
      failed = true;
      sections.push(`### ${title}\n\nFAILED: ${error?.stack ?? error}`);
      log(`${name} part failed: ${error?.stack ?? error}`);
    }
  }
  /** What the parts that start the service use to drive it. */
  const service = {
    startService,
    stopService,
    listProducts,
    seedCarts,
    runLoad,
    verifyCarts,
    call,
    operatorToken: OPERATOR_TOKEN,
  };
  const common = { root: ROOT, log, onTempDir: (dir) => tempDirs.add(dir) };

  let maxRate;
  await part(
    'http',
    'A/B: add-item over HTTP',
    async () => {
      const ab = await runAbPart();
      return { sections: [abTable(ab, { duration: DURATION, warmup: WARMUP })], ...ab };
    },
    Boolean(env.BENCH_BASE),
  );
  await part(
    'http',
    'Add-item over HTTP',
    async () => {
      const http = await runHttpPart();
      maxRate = http.rows.find((row) => row.scenario.name === 'spread-c16')?.okPerSecond;
      const notes = http.notes.length
        ? [['Notes (HTTP):', ...http.notes.map((n) => `- ${n}`)].join('\n')]
        : [];
      return { sections: [httpTable(http), ...notes], correctnessFailed: http.correctnessFailed };
    },
    !env.BENCH_BASE,
  );
  await part('load', 'Aggregate load time', async () => {
    const load = await runAggregateLoadBench(common);
    return {
      sections: [loadTable(load)],
      correctnessFailed: load.notes.some((n) => /DIFFERS|expected|NO snapshot|wrote snapshots/.test(n)),
    };
  });
  await part('projection', 'Projection throughput', async () => ({
    sections: [projectionTable(await runProjectionBench(common))],
  }));
  await part('freshness', 'Freshness', async () => {
    const rate = FRESHNESS_RATE ?? (maxRate ? maxRate / 2 : 1500);
    log(`freshness: ${Math.round(rate)} commands/s for ${DURATION} s`);
    return { sections: [freshnessTable(await runFreshnessPart(rate))] };
  });
  await part('rebuild', 'Projection rebuild', async () => ({
    sections: [
      rebuildTable(
        await runRebuildBench({
          ...common,
          ...service,
          duration: Math.max(3, Math.min(DURATION, 10)),
          sizes: REBUILD_EVENTS,
          mongoMax: REBUILD_MONGO_MAX,
        }),
      ),
    ],
  }));
  await part('recovery', 'Recovery after a read-store outage', async () => {
    const recovery = await runRecoveryBench({
      ...common,
      ...service,
      rate: RECOVERY_RATE,
      outageSeconds: RECOVERY_OUTAGE,
    });
    if (recovery.skipped) log(`recovery: MongoDB row skipped: ${recovery.skipped}`);
    return { sections: [recoveryTable(recovery)] };
  });
  await part('audit', 'Audit (time travel, replay)', async () => {
    const audit = await runAuditBench({ ...common, onChild: (child) => track(child) });
    return { sections: [auditTable(audit)], correctnessFailed: audit.correctnessFailed };
  });
  await part('memory', 'Service memory', async () => ({
    sections: [
      memoryTable(await runMemoryBench({ ...common, ...service, rssMegabytes, events: MEMORY_EVENTS })),
    ],
  }));
  await part('postgres', 'PostgreSQL event store', async () => {
    const result = await runPostgresBench({
      ...common,
      ...service,
      steps: PG_STEPS,
      duration: DURATION,
      warmup: WARMUP,
      carts: PG_CARTS,
      trials: FAILOVER_TRIALS,
    });
    if (result.skipped) log(`postgres part skipped: ${result.skipped}`);
    return { sections: [postgresTable(result)], correctnessFailed: result.correctnessFailed };
  });
  await part('sustained', 'Sustained load on the MongoDB read store', async () => {
    const result = await runSustainedBench({
      ...common,
      ...service,
      seconds: SUSTAINED_SECONDS,
      rate: SUSTAINED_RATE,
      carts: SUSTAINED_CARTS,
    });
    if (result.skipped) log(`sustained part skipped: ${result.skipped}`);
    return { sections: [sustainedTable(result)], correctnessFailed: result.correctnessFailed };
  });

  sections.push(`_Total bench time ${Math.round((Date.now() - started) / 1000)} s._`);
  process.stdout.write(`${sections.join('\n\n')}\n`);
  killAllChildren();
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  log(error?.stack ?? String(error));
  killAllChildren();
  process.exit(1);
});
