/**
 * Part `recovery` of `npm run bench`: how long after a read-store outage ends every projection's freshness
 * budget holds again (docs/consistency.md#freshness-budgets).
 *
 * 1. MongoDB wire: a FerretDB of the bench's own (scripts/ferretdb.sh start, a new directory and a free port;
 *    never the one MONGODB_URI names, which other work may be using) is the read store of the service
 *    process (`node dist/main.js`, embedded event store). Under a steady add-item load (BENCH_RECOVERY_RATE
 *    per second on 100 carts) and a trickle of checkouts and price changes (so that every projection has
 *    events), FerretDB is killed with SIGKILL for BENCH_RECOVERY_OUTAGE seconds while the load goes on
 *    (commands keep succeeding: the event store is embedded), then started again on the same port and files.
 * 2. Embedded read store: an outage of a file in the service's own process is not a thing, so the analogue is
 *    every projection paused (POST /admin/projections/:name/pause) for as long, then resumed.
 *
 * From the moment the read store is back (FerretDB accepts connections; the resume calls answered), the bench
 * polls `GET /admin/projections` every POLL_MS and takes, per projection, the first poll from which on it
 * holds its budget: until the end of the observation (HOLD_MS later at least) its `lagMs` (the age of its
 * oldest unapplied event) stays within its `freshness.budgetMs`, its `freshness.overBudget` (events applied
 * later than the budget) stops growing, and its status is `running`. The observation gives up after
 * GIVE_UP_MS. Skipped, saying so, when FerretDB cannot be built or started.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SIDE_PRODUCTS, projectionStatus, sideTraffic } from './freshness.mjs';

const run = promisify(execFile);

const CARTS = 100;
/**
 * The skus the adds pick from: carts of a few lines, as shoppers' are. FerretDB 1.x rewrites a document after
 * scanning its collection for it, so carts of ninety lines would measure that scan more than the recovery.
 */
const ADD_SKUS = 5;
const POLL_MS = 250;
const WARM_MS = 10_000;
const HOLD_MS = 15_000;
const GIVE_UP_MS = 180_000;
const SIDE = { checkoutsPerSecond: 1, repricesPerSecond: 0.5 };
/** The category of the streams each projection reads (docs/projection-admin.md). */
const CATEGORY = {
  carts: 'cart',
  orders: 'order',
  order_search: 'order',
  order_timeline: 'order',
  products: 'product',
};

// ---------------------------------------------------------------------------------------------------------
// A FerretDB of our own

/** The environment of scripts/ferretdb.sh, without the FerretDB this shell may have exported (never ours). */
function ferretEnv(port) {
  const env = { ...process.env };
  for (const name of ['FERRETDB_PID', 'FERRETDB_DIR', 'FERRETDB_PORT']) delete env[name];
  if (port !== undefined) env.FERRETDB_PORT = String(port);
  return env;
}

/** Starts one (in `dir` on `port` when given: a restart) and answers `{uri, pid, dir, port}`. */
async function startFerret(root, { dir, port } = {}) {
  const { stdout } = await run(join(root, 'scripts', 'ferretdb.sh'), ['start', ...(dir ? [dir] : [])], {
    env: ferretEnv(port),
    timeout: 600_000, // the first start builds it (about a minute; seconds when cached)
  });
  const vars = Object.fromEntries(
    [...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2].replace(/^'(.*)'$/, '$1')]),
  );
  const uri = new URL(vars.MONGODB_URI);
  return { uri, pid: Number(vars.FERRETDB_PID), dir: vars.FERRETDB_DIR, port: Number(uri.port) };
}

/** Whether `pid` is a live FerretDB (a pid may be reused by another process once its owner has gone). */
function isFerret(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false; // exited, not reaped yet
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ferretdb');
  } catch {
    return false;
  }
}

/** SIGKILL — the outage — and wait until it is gone. Only ever the pid the bench started. */
async function killFerret(pid) {
  if (!isFerret(pid)) throw new Error(`pid ${pid} is not the bench's FerretDB any more`);
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isFerret(pid); i++) await sleep(20);
}

/** scripts/ferretdb.sh stop, with the pid and directory given (it removes a directory its start created). */
async function stopFerret(root, ferret) {
  await run(join(root, 'scripts', 'ferretdb.sh'), ['stop', String(ferret.pid), ferret.dir], {
    env: ferretEnv(),
  }).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Load

/** A steady rate of add-item commands on `carts` (of the first ADD_SKUS skus), paced from here. */
function steadyAdds({ service, call, carts, rate, onAppended }) {
  const counts = { ok: 0, failed: 0, skipped: 0, failureSamples: [] };
  let stopped = false;
  let inFlight = 0;
  const fire = async (i) => {
    inFlight++;
    try {
      const cart = carts[(i * 7919) % carts.length];
      const body = { sku: `sku-${Math.floor(Math.random() * ADD_SKUS)}`, quantity: 1 };
      const added = await call(service, 'POST', `/carts/${cart}/items`, body);
      if (added.status === 200) {
        counts.ok++;
        onAppended('cart', 1);
      } else {
        counts.failed++;
        if (counts.failureSamples.length < 3)
          counts.failureSamples.push(`${added.status} ${added.text.slice(0, 200)}`);
      }
    } catch (error) {
      counts.failed++;
      if (counts.failureSamples.length < 3) counts.failureSamples.push(String(error?.message ?? error));
    } finally {
      inFlight--;
    }
  };
  const loop = (async () => {
    let next = performance.now();
    for (let i = 0; !stopped; i++) {
      // A service that stops answering must not pile up thousands of requests: past 64 in flight, skip.
      if (inFlight < 64) void fire(i);
      else counts.skipped++;
      next += 1000 / rate;
      await sleep(Math.max(0, next - performance.now()));
    }
    while (inFlight > 0) await sleep(10);
  })();
  return {
    counts,
    async stop() {
      stopped = true;
      await loop;
      return counts;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

async function poll(service, call, operatorToken, t0) {
  try {
    const status = await projectionStatus(service, call, operatorToken);
    return { at: performance.now() - t0, status };
  } catch (error) {
    return { at: performance.now() - t0, error: String(error?.message ?? error) };
  }
}

/** Holds its budget at this poll: caught up to within the budget, and running. */
function within(p) {
  return p.status === 'running' && p.lagMs <= p.freshness.budgetMs;
}

/**
 * The first poll of the streak that lasts to the end — every poll since within its budget, overBudget
 * unchanged — per projection; undefined when the last poll does not hold.
 */
function streakStarts(polls, names) {
  const starts = new Map();
  for (const name of names) {
    let start;
    for (const sample of polls) {
      const p = sample.status?.get(name);
      if (!p || !within(p)) start = undefined;
      else if (start && p.freshness.overBudget !== start.status.get(name).freshness.overBudget)
        start = sample;
      else if (!start) start = sample;
    }
    starts.set(name, start);
  }
  return starts;
}

/** One line of progress: each projection's lag in events and seconds. */
function lagLine(status) {
  return [...status.values()]
    .map(
      (p) =>
        `${p.name} ${p.lagEvents} (${(p.lagMs / 1000).toFixed(1)} s)${p.parked ? ` parked ${p.parked}` : ''}${p.status === 'running' ? '' : ` ${p.status}`}`,
    )
    .join(', ');
}

/** Polls from `t0` until every projection has held its budget for HOLD_MS, or GIVE_UP_MS. */
async function observeRecovery(service, call, operatorToken, t0, names, log) {
  const polls = [];
  let logged = -Infinity;
  for (;;) {
    const sample = await poll(service, call, operatorToken, t0);
    polls.push(sample);
    if (sample.at - logged >= 5000) {
      logged = sample.at;
      log(
        `  +${(sample.at / 1000).toFixed(1)} s: ${sample.status ? lagLine(sample.status) : sample.error.slice(0, 200)}`,
      );
    }
    const now = performance.now() - t0;
    const starts = [...streakStarts(polls, names).values()];
    if (starts.every((s) => s && now - s.at >= HOLD_MS)) break;
    if (now >= GIVE_UP_MS) break;
    await sleep(POLL_MS);
  }
  return polls;
}

/**
 * Per projection: the backlog the outage left (lag at its end), seconds from `t0` until it applies events
 * again, until its lag is within budget, until it holds its budget for good; what it applied late meanwhile.
 */
function recoveryRows(atKill, lastSeen, appendedDuring, polls, names) {
  const ok = polls.filter((s) => s.status);
  const starts = streakStarts(polls, names);
  return names.map((name) => {
    const pre = atKill.get(name);
    const after = ok.map((s) => ({ at: s.at, p: s.status.get(name) }));
    // Not the lag the status shows after the return: a batch that failed went to the retry queue, and the
    // checkpoint moved on past it, so `lagEvents` leaves out events that are still to be applied.
    const backlog = pre.lagEvents + (appendedDuring[CATEGORY[name]] ?? 0);
    // Not the checkpoint: during the outage it moves on past every batch that fails (to the retry queue).
    const applied = lastSeen.get(name).eventsApplied;
    const moved = after.find(({ p }) => p.eventsApplied > applied);
    const lagWithin = after.find(({ p }) => within(p));
    const start = starts.get(name);
    const held = start?.status.get(name);
    return {
      projection: name,
      budgetMs: pre.freshness.budgetMs,
      backlog,
      parked: (after.at(-1)?.p.parked ?? pre.parked) - pre.parked,
      applyingAfter: moved?.at,
      lagWithinAfter: lagWithin?.at,
      recoveredAfter: start?.at,
      overBudget: (held ?? after.at(-1)?.p)?.freshness.overBudget - pre.freshness.overBudget,
      lagThen: held?.lagEvents,
    };
  });
}

/**
 * The common course of one row: a service, its setup, the load; `outage.begin()` / `outage.end()` make and
 * end the outage (answering when the store is back: t0).
 */
async function oneRecovery({ label, env, outage, rate, outageSeconds, log, tools }) {
  const { startService, stopService, listProducts, seedCarts, call, operatorToken } = tools;
  const service = await startService({ env });
  let adds;
  let side;
  try {
    await listProducts(service, SIDE_PRODUCTS);
    const carts = await seedCarts(service, CARTS);
    const names = [...(await projectionStatus(service, call, operatorToken)).keys()];
    const appended = { cart: 0, order: 0, product: 0 };
    const onAppended = (category, n) => (appended[category] += n);
    adds = steadyAdds({ service, call, carts, rate, onAppended });
    side = sideTraffic({ service, call, operatorToken, ...SIDE, onAppended });
    log(`recovery: ${label}: ${rate} adds/s, ${WARM_MS / 1000} s before the outage`);
    const loaded = await projectionStatus(service, call, operatorToken);
    for (let waited = 0; waited < WARM_MS; waited += 5000) {
      await sleep(5000);
      log(`  before the outage: ${lagLine(await projectionStatus(service, call, operatorToken))}`);
    }
    const warm = await projectionStatus(service, call, operatorToken);
    const okBefore = adds.counts.ok;
    const failedBefore = adds.counts.failed;
    const appendedBefore = { ...appended };
    log(`recovery: ${label}: outage for ${outageSeconds} s`);
    const outageStarted = performance.now();
    await outage.begin(service);
    // Whether the status answers while the store is down (it reads jobs and generations from the read store).
    let answered = 0;
    let asked = 0;
    let lastSeen = warm;
    const outageEnd = outageStarted + outageSeconds * 1000;
    while (performance.now() < outageEnd - 2500) {
      asked++;
      const sample = await poll(service, call, operatorToken, 0);
      if (sample.status) {
        answered++;
        lastSeen = sample.status;
      }
      await sleep(Math.min(1000, Math.max(0, outageEnd - 2500 - performance.now())));
    }
    await sleep(Math.max(0, outageEnd - performance.now()));
    const duringOk = adds.counts.ok - okBefore;
    const duringFailed = adds.counts.failed - failedBefore;
    const t0 = await outage.end(service);
    const appendedDuring = Object.fromEntries(
      Object.entries(appended).map(([category, n]) => [category, n - appendedBefore[category]]),
    );
    log(`recovery: ${label}: back; watching every budget`);
    const polls = await observeRecovery(service, call, operatorToken, t0, names, log);
    const rows = recoveryRows(warm, lastSeen, appendedDuring, polls, names);
    const sideCounts = await side.stop();
    const addCounts = await adds.stop();
    side = undefined;
    adds = undefined;
    return {
      label,
      rows,
      warmOverBudget: names.reduce(
        (n, name) => n + warm.get(name).freshness.overBudget - loaded.get(name).freshness.overBudget,
        0,
      ),
      outageSeconds: (t0 - outageStarted) / 1000,
      restartSeconds: outage.restartMs / 1000,
      duringOk,
      duringFailed,
      adds: addCounts,
      side: sideCounts,
      statusDuringOutage: { asked, answered },
      failedPolls: polls.filter((s) => s.error).length,
      pollErrors: [...new Set(polls.filter((s) => s.error).map((s) => s.error.slice(0, 160)))].slice(0, 2),
      observedSeconds: (polls.at(-1)?.at ?? 0) / 1000,
    };
  } finally {
    await side?.stop();
    await adds?.stop();
    await stopService(service);
  }
}

export async function runRecoveryBench({
  root,
  log = () => {},
  rate = 10,
  outageSeconds = 20,
  startService,
  stopService,
  listProducts,
  seedCarts,
  call,
  operatorToken,
}) {
  const tools = { startService, stopService, listProducts, seedCarts, call, operatorToken };
  const results = [];
  let skipped;

  let ferret;
  const leftBehind = () => {
    // The bench exiting on a signal: the FerretDB is not its child (nohup), so stop it here.
    if (ferret && isFerret(ferret.pid)) process.kill(ferret.pid, 'SIGKILL');
    if (ferret?.dir) rmSync(ferret.dir, { recursive: true, force: true });
  };
  process.once('exit', leftBehind);
  try {
    try {
      log('recovery: starting a FerretDB of its own (scripts/ferretdb.sh)');
      ferret = await startFerret(root);
    } catch (error) {
      skipped = `FerretDB could not be started (scripts/ferretdb.sh start: ${String(
        error?.stderr || error?.message || error,
      )
        .trim()
        .slice(-300)})`;
    }
    if (ferret) {
      const uri = new URL(ferret.uri);
      uri.pathname = '/bench_recovery';
      const outage = {
        restartMs: 0,
        begin: () => killFerret(ferret.pid),
        async end() {
          const restarting = performance.now();
          ferret = { ...(await startFerret(root, { dir: ferret.dir, port: ferret.port })), dir: ferret.dir };
          const t0 = performance.now();
          this.restartMs = t0 - restarting;
          return t0;
        },
      };
      results.push(
        await oneRecovery({
          label: `MongoDB wire (FerretDB 1.24, SQLite), killed -9 for ${outageSeconds} s`,
          env: { MONGODB_URI: uri.toString() },
          outage,
          rate,
          outageSeconds,
          log,
          tools,
        }),
      );
    }
  } finally {
    if (ferret) await stopFerret(root, ferret);
    ferret = undefined;
    process.removeListener('exit', leftBehind);
  }

  let names = [];
  const pause = {
    restartMs: 0,
    async begin(service) {
      names = [...(await projectionStatus(service, call, operatorToken)).keys()];
      for (const name of names)
        await expectOk(call(service, 'POST', `/admin/projections/${name}/pause`, undefined, operatorToken));
    },
    async end(service) {
      const resuming = performance.now();
      for (const name of names)
        await expectOk(call(service, 'POST', `/admin/projections/${name}/resume`, undefined, operatorToken));
      const t0 = performance.now();
      this.restartMs = t0 - resuming;
      return t0;
    },
  };
  results.push(
    await oneRecovery({
      label: `embedded (SQLite): every projection paused for ${outageSeconds} s (an analogue)`,
      env: {},
      outage: pause,
      rate,
      outageSeconds,
      log,
      tools,
    }),
  );
  return { results, skipped, rate, outageSeconds };
}

async function expectOk(response) {
  const { status, text } = await response;
  if (status !== 200) throw new Error(`pause/resume answered ${status}: ${text.slice(0, 300)}`);
}

const seconds = (ms) => (ms === undefined ? 'not within the observation' : (ms / 1000).toFixed(1));

export function recoveryTable({ results, skipped, rate, outageSeconds }) {
  const out = [
    `### Recovery after a read-store outage (${outageSeconds} s; the service process, embedded event store, ${rate} add-item/s on ${CARTS} carts of ≤ ${ADD_SKUS} lines + ${SIDE.checkoutsPerSecond} checkout/s + ${SIDE.repricesPerSecond} price change/s throughout)`,
    '',
    '| read store, outage | projection | budget s | backlog at the return (events) | applying again after s | lag within budget after s | **every budget holds after s** | applied over budget meanwhile | lag then (events) | parked |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    for (const row of r.rows) {
      out.push(
        `| ${r.label} | ${row.projection} | ${row.budgetMs / 1000} | ${row.backlog} | ${seconds(row.applyingAfter)} | ${seconds(row.lagWithinAfter)} | ${seconds(row.recoveredAfter)}${row.parked && row.recoveredAfter !== undefined ? ' (not for the parked)' : ''} | ${row.overBudget} | ${row.lagThen ?? '—'} | ${row.parked} |`,
      );
    }
    const all = r.rows.map((row) => row.recoveredAfter);
    const worst = all.some((ms) => ms === undefined) ? undefined : Math.max(...all);
    const sum = (f) => r.rows.reduce((n, row) => n + f(row), 0);
    out.push(
      `| ${r.label} | **all of them** | | **${sum((row) => row.backlog)}** | | | **${seconds(worst)}** | ${sum((row) => row.overBudget)} | | ${sum((row) => row.parked)} |`,
    );
  }
  out.push('');
  if (skipped) out.push(`MongoDB row skipped: ${skipped}.`, '');
  for (const r of results) {
    const { asked, answered } = r.statusDuringOutage;
    out.push(
      `- ${r.label}: outage ${r.outageSeconds.toFixed(1)} s (the restart itself ${r.restartSeconds.toFixed(1)} s of it); ` +
        `${r.duringOk} adds acknowledged during it, ${r.duringFailed} failed; in all ${r.adds.ok} adds, ${r.adds.failed} failed${r.adds.skipped ? `, ${r.adds.skipped} not sent (64 in flight)` : ''}` +
        `${r.adds.failureSamples.length ? ` (${r.adds.failureSamples.join(' | ')})` : ''}; ${r.side.checkouts} checkouts, ${r.side.reprices} price changes, ${r.side.failed} failed` +
        `${r.side.failureSamples.length ? ` (${r.side.failureSamples.join(' | ')})` : ''}; ` +
        `${r.warmOverBudget} events applied over budget in the ${WARM_MS / 1000} s of load before the outage; ` +
        `\`GET /admin/projections\` answered ${answered} of ${asked} times during the outage; observed ${r.observedSeconds.toFixed(0)} s after the return` +
        `${r.failedPolls ? `, ${r.failedPolls} polls failed then (${r.pollErrors.join(' | ')})` : ''}.`,
    );
  }
  out.push(
    '',
    `t0, the return: FerretDB accepts connections again (\`scripts/ferretdb.sh start\` on the same port and files returned); the pause row: the resume calls answered. ` +
      `From t0 the bench polls \`GET /admin/projections\` every ${POLL_MS} ms. ` +
      '**Backlog**: the lag (`lagEvents`) just before the outage + the events of its streams appended during it (counted from the acknowledged commands) — not the `lagEvents` shown after t0, which leaves out the batches that failed during the outage: they wait in the retry queue, behind a checkpoint that moved on. ' +
      '**Applying again**: its `eventsApplied` grew (not its checkpoint: that moves on past every batch that fails). ' +
      '**Lag within budget**: first poll with `lagMs` (the age of its oldest event after the checkpoint) ≤ `freshness.budgetMs`, status `running`. ' +
      `**Every budget holds**: the first poll from which on, for the rest of the observation (≥ ${HOLD_MS / 1000} s), the lag stays within the budget, the status \`running\` ` +
      'and `freshness.overBudget` (events applied later than the budget) no longer grows: every event applied from then on, the retried ones included, was within its budget; ' +
      '"all of them": the latest projection. **Applied over budget meanwhile**: growth of `overBudget` from before the outage to that poll. **Lag then**: `lagEvents` at that poll. ' +
      `**Parked**: events parked since before the outage (a parked event waits for an operator's replay: the budget would not hold for it). The observation gives up after ${GIVE_UP_MS / 1000} s.`,
  );
  return out.join('\n');
}
