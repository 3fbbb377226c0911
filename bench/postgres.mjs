/**
 * Part `postgres` of `npm run bench`: the PostgreSQL event store, one instance and several. Needs POSTGRES_URL
 * (`scripts/postgres.sh start` gives one; the part says plainly that it was skipped otherwise); the rows with
 * three instances and the failover need MONGODB_URI too (several instances share one read store).
 *
 * 1. Add-item, the same load on each row: BENCH_PG_CARTS carts (1,000), 16 connections, BENCH_WARMUP s of
 *    warm-up then BENCH_DURATION s measured (the http part's `spread-c16`), on
 *      - the embedded stores, one instance (the reference, measured again in the same session);
 *      - PostgreSQL with the embedded read store, one instance;
 *      - PostgreSQL with MongoDB, one instance, then three instances with the connections spread over them.
 *    Afterwards every cart is read back (Σ revisions = acknowledged adds: no lost update), and the CPU time each
 *    row used is divided by its acknowledged commands: the service process(es), PostgreSQL's server processes
 *    (when POSTGRES_DIR names the data directory of the server POSTGRES_URL points at: scripts/postgres.sh
 *    exports both) and FerretDB (FERRETDB_PID, exported by scripts/ferretdb.sh). Two cores cannot show scaling:
 *    the instances, the stores and the load generator share them. What the rows show is that nothing is lost
 *    and what a command costs.
 * 2. Failover: three instances (PostgreSQL + MongoDB) under a steady add-item load; the owner of the `carts`
 *    group is killed (-9), and `GET /admin/projections` on a survivor is polled until another instance owns
 *    the group and until its checkpoint moves again (the group ran a batch), in seconds from the kill;
 *    the killed instance is started again under its own id before the next trial. With the default lease
 *    (10 s) and with a short one (3 s); BENCH_FAILOVER_TRIALS kills each (3).
 * 3. Rebuild from PostgreSQL: the rebuild part's 100k events (10k carts × 5, 10k orders × 5) appended to a fresh
 *    schema, then every projection rebuilt in-process by the real JobRunner from dist/ (as bench/rebuild.mjs
 *    does) into the embedded read store and into MongoDB (MONGODB_URI: FerretDB on PostgreSQL with
 *    `FERRETDB_BACKEND=postgresql scripts/ferretdb.sh start`); the same from the embedded event store, in the
 *    same session, as the reference.
 * BENCH_PG_STEPS (add-item,failover,rebuild) selects among them.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { fmt } from './aggregate-load.mjs';
import { describeMongo } from './common.mjs';
import { writeEvents } from './projections.mjs';
import { PAGE_SIZE, PAIRS, rebuildAll, rebuildDist, TARGETS } from './rebuild.mjs';

const CONNECTIONS = 16;
const GROUP = 'carts';
/** What BENCH_PG_STEPS may name; all of them by default. */
export const STEPS = ['add-item', 'failover', 'rebuild'];

// ---------------------------------------------------------------------------------------------------------
// CPU time of processes, from /proc (Linux): utime + stime, in milliseconds.

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null; // gone
  }
}

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * The processes of the PostgreSQL server POSTGRES_URL points at (its postmaster and the backends it forked), or
 * null when they cannot be told: POSTGRES_DIR must be its data directory's parent (scripts/postgres.sh).
 */
export function postgresProcesses(url, dir) {
  if (!dir) return null;
  try {
    const [pid, , , port] = readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n');
    if (new URL(url).port !== port?.trim()) return null;
    const postmaster = Number(pid);
    return () => [
      postmaster,
      ...readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .filter((p) => parentOf(p) === postmaster),
    ];
  } catch {
    return null;
  }
}

/** CPU milliseconds per group of processes between `start()` and `stop()` (processes that appear count from 0). */
export function cpuMeter(groups) {
  const read = () =>
    Object.fromEntries(
      Object.entries(groups).map(([name, pids]) => [
        name,
        pids ? new Map(pids().map((pid) => [pid, cpuMs(pid)])) : null,
      ]),
    );
  let before;
  return {
    start() {
      before = read();
    },
    stop() {
      const after = read();
      return Object.fromEntries(
        Object.entries(after).map(([name, now]) => {
          if (!now) return [name, null];
          let used = 0;
          for (const [pid, ms] of now) if (ms !== null) used += ms - (before[name]?.get(pid) ?? 0);
          return [name, used];
        }),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------------------

export function withDatabase(uri, database) {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

async function dropSchema(url, schema) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(uri, database) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

/**
 * A deployment of `count` instances on fresh stores: a schema of its own on PostgreSQL, a database of its own on
 * MongoDB (both dropped by `stop`). The first instance starts alone (it creates the read store's collections:
 * FerretDB 1.24 sometimes drops a connection when several send the same createIndexes at once), then the others.
 */
async function startDeployment({ startService, stopService, postgresUrl, mongoUri, count, env = {} }) {
  const schema = postgresUrl ? `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}` : null;
  const database = mongoUri ? `bench_${randomUUID().slice(0, 8)}` : null;
  const shared = {
    ...(postgresUrl && { POSTGRES_URL: postgresUrl, POSTGRES_SCHEMA: schema }),
    ...(mongoUri && { MONGODB_URI: withDatabase(mongoUri, database) }),
    ...env,
  };
  const envOf = (i) => ({ ...shared, INSTANCE_ID: `bench-${i + 1}` });
  const services = [];
  const deployment = {
    services,
    envOf,
    live: () => services.filter((s) => s.child.exitCode === null && s.child.signalCode === null),
    async stop() {
      await Promise.all(services.map((service) => stopService(service)));
      if (schema) await dropSchema(postgresUrl, schema).catch(() => undefined);
      if (database) await dropDatabase(mongoUri, database).catch(() => undefined);
    },
  };
  try {
    services.push(await startService({ env: envOf(0) }));
    services.push(
      ...(await Promise.all(
        Array.from({ length: count - 1 }, (_, i) => startService({ env: envOf(i + 1) })),
      )),
    );
  } catch (error) {
    await deployment.stop();
    throw error;
  }
  return deployment;
}

// ---------------------------------------------------------------------------------------------------------
// 1. Add-item

/** Σ over the instances of a counter of /metrics (`name{category="cart"}`). */
async function cartCounter(services, call, operatorToken, name) {
  const texts = await Promise.all(
    services.map((service) => call(service, 'GET', '/metrics', undefined, operatorToken)),
  );
  let total = 0;
  for (const { text } of texts) {
    const match = new RegExp(`^${name}\\{category="cart"\\} ([0-9.e+]+)$`, 'm').exec(text);
    if (match) total += Number(match[1]);
  }
  return total;
}

async function addItemRow(row, tools) {
  const { log, startService, stopService, listProducts, seedCarts, runLoad, verifyCarts } = tools;
  const { duration, warmup, carts: cartCount, postgresUrl, postgresDir } = tools;
  log(`postgres: add-item on ${row.label}`);
  const deployment = await startDeployment({
    startService,
    stopService,
    postgresUrl: row.postgres ? postgresUrl : null,
    mongoUri: row.mongo ? tools.mongoUri : null,
    count: row.instances,
  });
  try {
    const { services } = deployment;
    await listProducts(services[0]);
    const carts = await seedCarts(services[0], cartCount);
    const loads = [];
    if (warmup > 0) loads.push(await runLoad(services, carts, CONNECTIONS, warmup));
    const meter = cpuMeter({
      service: () => services.map((s) => s.child.pid),
      postgres: row.postgres ? postgresProcesses(postgresUrl, postgresDir) : null,
      ferretdb: row.mongo && process.env.FERRETDB_PID ? () => [Number(process.env.FERRETDB_PID)] : null,
    });
    const counters = () =>
      Promise.all(
        ['ordertrail_appends_total', 'ordertrail_concurrency_conflicts_total'].map((name) =>
          cartCounter(services, tools.call, tools.operatorToken, name),
        ),
      );
    const [appendsBefore, conflictsBefore] = await counters();
    meter.start();
    const measured = await runLoad(services, carts, CONNECTIONS, duration);
    const cpu = meter.stop();
    const [appendsAfter, conflictsAfter] = await counters();
    const races = (conflictsAfter - conflictsBefore) / Math.max(1, appendsAfter - appendsBefore);
    loads.push(measured);
    await sleep(500); // requests autocannon abandoned at the end may still be running in the service
    const verification = await verifyCarts(services[0], carts, loads);
    const ok = measured['2xx'];
    const perCommand = (ms) => (ms === null || ms === undefined || ok === 0 ? null : ms / ok);
    return {
      row,
      measured,
      verification,
      races,
      cpu: {
        service: perCommand(cpu.service),
        postgres: row.postgres ? perCommand(cpu.postgres) : undefined,
        ferretdb: row.mongo ? perCommand(cpu.ferretdb) : undefined,
      },
    };
  } finally {
    await deployment.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 2. Failover

async function failover(leaseMs, tools) {
  const { log, startService, stopService, listProducts, seedCarts, verifyCarts, call, operatorToken } = tools;
  log(`postgres: failover, PROJECTION_LEASE_MS=${leaseMs}, ${tools.trials} kills`);
  const deployment = await startDeployment({
    startService,
    stopService,
    postgresUrl: tools.postgresUrl,
    mongoUri: tools.mongoUri,
    count: 3,
    env: { PROJECTION_LEASE_MS: String(leaseMs) },
  });
  const { services } = deployment;
  const status = async (service) => {
    const { status: code, json } = await call(service, 'GET', '/admin/projections', undefined, operatorToken);
    if (code !== 200) throw new Error(`GET /admin/projections answered ${code}`);
    return json.items;
  };
  const carts = [];
  let stop = false;
  let acknowledged = 0;
  let loadStarted = 0;
  const loads = [];
  try {
    await listProducts(services[0]);
    carts.push(...(await seedCarts(services[0], 100)));
    // A steady load through the live instances (a client behind a load balancer): 4 writers, 20 ms apart.
    const writer = async (w) => {
      for (let n = 0; !stop; n++) {
        const live = deployment.live();
        const service = live[(w + n) % live.length];
        const cart = carts[(w * 31 + n) % carts.length];
        try {
          const { status: code } = await call(service, 'POST', `/carts/${cart}/items`, {
            sku: `sku-${n % 90}`,
            quantity: 1,
          });
          if (code === 200) acknowledged++;
        } catch {
          // the instance was killed under this request: not acknowledged
        }
        await sleep(20);
      }
    };
    loadStarted = performance.now();
    loads.push(...Array.from({ length: 4 }, (_, w) => writer(w)));

    const trials = [];
    for (let trial = 0; trial < tools.trials; trial++) {
      // Every group owned, and the load flowing.
      let items = [];
      const settleBy = Date.now() + 60_000;
      do {
        await sleep(250);
        items = await status(deployment.live()[0]).catch(() => []);
      } while (!(items.length > 0 && items.every((p) => p.owner !== null)) && Date.now() < settleBy);
      const owner = items.find((p) => p.name === GROUP)?.owner;
      const victim = services.findIndex((_, i) => deployment.envOf(i).INSTANCE_ID === owner);
      if (victim < 0) throw new Error(`no instance owns ${GROUP} (owner: ${owner})`);
      await sleep(1000);

      const killed = performance.now();
      services[victim].child.kill('SIGKILL');
      await new Promise((resolve) =>
        services[victim].child.exitCode !== null || services[victim].child.signalCode !== null
          ? resolve()
          : services[victim].child.once('exit', resolve),
      );
      const survivor = deployment.live()[0];
      let position0;
      let ownedAfter;
      let ranAfter;
      const deadline = killed + leaseMs + 30_000;
      while ((ownedAfter === undefined || ranAfter === undefined) && performance.now() < deadline) {
        const group = (await status(survivor).catch(() => [])).find((p) => p.name === GROUP);
        const at = (performance.now() - killed) / 1000;
        if (group) {
          position0 ??= group.position;
          if (ownedAfter === undefined && group.owner !== null && group.owner !== owner) ownedAfter = at;
          if (ranAfter === undefined && group.position !== null && group.position > position0) ranAfter = at;
        }
        await sleep(25);
      }
      trials.push({ ownedAfter, ranAfter, owner });
      log(
        `postgres: failover (lease ${leaseMs} ms) kill ${trial + 1}: ${owner} killed; owned again after ` +
          `${ownedAfter?.toFixed(2) ?? '—'} s, running again after ${ranAfter?.toFixed(2) ?? '—'} s`,
      );
      // It comes back under its own id (its heartbeat has expired by now).
      services[victim] = await startService({ env: deployment.envOf(victim) });
    }
    stop = true;
    await Promise.all(loads);
    const rate = acknowledged / ((performance.now() - loadStarted) / 1000);
    await sleep(500);
    const appended = await verifyCarts(deployment.live()[0], carts, [
      { '2xx': acknowledged, sent: 0, completed: 0 },
    ]);
    return { leaseMs, trials, acknowledged, rate, lost: appended.lost };
  } finally {
    stop = true;
    await Promise.all(loads);
    await deployment.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 3. Rebuild from PostgreSQL

/**
 * One row per (event store, read store): every projection rebuilt by the JobRunner, events/s from the launch to
 * the switch. The events are appended once per event store (the time that took is reported too: the appends
 * are the rebuild part's, 500 streams at a time).
 */
async function rebuildRows(tools) {
  const { log, root, postgresUrl, mongoUri } = tools;
  const dist = await rebuildDist(root);
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-bench-pg-rebuild-'));
  tools.onTempDir?.(dir);
  // The runtime's own log lines (job started/succeeded) would land in the tables on stdout.
  Logger.overrideLogger(['error']);
  const mongo = mongoUri ? await describeMongo(mongoUri) : null;
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const sources = [
    {
      name: 'embedded',
      open: async () => new dist.store.EmbeddedEventStore(join(dir, 'events.sqlite')),
      drop: async () => undefined,
    },
    {
      name: 'PostgreSQL',
      open: () =>
        // Seeding sends a thousand appends at once over the pool: on a loaded machine a connection can take
        // longer than the service's 3 s default to come free, which is no failure of what is measured.
        dist.postgresStore.PostgresEventStore.connect(postgresUrl, {
          schema,
          instanceId: 'bench-rebuild',
          connectTimeoutMs: 60_000,
        }),
      drop: () => dropSchema(postgresUrl, schema),
    },
  ];
  const readStores = [
    {
      name: 'embedded (SQLite)',
      target: TARGETS.embedded,
      open: async (source) => new dist.embeddedRead.EmbeddedReadStore(join(dir, `read-${source}.sqlite`)),
      drop: async () => undefined,
    },
  ];
  if (mongoUri) {
    const database = `bench_rebuild_${randomUUID().slice(0, 8)}`;
    readStores.push({
      name: mongo,
      target: TARGETS.mongo,
      open: () => dist.mongoRead.MongoReadStore.connect(withDatabase(mongoUri, database)),
      drop: () => dropDatabase(mongoUri, database),
    });
  }
  const rows = [];
  for (const source of sources) {
    const events = await source.open();
    try {
      log(`postgres: rebuild: appending ${PAIRS * 10} events to the ${source.name} event store`);
      const appendStarted = performance.now();
      await writeEvents(events, PAIRS);
      const appendSeconds = (performance.now() - appendStarted) / 1000;
      for (const readStore of readStores) {
        const store = await readStore.open(source.name);
        try {
          log(`postgres: rebuild: every projection from ${source.name} into ${readStore.name}`);
          const projections = await rebuildAll(dist, events, store);
          rows.push({
            source: source.name,
            readStore: readStore.name,
            target: readStore.target,
            projections,
            appendSeconds,
          });
        } finally {
          await store.close();
          await readStore.drop().catch(() => undefined);
        }
      }
    } finally {
      await events.close();
      await source.drop().catch(() => undefined);
    }
  }
  return { rows, mongo };
}

// ---------------------------------------------------------------------------------------------------------

export async function runPostgresBench(tools) {
  const postgresUrl = process.env.POSTGRES_URL || undefined;
  const mongoUri = process.env.MONGODB_URI || undefined;
  if (!postgresUrl)
    return { skipped: 'POSTGRES_URL is not set (`eval "$(scripts/postgres.sh start)"` gives one)' };
  const all = {
    ...tools,
    postgresUrl,
    postgresDir: process.env.POSTGRES_DIR,
    mongoUri,
    carts: tools.carts ?? 1000,
    trials: tools.trials ?? 3,
  };
  const rows = [
    { label: 'embedded stores, 1 instance', store: 'embedded', readStore: 'embedded', instances: 1 },
    {
      label: 'PostgreSQL + embedded read store, 1 instance',
      store: 'PostgreSQL',
      readStore: 'embedded',
      instances: 1,
      postgres: true,
    },
    ...(mongoUri
      ? [1, 3].map((instances) => ({
          label: `PostgreSQL + MongoDB, ${instances} instance${instances > 1 ? 's' : ''}`,
          store: 'PostgreSQL',
          readStore: 'MongoDB',
          instances,
          postgres: true,
          mongo: true,
        }))
      : []),
  ];
  const steps = tools.steps ?? STEPS;
  const results = [];
  if (steps.includes('add-item')) for (const row of rows) results.push(await addItemRow(row, all));
  const failovers = [];
  if (mongoUri && steps.includes('failover'))
    for (const leaseMs of [10_000, 3_000]) failovers.push(await failover(leaseMs, all));
  const rebuild = steps.includes('rebuild') ? await rebuildRows(all) : null;
  return {
    steps,
    results,
    failovers,
    rebuild,
    mongoUri,
    postgresCpu: postgresProcesses(postgresUrl, process.env.POSTGRES_DIR) !== null,
    ferretdbCpu: !!process.env.FERRETDB_PID,
    duration: all.duration,
    warmup: all.warmup,
    carts: all.carts,
    correctnessFailed:
      results.some((r) => r.verification.lost > 0 || r.verification.badCarts > 0) ||
      failovers.some((f) => f.lost > 0 || f.trials.some((t) => t.ownedAfter === undefined)),
  };
}

const cpuCell = (ms) => (ms === undefined ? '—' : ms === null ? 'n/a' : ms.toFixed(2));

export function postgresTable(r) {
  if (r.skipped) return `### PostgreSQL event store\n\nSkipped: ${r.skipped}.`;
  return [addItemTable(r), failoverTable(r), r.rebuild && rebuildTable(r.rebuild)]
    .filter(Boolean)
    .join('\n\n');
}

function addItemTable(r) {
  if (r.results.length === 0) return null;
  const out = [
    `### Add-item on PostgreSQL, 1 and 3 instances, beside the embedded store (${r.carts.toLocaleString('en-US')} carts, ${CONNECTIONS} connections, ${r.duration} s measured after ${r.warmup} s warm-up, 1 run)`,
    '',
    '| event store | read store | instances | req/s | 2xx/s | p50 ms | p99 ms | non-2xx | errors | lost updates | lost races per add | CPU ms/command: service | PostgreSQL | FerretDB | total |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { row, measured: m, verification: v, cpu, races } of r.results) {
    const parts = [cpu.service, cpu.postgres, cpu.ferretdb].filter((x) => x !== undefined);
    const total = parts.some((x) => x === null) ? null : parts.reduce((a, b) => a + b, 0);
    out.push(
      `| ${row.store} | ${row.readStore} | ${row.instances} | ${Math.round(m.requestsPerSecondMean)} | ${Math.round(m['2xx'] / m.duration)} | ` +
        `${fmt(m.latency.p50)} | ${fmt(m.latency.p99)} | ${m.non2xx} | ${m.errors} | ${v.lost} | ${races.toFixed(2)} | ${cpuCell(cpu.service)} | ` +
        `${cpuCell(cpu.postgres)} | ${cpuCell(cpu.ferretdb)} | ${cpuCell(total)} |`,
    );
  }
  out.push(
    '',
    'Two cores cannot show scaling: the instances, PostgreSQL, FerretDB and the load generator share them, so three instances do not do more than one here. ' +
      'The rows show that nothing is lost (every cart read back: Σ revisions = acknowledged adds) and what a command costs: CPU milliseconds per acknowledged add-item, ' +
      'of the service process(es) and of the stores (PostgreSQL: its postmaster and backends; FerretDB: its process) — projections included, since they run in the same processes. ' +
      "Lost races per add: appends that lost the revision check (the command was decided again on fresh state), per successful append (the instances' /metrics). " +
      `${r.postgresCpu ? '' : 'PostgreSQL CPU: n/a (POSTGRES_DIR does not name the data directory of the server at POSTGRES_URL). '}` +
      `${r.ferretdbCpu ? '' : 'FerretDB CPU: n/a (FERRETDB_PID is not set). '}` +
      `${r.mongoUri ? '' : 'MongoDB rows (and the failover) skipped: MONGODB_URI is not set (`scripts/ferretdb.sh start` gives one).'}`,
  );
  for (const { row, verification: v } of r.results) {
    if (v.unacknowledged > 0)
      out.push(
        `- ${row.label}: ${v.unacknowledged} appends whose answer autocannon dropped at stop (≤ ${v.inFlight} in flight)`,
      );
  }
  return out.join('\n');
}

function failoverTable(r) {
  const out = [];
  if (r.failovers.length > 0) {
    out.push(
      '### Failover: kill -9 of the owner of the `carts` group (3 instances, PostgreSQL + MongoDB, a steady add-item load through the live ones)',
      '',
      '| PROJECTION_LEASE_MS | kills | owned by another instance after s (each kill) | running again after s (each kill) | adds acknowledged (/s) | lost updates |',
      '| ---: | ---: | --- | --- | ---: | ---: |',
    );
    const seconds = (values) => values.map((s) => (s === undefined ? 'never' : s.toFixed(1))).join(', ');
    for (const f of r.failovers) {
      out.push(
        `| ${f.leaseMs.toLocaleString('en-US')} | ${f.trials.length} | ${seconds(f.trials.map((t) => t.ownedAfter))} | ` +
          `${seconds(f.trials.map((t) => t.ranAfter))} | ${f.acknowledged} (${Math.round(f.rate)}/s) | ${f.lost} |`,
      );
    }
    out.push(
      '',
      "Seconds from the kill until `GET /admin/projections` on a survivor names another owner, and until the group's checkpoint moves (the new owner settled a batch), polled every 25 ms. " +
        'The dead owner renewed its lease a third of a lease before at most, so a takeover comes between ⅔ of the lease and the lease after the kill, plus a tick. ' +
        'After each kill the instance starts again under its own id and takes its share back. ' +
        "Running again includes the new owner's first batch: the events of the outage, with its write-through cache cold (on FerretDB 1.24 every document it touches is looked up, and every update scans its collection).",
    );
  }
  return out.join('\n');
}

function rebuildTable({ rows, mongo }) {
  const names = [...new Set(rows.flatMap((row) => row.projections.map((p) => p.projection)))];
  const rate = (events, ms) => Math.round(events / (ms / 1000)).toLocaleString('en-US');
  const out = [
    `### Rebuild from PostgreSQL beside the embedded event store (${(PAIRS * 10).toLocaleString('en-US')} events; JobRunner: filtered catch-up in pages of ${PAGE_SIZE} into a new generation, launch → switch)`,
    '',
    `| event store | read store | ${names.map((n) => `${n} events/s`).join(' | ')} | all: events | s | **events/s** | target | appending the events took s |`,
    `| --- | --- | ${names.map(() => '---:').join(' | ')} | ---: | ---: | ---: | --- | ---: |`,
  ];
  for (const row of rows) {
    const events = row.projections.reduce((sum, p) => sum + p.events, 0);
    const ms = row.projections.reduce((sum, p) => sum + p.ms, 0);
    const cells = names.map((name) => {
      const p = row.projections.find((x) => x.projection === name);
      return p ? rate(p.events, p.ms) : '—';
    });
    const all = events / (ms / 1000);
    out.push(
      `| ${row.source} | ${row.readStore} | ${cells.join(' | ')} | ${events.toLocaleString('en-US')} | ${(ms / 1000).toFixed(2)} | ` +
        `**${rate(events, ms)}** | ${all >= row.target ? '✓' : '✗'} (≥ ${row.target.toLocaleString('en-US')}/s) | ${row.appendSeconds.toFixed(1)} |`,
    );
  }
  const skipped = rows.flatMap((row) => row.projections.filter((p) => p.skipped > 0));
  out.push(
    '',
    "Each projection reads only its own event types (the rebuild part's history: 50k cart events, 50k order events; the catalog projection has nothing to fold, so no column). " +
      'The events are appended first, 500 new streams at a time (the last column), then every projection is rebuilt one after the other with no live group running: the clock runs from the launch of the job to its switch. ' +
      'The event store rows differ only in where the catch-up pages come from. ' +
      (mongo
        ? `MongoDB wire: ${mongo}.`
        : 'MongoDB rows skipped: MONGODB_URI is not set (`FERRETDB_BACKEND=postgresql scripts/ferretdb.sh start` gives FerretDB on PostgreSQL).') +
      (skipped.length > 0
        ? ` Streams skipped by a rebuild: ${skipped.reduce((sum, p) => sum + p.skipped, 0)}.`
        : ''),
  );
  return out.join('\n');
}
