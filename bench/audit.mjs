/**
 * Part `audit` of `npm run bench`: time travel and replay, through HTTP on the built service.
 *
 * One embedded store (temp dir) holds a 100,000-event cart stream written through AggregateStore.append in
 * commands of 100 events (so its snapshots — SNAPSHOT_EVERY 100, every one kept — are where the service would
 * write them) plus 2,000 small carts (10,000 events). Then, in this process, `AggregateStore.loadAt` at
 * random revisions (the fold alone). Then the service (`node dist/main.js`) starts on that directory; once it
 * is idle (projections caught up), sequential requests (c=1) measure:
 *   - GET /carts/:id/state?atRevision=<random revision of the 100k stream>
 *   - GET /carts/:id/state?asOf=<random instant between its first and last event>
 *   - GET /carts/:id/diff?from=<r>&to=<r + 1..100>
 * and streamed replays measure events/s: GET /audit/events (everything) and ?streamPrefix=cart-<id> (one
 * stream). Sampled answers are checked against an independent fold of the generated events.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { fmt, percentile } from './aggregate-load.mjs';
import { importDist, signJwt, freePort } from './common.mjs';

const STREAM_EVENTS = 100_000;
const SNAPSHOT_EVERY = 100;
const SMALL_CARTS = 2_000;
const SKUS = ['sku-a', 'sku-b', 'sku-c', 'sku-d'];
const TARGET_STATE_P50_MS = 10;

/** The i-th event of the big stream: opened, 4 items added, then quantity changes cycling 1..999. */
function bigStreamEvent(cartId, i) {
  if (i === 0) return { type: 'CartOpened', data: { cartId, customerId: 'bench-customer', currency: 'EUR' } };
  if (i <= SKUS.length) {
    const sku = SKUS[i - 1];
    return { type: 'ItemAdded', data: { sku, name: `Item ${sku}`, quantity: 1, unitPrice: 100 * i } };
  }
  return { type: 'ItemQuantityChanged', data: { sku: SKUS[i % SKUS.length], quantity: (i % 999) + 1 } };
}

function metadata(command) {
  return {
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: 'bench-customer',
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
    command,
  };
}

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Waits until the service is idle (projections caught up): under 5 % of a core for a second. */
async function settled(pid, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let before = cpuTicks(pid);
  for (;;) {
    await sleep(1000);
    const now = cpuTicks(pid);
    if (now - before <= 5) return;
    if (Date.now() > deadline) throw new Error('the service did not become idle within 120 s');
    before = now;
  }
}

function summarize(times) {
  return { n: times.length, p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** Runs `fn` until `budgetMs` is spent (at least `min`, at most `max` times); returns each call's ms. */
async function timed(fn, { min = 50, max = 2000, budgetMs = 5000 } = {}) {
  for (let i = 0; i < 20; i++) await fn(i); // warm-up
  const times = [];
  const started = performance.now();
  while (times.length < max && (times.length < min || performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    await fn(times.length);
    times.push(performance.now() - t0);
  }
  return times;
}

/** A deterministic PRNG (mulberry32): the same revisions every run. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @param {{ root: string, log?: (line: string) => void, onTempDir?: (dir: string) => void,
 *           onChild?: (child: import('node:child_process').ChildProcess) => void }} options
 */
export async function runAuditBench({ root, log = () => {}, onTempDir = () => {}, onChild = () => {} }) {
  const { EmbeddedEventStore } = await importDist(root, 'event-store/embedded/embedded-event-store.js');
  const { AggregateStore } = await importDist(root, 'write-path/aggregate-store.js');
  const { cartAggregate } = await importDist(root, 'carts/cart.aggregate.js');
  const { cartView } = await importDist(root, 'carts/read-model/cart.view.js');
  const notes = [];
  let correctnessFailed = false;

  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-bench-audit-'));
  onTempDir(dir);
  const cartId = randomUUID();
  const streamId = `cart-${cartId}`;

  // 1. The data: the big stream through the aggregate store (snapshots included), then small carts.
  const events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
  const writer = () =>
    new AggregateStore(events, {
      snapshotEvery: SNAPSHOT_EVERY,
      snapshotsKept: 0,
      idempotencyKeysPerStream: 500,
      cacheSize: 0,
    });
  const writeStarted = performance.now();
  const store = writer();
  let current = await store.load(cartAggregate, cartId);
  const states = [];
  let state = cartAggregate.initialState;
  for (let from = 0; from < STREAM_EVENTS; from += SNAPSHOT_EVERY) {
    const pending = [];
    for (let i = from; i < Math.min(STREAM_EVENTS, from + SNAPSHOT_EVERY); i++) {
      const event = bigStreamEvent(cartId, i);
      state = cartAggregate.evolve(state, event);
      states.push(state);
      pending.push({ id: randomUUID(), event, metadata: metadata(event.type) });
    }
    ({ aggregate: current } = await store.append(cartAggregate, current, pending));
  }
  await store.flushSnapshots();
  const snapshots = (await events.readStream(`cartsnapshot-${cartId}`)).length;
  for (let n = 0; n < SMALL_CARTS; n += 100) {
    await Promise.all(
      Array.from({ length: 100 }, () => {
        const id = randomUUID();
        return events.append(
          `cart-${id}`,
          Array.from({ length: 5 }, (_, i) => ({
            id: randomUUID(),
            ...bigStreamEvent(id, i),
            metadata: metadata('bench'),
          })),
          'no_stream',
        );
      }),
    );
  }
  const totalEvents = STREAM_EVENTS + SMALL_CARTS * 5;
  log(
    `audit: wrote ${totalEvents} events (${snapshots} snapshots of the big stream) in ${Math.round(performance.now() - writeStarted)} ms`,
  );
  if (snapshots !== STREAM_EVENTS / SNAPSHOT_EVERY) {
    notes.push(`expected ${STREAM_EVENTS / SNAPSHOT_EVERY} snapshots of the big stream, found ${snapshots}`);
    correctnessFailed = true;
  }
  const expectedView = (revision) => JSON.stringify(cartView(cartId, states[revision]));

  // 2. In-process: the fold alone (snapshot search + at most 99 events), fresh store, no cache.
  const random = seeded(42);
  const randomRevision = () => Math.floor(random() * STREAM_EVENTS);
  const reader = writer();
  let inProcessWrong = 0;
  const inProcess = await timed(async () => {
    const revision = randomRevision();
    const at = await reader.loadAt(cartAggregate, cartId, BigInt(revision));
    if (JSON.stringify(cartView(cartId, at.state)) !== expectedView(revision)) inProcessWrong++;
  });
  const first = (await events.readStream(streamId, { limit: 1 }))[0];
  const last = (await events.readStream(streamId, { direction: 'backwards', limit: 1 }))[0];
  await events.close();
  if (inProcessWrong > 0) {
    notes.push(`loadAt gave a state that DIFFERS from the fold in ${inProcessWrong} cases`);
    correctnessFailed = true;
  }

  // 3. The service on that directory.
  const secret = `bench-secret-${randomUUID()}`;
  const token = signJwt({ sub: 'bench-auditor', roles: ['auditor'] }, secret);
  const port = await freePort();
  const entry = process.env.BENCH_SERVICE_ENTRY
    ? resolve(process.env.BENCH_SERVICE_ENTRY)
    : join(root, 'dist', 'main.js');
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      AUTH_JWT_SECRET: secret,
      // Required outside development (≥ 32 characters); no payment arrives here.
      PAYMENT_WEBHOOK_SECRET: `bench-payment-webhook-secret-${randomUUID()}`,
      DATA_DIR: dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      SNAPSHOT_EVERY: String(SNAPSHOT_EVERY),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  onChild(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${token}` };
  const getJson = async (path) => {
    const response = await fetch(`${base}${path}`, { headers });
    const body = await response.json();
    if (response.status !== 200)
      throw new Error(`GET ${path} answered ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };

  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited during start: ${stderr}`);
      try {
        if ((await fetch(`${base}/health/live`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the service did not start within 30 s: ${stderr}`);
      await sleep(100);
    }
    log('audit: service started, waiting for the projections to catch up');
    await settled(child.pid);

    let wrong = 0;
    const check = (revision, body) => {
      if (body.meta.revision !== revision || JSON.stringify(body.data) !== expectedView(revision)) wrong++;
    };
    log('audit: state at revision');
    const atRevision = await timed(async () => {
      const revision = randomRevision();
      check(revision, await getJson(`/carts/${cartId}/state?atRevision=${revision}`));
    });

    log('audit: asOf');
    const t0 = first.created.getTime();
    const span = last.created.getTime() - t0;
    const asOf = await timed(async () => {
      const instant = new Date(t0 + Math.floor(random() * (span + 1)));
      const body = await getJson(`/carts/${cartId}/state?asOf=${instant.toISOString()}`);
      // The answer was recorded at or before the instant (its successor after it: the e2e tests check that).
      if (new Date(body.meta.at) > instant) wrong++;
      check(body.meta.revision, body);
    });

    log('audit: diff');
    const diff = await timed(async () => {
      const from = Math.floor(random() * (STREAM_EVENTS - 100));
      const to = from + 1 + Math.floor(random() * 100);
      const body = await getJson(`/carts/${cartId}/diff?from=${from}&to=${to}`);
      if (body.data.events.length !== to - from) wrong++;
    });
    if (wrong > 0) {
      notes.push(`${wrong} time-travel answers DIFFER from the independent fold`);
      correctnessFailed = true;
    }

    // 4. Replays: the whole store, and one stream, streamed to the end (newlines counted, nothing kept).
    const replay = async (path) => {
      const started = performance.now();
      const response = await fetch(`${base}${path}`, { headers });
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
      let lines = 0;
      let bytes = 0;
      for await (const chunk of response.body) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      }
      return { lines, bytes, ms: performance.now() - started };
    };
    const replays = [];
    for (const [label, path, expected] of [
      ['every event (GET /audit/events)', '/audit/events', totalEvents],
      [
        'one 100k-event stream (streamPrefix=cart-<id>)',
        `/audit/events?streamPrefix=cart-${cartId}`,
        STREAM_EVENTS,
      ],
    ]) {
      log(`audit: replay ${label}`);
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await replay(path));
      runs.sort((a, b) => a.ms - b.ms);
      const median = runs[1];
      if (runs.some((run) => run.lines !== expected)) {
        notes.push(`replay of ${label}: ${runs.map((r) => r.lines).join('/')} lines, expected ${expected}`);
        correctnessFailed = true;
      }
      replays.push({ label, ...median });
    }

    return {
      rows: [
        { label: 'state at a random revision (in-process AggregateStore.loadAt)', ...summarize(inProcess) },
        { label: 'GET /carts/:id/state?atRevision=<random>', ...summarize(atRevision), target: true },
        { label: 'GET /carts/:id/state?asOf=<random instant>', ...summarize(asOf) },
        { label: 'GET /carts/:id/diff?from=r&to=r+1..100', ...summarize(diff) },
      ],
      replays,
      snapshots,
      totalEvents,
      notes,
      correctnessFailed,
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export function auditTable({ rows, replays, snapshots, totalEvents, notes }) {
  const out = [
    `### Audit: time travel on a 100k-event stream and replay (embedded store, SNAPSHOT_EVERY ${SNAPSHOT_EVERY}, every snapshot kept: ${snapshots}; HTTP requests one at a time)`,
    '',
    '| query | requests | p50 ms | p99 ms | target |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const verdict = row.target
      ? `${row.p50 <= TARGET_STATE_P50_MS ? '✓' : '✗'} (p50 ≤ ${TARGET_STATE_P50_MS} ms)`
      : '—';
    out.push(`| ${row.label} | ${row.n} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${verdict} |`);
  }
  out.push(
    '',
    `| replay (NDJSON over HTTP, ${totalEvents.toLocaleString('en-US')} events in the store) | events | s | events/s | MB/s |`,
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const r of replays) {
    out.push(
      `| ${r.label} | ${r.lines} | ${(r.ms / 1000).toFixed(2)} | ${Math.round(r.lines / (r.ms / 1000))} | ${(r.bytes / 2 ** 20 / (r.ms / 1000)).toFixed(1)} |`,
    );
  }
  out.push(
    '',
    'Revisions and instants are drawn uniformly over the whole stream; every sampled answer is compared with an independent fold of the generated events. Replays: median of 3, read to the end by the client.',
  );
  for (const note of notes) out.push(`- ${note}`);
  return out.join('\n');
}
