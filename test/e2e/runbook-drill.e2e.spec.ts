import { execFile, spawn } from 'node:child_process';
import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECTIONS } from '../../src/projections.js';
import { openSqlite } from '../../src/shared/infrastructure/sqlite.js';
import type { AnyProjection } from '../../src/read-side/runtime/projection.js';
import { readAlertRules, runbookCommand } from '../support/alert-rules.js';
import { addItem, openCart } from '../support/cart-fixtures.js';
import { writeHistory } from '../support/event-history.js';
import { runOps, type OpsRun } from '../support/operator-tools.js';
import {
  databaseUri,
  ferretDbBuilt,
  startPrivateFerretDb,
  stopPrivateFerretDb,
  type PrivateFerretDb,
} from '../support/private-ferretdb.js';
import { until } from '../support/projection-runtime.js';
import { evaluate, parse, parseExposition, SeriesStore, type Element, type Node } from '../support/promql.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The runbook drill: conditions created for real on a running service (real stores, real HTTP), the commands
 * of docs/runbook.md run as an operator would run them, and each alert's expression — read from
 * deploy/prometheus/alerts.yml — evaluated over the service's scraped /metrics, to see it fire and then clear.
 *
 * What is real and what is not, plainly:
 * - /metrics is scraped over HTTP every SCRAPE_MS into a series store; the alert's `expr` is parsed and evaluated
 *   by test/support/promql.ts (its header says how it differs from Prometheus: no extrapolation in rate(), the
 *   `for:` pending period not simulated). Range windows are scaled (the clock runs faster, RANGE_SCALE per case)
 *   so that a 5-minute window fills and empties within the drill; the expression is otherwise the rule's.
 * - The commands are the runbook's own lines (taken from the file: change one there and the drill runs the new
 *   one); `npm run -s ops -- …` is run as the built CLI it execs (`node dist/operations/cli/main.js …`), sparing
 *   npm's start-up; `curl` lines run in bash.
 * - The poison event stands for a release that cannot read an event: the drill makes the carts projection refuse
 *   the events of one stream (a defect it switches on), then "deploys the fix" (switches it off) before running
 *   the runbook's replay. Everything else — parking, the replay, the corrupted document (written into the
 *   read store's SQLite file by another connection), the FerretDB killed with SIGKILL — is what it says.
 */

const run = promisify(execFile);
const SCRAPE_MS = 200;

const rules = new Map(readAlertRules().map((r) => [r.alert, parse(r.expr)]));
const rule = (alert: string): Node => {
  const node = rules.get(alert);
  if (!node) throw new Error(`deploy/prometheus/alerts.yml has no alert ${alert}`);
  return node;
};

/** A service listening on a real port, its /metrics scraped in the background into a series store. */
interface Drilled {
  readonly t: TestApp;
  readonly url: string;
  readonly token: string;
  readonly series: SeriesStore;
  /** Seconds since the first scrape, of the newest scrape. */
  now(): number;
  stop(): Promise<void>;
}

async function drilled(env: Record<string, string>): Promise<Drilled> {
  const t = await startTestApp({
    PROJECTION_MAX_RETRIES: '0',
    PROJECTION_HEARTBEAT_MS: '100',
    CONSISTENCY_SAMPLES_PER_SECOND: '40',
    REBUILD_DROP_GRACE_MS: '100',
    READ_WAIT_MS: '300',
    ...env,
  });
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const token = t.bearer('drill-operator', 'operator').replace(/^Bearer /, '');
  const series = new SeriesStore();
  const started = Date.now();
  let newest = 0;
  let scraping = true;
  const loop = (async () => {
    while (scraping) {
      const at = (Date.now() - started) / 1000;
      try {
        const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
        if (res.ok) {
          series.add(at, parseExposition(await res.text()).samples, { job: 'ordertrail', instance: 'drill' });
          newest = at;
        }
      } catch {
        // A refused scrape is a gap (Prometheus: up == 0); the next one tries again.
      }
      await new Promise((r) => setTimeout(r, SCRAPE_MS));
    }
  })();
  return {
    t,
    url,
    token,
    series,
    now: () => newest,
    stop: async () => {
      scraping = false;
      await loop;
      await t.close();
    },
  };
}

/** The alert's expression at the newest scrape: the elements it answers (firing when there is any). */
function alerting(d: Drilled, alert: string, rangeScale: number): Element[] {
  return evaluate(rule(alert), d.series, d.now(), { rangeScale });
}

/** Waits until the alert's expression fires (or clears) for `projection` (any element when undefined). */
async function alertBecomes(
  d: Drilled,
  alert: string,
  state: 'firing' | 'cleared',
  { rangeScale = 1, label, ms = 15_000 }: { rangeScale?: number; label?: [string, string]; ms?: number } = {},
): Promise<Element[]> {
  let last: Element[] = [];
  await until(
    async () => {
      last = alerting(d, alert, rangeScale).filter((e) => !label || e.labels[label[0]] === label[1]);
      return last.length > 0 === (state === 'firing');
    },
    `${alert} to be ${state}${label ? ` for ${label[1]}` : ''}`,
    ms,
  );
  return last;
}

/** Runs one command line of the runbook with `<projection>` filled in, as the operator of `d`. */
async function runbook(d: Drilled, line: string, projection?: string): Promise<OpsRun> {
  const filled = projection ? line.replaceAll('<projection>', projection) : line;
  const env = { ORDERTRAIL_URL: d.url, ORDERTRAIL_TOKEN: d.token };
  const ops = /^npm run -s ops -- (.*)$/.exec(filled);
  if (ops) return runOps(ops[1]!.trim().split(/\s+/), { env, timeoutMs: 30_000 });
  if (!filled.startsWith('curl ')) throw new Error(`not a command the drill runs: ${filled}`);
  return new Promise((resolveRun, reject) => {
    const child = spawn('bash', ['-c', filled], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}

const carts = PROJECTIONS.find((p) => p.name === 'carts') as AnyProjection;

describe('the runbook drill (embedded stores)', () => {
  let d: Drilled;
  let shopper: string;

  beforeAll(async () => {
    d = await drilled({});
    shopper = d.t.bearer('drill-shopper', 'shopper');
    await writeHistory(d.t.events, { carts: 10, steps: 6, seed: 15 });
    await until(
      async () =>
        (await d.t.http.get('/admin/projections').set('authorization', `Bearer ${d.token}`)).body.items.every(
          (p: { lagEvents: number }) => p.lagEvents === 0,
        ),
      'the projections to catch up',
    );
  }, 30_000);

  afterAll(async () => {
    await d?.stop();
  });

  it('ProjectionParkedEvents: a poison event is parked → the runbook lists it, the fix is deployed, its replay clears the alert', async () => {
    // The defect: the carts projection cannot read the events of one stream from its third on (the runtime
    // hands readEvent the whole recorded event).
    const cartId = await openCart(d.t, shopper);
    await addItem(d.t, shopper, cartId, { sku: 'drill-poison-1' });
    const poisoned = `cart-${cartId}`;
    const readEvent = carts.readEvent.bind(carts);
    const broken = jest.spyOn(carts, 'readEvent').mockImplementation((recorded) => {
      const { streamId, revision } = recorded as { streamId?: string; revision?: bigint };
      if (streamId === poisoned && revision !== undefined && revision >= 2n) {
        throw new Error('drill: this release cannot read this event');
      }
      return readEvent(recorded);
    });
    try {
      await addItem(d.t, shopper, cartId, { sku: 'drill-poison-2' });
      const fired = await alertBecomes(d, 'ProjectionParkedEvents', 'firing', {
        label: ['projection', 'carts'],
      });
      expect(fired[0]!.value).toBe(1);

      // Check first: what is parked, and why.
      const parked = await runbook(d, runbookCommand('ProjectionParkedEvents', /ops -- parked /), 'carts');
      expect(parked.code).toBe(0);
      expect(parked.stdout).toContain(poisoned);
      expect(parked.stdout).toContain('drill: this release cannot read this event');
    } finally {
      broken.mockRestore(); // the fix is deployed
    }
    const replayed = await runbook(d, runbookCommand('ProjectionParkedEvents', /replay-parked/), 'carts');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/^replayed 1 parked event of carts/);

    await alertBecomes(d, 'ProjectionParkedEvents', 'cleared', { label: ['projection', 'carts'] });
    const confirm = await runbook(d, runbookCommand('ProjectionParkedEvents', /ops -- parked /), 'carts');
    expect(confirm.stdout).toBe('no parked events for carts\n');
    const cart = await d.t.http.get(`/carts/${cartId}`).set('authorization', shopper).expect(200);
    expect(cart.body.meta.source).toBe('read-store');
    expect(cart.body.data.lines.map((l: { sku: string }) => l.sku).sort()).toEqual([
      'drill-poison-1',
      'drill-poison-2',
    ]);
  }, 30_000);

  it('ProjectionBehindBudget and FreshnessBudgetBurnFast: carts paused past its 1 s budget fires, the runbook’s resume clears both', async () => {
    // Windows scaled by 1/300: [5m] is 1 s, [30m] 6 s, [1h] 12 s.
    const rangeScale = 1 / 300;
    const paused = await runOps(['pause', 'carts'], {
      env: { ORDERTRAIL_URL: d.url, ORDERTRAIL_TOKEN: d.token },
    });
    expect(paused.code).toBe(0);
    const cartId = await openCart(d.t, shopper);
    const writing = (async () => {
      for (let i = 0; i < 12; i++) {
        await addItem(d.t, shopper, cartId, { sku: `drill-late-${i % 4}` });
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    await alertBecomes(d, 'ProjectionBehindBudget', 'firing', { label: ['projection', 'carts'] });
    await writing;

    const check = await runbook(d, runbookCommand('ProjectionBehindBudget', /ops -- projections </), 'carts');
    expect(check.stdout).toMatch(/^status:\s+paused/m);
    const resumed = await runbook(d, runbookCommand('ProjectionBehindBudget', /ops -- resume /), 'carts');
    expect(resumed.code).toBe(0);

    // Every event of the backlog was applied late: the burn shows, then stops with the backlog.
    await alertBecomes(d, 'FreshnessBudgetBurnFast', 'firing', {
      rangeScale,
      label: ['projection', 'carts'],
      ms: 5000,
    });
    await alertBecomes(d, 'ProjectionBehindBudget', 'cleared', { label: ['projection', 'carts'] });
    await alertBecomes(d, 'FreshnessBudgetBurnFast', 'cleared', {
      rangeScale,
      label: ['projection', 'carts'],
    });
    const confirm = await runbook(
      d,
      runbookCommand('ProjectionBehindBudget', /ops -- projections </),
      'carts',
    );
    expect(confirm.stdout).toMatch(/^lag:\s+0 events/m);
  }, 30_000);

  it('ProjectionDrift: a document corrupted behind the service’s back is found → degraded; verify --repair clears it', async () => {
    const [victim] = (
      await d.t.http.get('/admin/projections/carts').set('authorization', `Bearer ${d.token}`)
    ).body.collections as string[];
    const db = openSqlite(join(d.t.dataDir, 'read.sqlite'));
    let corrupted: string;
    try {
      db.pragma('busy_timeout = 5000');
      const row = db.prepare(`SELECT id FROM "${victim}" ORDER BY id LIMIT 1 OFFSET 3`).get() as {
        id: string;
      };
      corrupted = row.id;
      const changed = db
        .prepare(`UPDATE "${victim}" SET data = json_set(data, '$.currency', 'XXX') WHERE id = ?`)
        .run(corrupted).changes;
      expect(changed).toBe(1);
    } finally {
      db.close();
    }

    await alertBecomes(d, 'ProjectionDrift', 'firing', { label: ['projection', 'carts'] });
    const check = await runbook(d, runbookCommand('ProjectionDrift', /ops -- projections </), 'carts');
    expect(check.stdout).toMatch(/^status:\s+running, degraded/m);
    expect(check.stdout).toContain(`${corrupted} in cart-${corrupted}: data.currency`);
    const ready = await runbook(d, runbookCommand('ProjectionDrift', /curl .*health\/ready/));
    expect([ready.code, JSON.parse(ready.stdout)]).toEqual([
      0,
      { status: 'up', components: { eventStore: 'up', readStore: 'up', projections: 'degraded' } },
    ]);

    const repair = await runbook(d, runbookCommand('ProjectionDrift', /verify .*--repair/), 'carts');
    expect(repair.code).toBe(0);
    expect(repair.stdout).toMatch(/1 drifted, 1 repaired/);

    await alertBecomes(d, 'ProjectionDrift', 'cleared', { label: ['projection', 'carts'] });
    const confirm = await runbook(d, runbookCommand('ProjectionDrift', /curl .*health\/ready/));
    expect(JSON.parse(confirm.stdout).components.projections).toBe('up');
  }, 30_000);
});

(ferretDbBuilt() ? describe : describe.skip)('the runbook drill (read store on a private FerretDB)', () => {
  let dir: string;
  let ferret: PrivateFerretDb;
  let d: Drilled;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-drill-'));
    ferret = await startPrivateFerretDb(dir);
    d = await drilled({ MONGODB_URI: databaseUri(ferret, 'drill') });
  }, 60_000);

  afterAll(async () => {
    await d?.stop();
    await stopPrivateFerretDb(ferret);
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('ReadStoreDown and HighServerErrorRate: the read store killed fires both; brought back, they clear as the runbook confirms', async () => {
    // Windows scaled by 1/30: [5m] is 10 s (a scrape takes up to the 2 s probe timeout while the store is down).
    const rangeScale = 1 / 30;
    const shopper = d.t.bearer('drill-shopper', 'shopper');
    const cartId = await openCart(d.t, shopper);
    await until(
      async () =>
        (await d.t.http.get(`/carts/${cartId}`).set('authorization', shopper)).body.meta?.source ===
        'read-store',
      'the cart to be projected',
    );
    let reading = true;
    const reads = (async () => {
      while (reading) {
        await d.t.http.get(`/carts/${cartId}`).set('authorization', shopper);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await alertBecomes(d, 'ReadStoreDown', 'cleared');
      await run('kill', ['-9', ferret.pid]);

      const down = await alertBecomes(d, 'ReadStoreDown', 'firing', { ms: 20_000 });
      expect(down.map((e) => e.labels.store)).toEqual(['read_store']);
      await alertBecomes(d, 'HighServerErrorRate', 'firing', { rangeScale, ms: 20_000 });
      const check = await runbook(d, runbookCommand('ReadStoreDown', /curl .*health\/ready/));
      expect(check.code).toBe(22); // curl -f: the 503
      expect(check.stderr).toMatch(/503/);

      // The fix: the read store back (same port, same files). Nothing else.
      ferret = await startPrivateFerretDb(dir, ferret.port);
      await alertBecomes(d, 'ReadStoreDown', 'cleared', { ms: 20_000 });
      const confirm = await runbook(d, runbookCommand('ReadStoreDown', /curl .*health\/ready/));
      expect([confirm.code, JSON.parse(confirm.stdout || '{}').components?.readStore]).toEqual([0, 'up']);
      await alertBecomes(d, 'HighServerErrorRate', 'cleared', { rangeScale, ms: 25_000 });
    } finally {
      reading = false;
      await reads;
    }
    const projections = await runbook(d, runbookCommand('ReadStoreDown', /ops -- projections$/));
    expect(projections.code).toBe(0);
    expect(projections.stdout).not.toMatch(/faulted|stalled/);
  }, 60_000);
});
