import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { runCli, type CliIo } from '../../src/operations/cli/cli.js';
import { ReadStore } from '../../src/read-side/read-store.port.js';
import { PROJECTIONS } from '../../src/projections.js';
import { LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import {
  ADMIN_LISTED,
  OPS_BIN,
  runOps,
  startServedApp,
  type OpsRun,
  type ServedApp,
} from '../support/operator-tools.js';
import { until } from '../support/projection-runtime.js';
import { freePort } from '../support/service-process.js';
import { placeOrder } from '../support/cart-fixtures.js';
import { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET } from '../support/test-app.js';

/**
 * The operator CLI, built (dist/operations/cli/main.js, what the `bin` runs), as its own process against the
 * app listening on a port: every command's output and exit code, `--json` shapes, a rebuild to 100 %,
 * Ctrl-C while watching, and the failures (unknown projection, no token, wrong role, unreachable service).
 */
const ESC = '\x1b';

describe('operator CLI (ordertrail-ops)', () => {
  let t: ServedApp;
  let env: Record<string, string>;
  const jwt = new JwtService({ secret: TEST_JWT_SECRET, signOptions: { expiresIn: '1h' } });

  beforeAll(async () => {
    t = await startServedApp();
    env = { ORDERTRAIL_URL: t.url, ORDERTRAIL_TOKEN: jwt.sign({ sub: 'ops', roles: ['operator'] }) };
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  const ops = (...args: string[]): Promise<OpsRun> => runOps(args, { env });
  /** The whole stdout as one JSON document (it fails the test when it is not). */
  const json = (run: OpsRun) => JSON.parse(run.stdout);
  /** Lines of a table without the header. */
  const rows = (stdout: string): string[][] =>
    stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s{2,}/));

  describe('packaging and usage', () => {
    it('is the bin of the package and of `npm run ops`', () => {
      const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8'));
      expect(resolve(import.meta.dirname, '../..', pkg.bin['ordertrail-ops'])).toBe(OPS_BIN);
      expect(pkg.scripts.ops).toBe(
        'exec node $([ -f .env ] && echo --env-file=.env) dist/operations/cli/main.js',
      );
      expect(readFileSync(OPS_BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    });

    it('help lists every command and exits 0; no command or a bad command line exits 2', async () => {
      const help = await ops('help');
      expect(help.code).toBe(0);
      for (const command of [
        'projections',
        'pause',
        'resume',
        'rebuild',
        'verify',
        'jobs',
        'job',
        'cancel',
        'parked',
        'replay-parked',
        'pay',
        'token',
      ]) {
        expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
      }
      expect(help.stdout).toContain(
        'exit codes: 0 ok, 1 the service reported a failure, 2 usage error, 3 the service cannot be reached',
      );
      expect((await ops('--help')).code).toBe(0);
      expect((await ops('rebuild', '--help')).stdout).toContain('usage: ordertrail-ops rebuild <name>');

      const cases: [string[], RegExp][] = [
        [[], /usage: ordertrail-ops <command>/],
        [['bogus'], /unknown command "bogus"/],
        [['pause'], /missing <name>/],
        [['pause', 'orders', 'carts'], /unexpected argument "carts"/],
        [['pause', 'orders', '--repair'], /--repair does not apply to "pause"/],
        [['projections', '--frobnicate'], /Unknown option '--frobnicate'/],
        [['parked', 'orders', '--limit', '0'], /--limit must be a whole number from 1 to 1,000/],
        [['replay-parked', 'orders', '--limit', 'all'], /--limit must be a whole number/],
        [['projections', '--url', 'not a url'], /"not a url" is not a URL/],
        [['projections', '--url', 'ftp://example.com'], /is not an http\(s\) URL/],
        [['token', '--sub', 'x'], /--role is required/],
        [['token', '--role', 'admin', '--sub', 'x'], /unknown role "admin"/],
        [['token', '--role', 'operator'], /--sub is required/],
      ];
      for (const [args, message] of cases) {
        const run = await ops(...args);
        expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(run.stderr).toMatch(message);
      }
    });
  });

  describe('token', () => {
    it('prints a dev token signed with AUTH_JWT_SECRET that the service accepts; --json wraps it', async () => {
      const run = await runOps(
        ['token', '--role', 'operator', '--role', 'auditor', '--sub', 'ops-2', '--ttl', '60'],
        {
          env: { AUTH_JWT_SECRET: TEST_JWT_SECRET },
        },
      );
      expect(run.code).toBe(0);
      const token = run.stdout.trim();
      const claims = jwt.verify<{ sub: string; roles: string[]; exp: number; iat: number }>(token);
      expect(claims).toMatchObject({ sub: 'ops-2', roles: ['operator', 'auditor'] });
      expect(claims.exp - claims.iat).toBe(60);
      const listed = await runOps(['projections', '--json'], {
        env: { ORDERTRAIL_URL: t.url, ORDERTRAIL_TOKEN: token },
      });
      expect(listed.code).toBe(0);

      const wrapped = await runOps(['token', '--role', 'shopper', '--sub', 'c-1', '--json'], {
        env: { AUTH_JWT_SECRET: TEST_JWT_SECRET },
      });
      expect(Object.keys(json(wrapped))).toEqual(['token', 'secret', 'expiresAt']);
      expect(json(wrapped).secret).toBe('AUTH_JWT_SECRET');
      expect(jwt.verify(json(wrapped).token)).toMatchObject({ sub: 'c-1', roles: ['shopper'] });
    });
  });

  describe('pay', () => {
    it('pays an order as the payment provider would: a webhook signed with PAYMENT_WEBHOOK_SECRET', async () => {
      const shopper = t.bearer('cli-payer', 'shopper');
      const { orderId, total } = await placeOrder(t, shopper);
      const run = await runOps(['pay', orderId], {
        env: {
          ORDERTRAIL_URL: t.url,
          AUTH_JWT_SECRET: TEST_JWT_SECRET,
          PAYMENT_WEBHOOK_SECRET: TEST_PAYMENT_WEBHOOK_SECRET,
        },
      });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(
        `order ${orderId}: payment.succeeded of ${(total / 100).toFixed(2)} EUR applied`,
      );
      const [, paid] = await t.readStream(`order-${orderId}`);
      expect(paid).toMatchObject({ type: 'OrderPaid', data: { amount: total } });
      expect(paid!.metadata).toMatchObject({
        actor: 'payment-provider',
        providerEventType: 'payment.succeeded',
      });

      // Signed with another secret, the service refuses it and nothing is written.
      const other = await placeOrder(t, shopper);
      const refused = await runOps(['pay', other.orderId, '--amount', '1', '--currency', 'EUR'], {
        env: { ORDERTRAIL_URL: t.url, PAYMENT_WEBHOOK_SECRET: 'another-secret-entirely-0123456789abcdef' },
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('INVALID_SIGNATURE');
      expect((await t.readStream(`order-${other.orderId}`)).map((e) => e.type)).toEqual(['OrderPlaced']);
    });
  });

  describe('projections, pause, resume', () => {
    it('projections prints the table: name, status, generation, position, lag, events/s, parked, heartbeat, freshness, budget, owner', async () => {
      const run = await ops('projections');
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const [header, ...lines] = run.stdout.trimEnd().split('\n');
      expect(header!.split(/\s{2,}/)).toEqual([
        'NAME',
        'STATUS',
        'GEN',
        'POSITION',
        'LAG',
        'LAG TIME',
        'EV/S',
        'PARKED',
        'HEARTBEAT',
        'FRESH P50/P99',
        'BUDGET',
        'OWNER',
      ]);
      expect(lines).toHaveLength(7);
      const table = rows(run.stdout);
      expect(table.map((r) => r[0])).toEqual(ADMIN_LISTED);
      const orders = table[1]!;
      expect(orders[1]).toBe('running');
      expect(orders[2]).toMatch(/^\d+$/);
      expect(orders[3]).toMatch(/^[\d,]+$/);
      expect(orders.slice(4, 8)).toEqual(['0', '0', expect.stringMatching(/^[\d.,]+$/), '0']);
      expect(orders[8]).toMatch(/ ago$/);
      // Freshness p50/p99 of what this instance applied lately (or -), and the budget of orders.
      expect(orders[9]).toMatch(/^(?:-|\d+(?:\.\d)? m?s\/\d+(?:\.\d)? m?s)$/);
      expect(orders[10]).toBe('1 s');
      expect(table[5]!.slice(9, 11)).toEqual(['-', '-']); // a process manager has neither
      // The embedded store: this instance (INSTANCE_ID, by default <hostname>:<pid>) runs every group.
      expect(orders[11]).toBe(`${hostname()}:${process.pid}`);
      expect(table[5]![2]).toBe('-'); // the process manager has no generation
      expect(run.stdout).not.toContain('\x1b['); // no colours when stdout is not a terminal
    });

    it('projections --json is the service document; projections <name> shows one', async () => {
      const run = await ops('projections', '--json');
      expect(run.code).toBe(0);
      const body = json(run);
      expect(body.items.map((p: { name: string }) => p.name)).toEqual(ADMIN_LISTED);
      expect(body.items[1]).toEqual(
        expect.objectContaining({
          name: 'orders',
          status: 'running',
          liveGeneration: expect.any(Number),
          position: expect.any(Number),
          lagEvents: 0,
          lagMs: 0,
          eventsPerSecond: expect.any(Number),
          parked: 0,
          lastHeartbeat: expect.any(String),
        }),
      );

      const one = await ops('projections', 'order_timeline');
      expect(one.code).toBe(0);
      expect(one.stdout).toMatch(/^name:\s+order_timeline \(projection, group projection-order_timeline\)$/m);
      expect(one.stdout).toMatch(/^generation:\s+\d+ \(order_timeline_streams_g\d+, order_timeline_g\d+\)$/m);
      expect(one.stdout).toMatch(
        /^freshness:\s+(?:p50\/p99 .+ of [\d,]+ applied in the last 5 min|-), budget 5 s, [\d,]+ over budget$/m,
      );
      expect(json(await ops('projections', 'orders', '--json'))).toMatchObject({
        name: 'orders',
        kind: 'projection',
      });
    });

    it('pause stops the projection and resume starts it again (text and --json)', async () => {
      const paused = await ops('pause', 'order_search');
      expect(paused).toMatchObject({ code: 0, stdout: 'order_search paused: status paused, lag 0 events\n' });
      expect(rows((await ops('projections')).stdout).find((r) => r[0] === 'order_search')![1]).toBe('paused');
      const resumed = await ops('resume', 'order_search', '--json');
      expect(resumed.code).toBe(0);
      expect(json(resumed)).toMatchObject({ name: 'order_search', status: 'running', paused: false });
      const again = await ops('pause', 'order_search', '--json');
      expect(json(again)).toMatchObject({ status: 'paused', paused: true });
      expect((await ops('resume', 'order_search')).stdout).toBe(
        'order_search resumed: status running, lag 0 events\n',
      );
    });
  });

  describe('rebuild and jobs', () => {
    it('rebuild shows plain progress lines (no carriage return off a terminal) up to 100 % and exits 0', async () => {
      const before = json(await ops('projections', 'orders', '--json'));
      const run = await ops('rebuild', 'orders', '--interval', '100');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).not.toContain('\r');
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        new RegExp(
          `^rebuild of orders started: job [0-9a-f-]{36} \\(generation ${before.liveGeneration} → ${before.liveGeneration + 1}\\)$`,
        ),
      );
      const progress = lines.filter((line) => line.startsWith('rebuild orders ['));
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress.at(-1)).toMatch(
        /^rebuild orders \[#{30}\] 100\.0% {2}([\d,]+)\/\1 events .*succeeded$/,
      );
      // It was watched while it ran: a line of the building phase before the end.
      expect(progress.some((line) => / building$/.test(line))).toBe(true);
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^rebuild of orders succeeded: generation ${before.liveGeneration + 1} is live \\(was ${before.liveGeneration}\\), [\\d,]+ events in `,
        ),
      );
      const after = json(await ops('projections', 'orders', '--json'));
      expect(after).toMatchObject({
        status: 'running',
        liveGeneration: before.liveGeneration + 1,
        job: null,
      });
    }, 60_000);

    it('rebuild --json prints only the finished job document', async () => {
      const run = await ops('rebuild', 'order_search', '--json', '--interval', '100');
      expect(run.code).toBe(0);
      const job = json(run); // the whole stdout is one JSON document
      expect(job).toMatchObject({
        kind: 'rebuild',
        projection: 'order_search',
        state: 'succeeded',
        phase: 'done',
        progress: 1,
      });
      expect(job.eventsDone).toBe(job.eventsTotal);
      expect(job.links.self).toBe(`/admin/jobs/${job.id}`);
    }, 60_000);

    it('on a terminal the bar is redrawn in place (\\r, erase line) and ends with a newline', async () => {
      let out = '';
      const io: CliIo = {
        stdout: { isTTY: true, columns: 120, write: (text: string) => (out += text) },
        stderr: { write: (text: string) => (out += text) },
        env: { ORDERTRAIL_URL: t.url, ORDERTRAIL_TOKEN: env.ORDERTRAIL_TOKEN, NO_COLOR: '1' },
      };
      expect(await runCli(['rebuild', 'carts', '--interval', '100'], io)).toBe(0);
      const redraws = out.split('\r').slice(1);
      expect(redraws.length).toBeGreaterThanOrEqual(2);
      for (const redraw of redraws.slice(0, -1)) {
        expect(redraw).toMatch(/^rebuild carts \[[█░]{30}\] /);
        expect(redraw.endsWith(`${ESC}[K`)).toBe(true);
      }
      expect(redraws.at(-1)).toMatch(/^rebuild carts \[█{30}\] 100\.0% .*succeeded/);
      // The last frame ends its line; the outcome follows on a line of its own.
      expect(redraws.at(-1)).toContain(`succeeded${ESC}[K\nrebuild of carts succeeded: `);
    }, 60_000);

    it('a second rebuild is refused (exit 1, the detail, a hint); --detach, jobs, job, job --watch, cancel', async () => {
      const detached = await ops('rebuild', 'carts', '--detach', '--json');
      expect(detached.code).toBe(0);
      const started = json(detached);
      expect(started).toMatchObject({ kind: 'rebuild', projection: 'carts', state: 'running' });

      const refused = await ops('rebuild', 'carts');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(`(HTTP 409 JOB_RUNNING)`);
      expect(refused.stderr).toContain(started.id);
      expect(refused.stderr).toContain(`hint: watch it with "npm run -s ops -- job ${started.id} --watch"`);
      const refusedJson = await ops('verify', 'carts', '--json');
      expect(refusedJson.code).toBe(1);
      expect(json(refusedJson)).toMatchObject({
        error: { status: 409, code: 'JOB_RUNNING', jobId: started.id },
      });

      const listed = await ops('jobs', '--projection', 'carts');
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual([
        'ID',
        'KIND',
        'PROJECTION',
        'STATE',
        'PHASE',
        'PROGRESS',
        'EVENTS',
        'STARTED',
        'TOOK',
      ]);
      expect(rows(listed.stdout)[0]!.slice(0, 3)).toEqual([started.id, 'rebuild', 'carts']);
      expect(rows(listed.stdout)[0]![3]).toMatch(/^(running|succeeded)$/);

      const watched = await ops('job', started.id, '--watch', '--interval', '100');
      expect(watched.code).toBe(0);
      expect(watched.stdout).toMatch(/^rebuild carts \[#{30}\] 100\.0% .*succeeded$/m);
      expect(watched.stdout).toMatch(/^rebuild of carts succeeded: generation \d+ is live/m);

      const shown = await ops('job', started.id);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^job:\\s+${started.id} \\(rebuild of carts\\)$`, 'm'));
      expect(shown.stdout).toMatch(/^state:\s+succeeded, phase done$/m);
      expect(shown.stdout).toMatch(/^progress:\s+100\.0% \(/m);
      expect(json(await ops('job', started.id, '--json'))).toMatchObject({
        id: started.id,
        state: 'succeeded',
      });
      const all = json(await ops('jobs', '--json', '--state', 'succeeded', '--limit', '50'));
      expect(all.items.map((j: { id: string }) => j.id)).toContain(started.id);

      const late = await ops('cancel', started.id);
      expect(late.code).toBe(1);
      expect(late.stderr).toContain('(HTTP 409 JOB_NOT_CANCELLABLE)');

      const next = json(await ops('rebuild', 'carts', '--detach', '--json'));
      const cancelled = await ops('cancel', next.id);
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toMatch(
        /^rebuild of carts cancelled \(job .*\); generation \d+ keeps serving$/m,
      );
      expect(json(await ops('job', next.id, '--json'))).toMatchObject({ state: 'cancelled' });
      const gone = await ops('job', randomUUID());
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^error: job .* was not found \(HTTP 404 JOB_NOT_FOUND\)$/m);
    }, 90_000);

    it('Ctrl-C stops watching (exit 130) and says how to watch again or cancel; the rebuild goes on', async () => {
      let interrupted = false;
      const run = await runOps(['rebuild', 'carts', '--interval', '100'], {
        env,
        onOutput: (stdout, child) => {
          if (!interrupted && /^rebuild carts \[/m.test(stdout)) {
            interrupted = true;
            child.kill('SIGINT');
          }
        },
      });
      expect(run.code).toBe(130);
      const id = /job ([0-9a-f-]{36})/.exec(run.stdout)![1]!;
      expect(run.stderr).toContain(`stopped watching; the rebuild of carts goes on (job ${id})`);
      expect(run.stderr).toContain(`watch it again: npm run -s ops -- job ${id} --watch`);
      expect(run.stderr).toContain(`cancel it:      npm run -s ops -- cancel ${id}`);
      const resumed = await ops('job', id, '--watch', '--json', '--interval', '100');
      expect(resumed.code).toBe(0);
      expect(json(resumed)).toMatchObject({ id, state: 'succeeded', progress: 1 });
    }, 60_000);

    it('the process manager cannot be rebuilt: exit 1 with the detail', async () => {
      const run = await ops('rebuild', 'place-order-on-checkout');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: .*place-order-on-checkout.* \(HTTP 409 NOT_A_PROJECTION\)$/m);
    });
  });

  describe('verify', () => {
    it('prints the drift report of a document corrupted on purpose (exit 4); --repair fixes it (exit 0)', async () => {
      await t.caughtUp();
      const store = t.app.get(ReadStore);
      const generations = t.app.get(LiveGenerations);
      const collection = await generations.collection(PROJECTIONS.find((p) => p.name === 'orders')!);
      const orderId = t.history.orders[2]!;
      const original = (await store.get(collection, orderId))!;
      await store.write(collection, [
        {
          id: orderId,
          expectedRevision: original.revision,
          revision: original.revision,
          position: original.position,
          data: { ...original.data, total: 4242 },
        },
      ]);

      const found = await ops('verify', 'orders', '--interval', '100');
      expect(found.stderr).toBe('');
      expect(found.code).toBe(4);
      expect(found.stdout).toMatch(/^verify of orders started: job [0-9a-f-]{36}$/m);
      expect(found.stdout).toMatch(/^verify orders \[#{30}\] 100\.0% .*succeeded$/m);
      expect(found.stdout).toMatch(
        /^verify of orders: [\d,]+ documents compared, 1 drifted, 0 repaired, 0 pending /m,
      );
      const report = found.stdout.slice(found.stdout.indexOf('COLLECTION'));
      expect(report.split('\n')[0]!.split(/\s{2,}/)).toEqual([
        'COLLECTION',
        'ID',
        'KIND',
        'REPAIRED',
        'FIELD',
        'LIVE',
        'EXPECTED',
      ]);
      expect(report.split('\n')[1]!.split(/\s{2,}/)).toEqual([
        'orders',
        orderId,
        'changed',
        'no',
        'data.total',
        '4242',
        String(original.data.total as number),
      ]);
      expect(found.stdout).toContain(
        'hint: "npm run -s ops -- verify orders --repair" writes the expected documents',
      );

      const repaired = await ops('verify', 'orders', '--repair', '--json', '--interval', '100');
      expect(repaired.code).toBe(0);
      expect(json(repaired)).toMatchObject({
        kind: 'verify',
        repair: true,
        state: 'succeeded',
        result: {
          drifted: 1,
          repaired: 1,
          drift: [expect.objectContaining({ id: orderId, repaired: true })],
        },
      });
      const clean = await ops('verify', 'orders', '--interval', '100');
      expect(clean.code).toBe(0);
      expect(clean.stdout).toMatch(
        /^verify of orders: [\d,]+ documents compared, 0 drifted, 0 repaired, 0 pending /m,
      );
      expect(clean.stdout).not.toContain('COLLECTION');
    }, 90_000);
  });

  describe('parked events', () => {
    it('parked lists a poison event with its reason; replay-parked delivers it again (text and --json)', async () => {
      expect((await ops('parked', 'order_timeline')).stdout).toBe('no parked events for order_timeline\n');
      // An order stream that starts with a delivery: the timeline cannot describe it, so it is parked.
      const stream = `order-${randomUUID()}`;
      await t.events.append(
        stream,
        [{ id: randomUUID(), type: 'OrderDelivered', data: {}, metadata: { schemaVersion: 1 } }],
        'no_stream',
      );
      await until(
        async () => json(await ops('projections', 'order_timeline', '--json')).parked === 1,
        'the event to be parked',
      );

      const listed = await ops('parked', 'order_timeline');
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual([
        'POSITION',
        'STREAM',
        'REV',
        'TYPE',
        'RETRIES',
        'PARKED',
        'REASON',
      ]);
      const [row] = rows(listed.stdout);
      expect(row!.slice(1, 5)).toEqual([stream, '0', 'OrderDelivered', '0']);
      expect(row![6]).toMatch(/OrderDelivered before OrderPlaced/);
      expect(listed.stdout.trimEnd().split('\n').at(-1)).toBe('1 parked events');
      expect(rows((await ops('projections')).stdout).find((r) => r[0] === 'order_timeline')![7]).toBe('1');

      const asJson = json(await ops('parked', 'order_timeline', '--json', '--limit', '10'));
      expect(asJson).toMatchObject({
        total: 1,
        items: [expect.objectContaining({ streamId: stream, type: 'OrderDelivered', retryCount: 0 })],
      });

      const replayed = await ops('replay-parked', 'order_timeline', '--limit', '1');
      expect(replayed.code).toBe(0);
      expect(replayed.stdout).toMatch(/^replayed 1 parked event of order_timeline: delivered again/);
      // Still poison: parked again.
      await until(
        async () => json(await ops('parked', 'order_timeline', '--json')).total === 1,
        'the event to be parked again',
      );
      const all = await ops('replay-parked', 'order_timeline', '--json');
      expect(all.code).toBe(0);
      expect(json(all)).toEqual({ replayed: 1 });
    }, 60_000);
  });

  describe('failures', () => {
    it('an unknown projection: exit 1 with the problem detail (and the problem as JSON with --json)', async () => {
      for (const args of [
        ['projections', 'nope'],
        ['pause', 'nope'],
        ['rebuild', 'nope'],
        ['parked', 'nope'],
      ]) {
        const run = await ops(...args);
        expect({ args, code: run.code }).toEqual({ args, code: 1 });
        expect(run.stderr).toBe('error: projection nope was not found (HTTP 404 PROJECTION_NOT_FOUND)\n');
      }
      const run = await ops('verify', 'nope', '--json');
      expect(run.code).toBe(1);
      expect(json(run)).toMatchObject({
        error: { status: 404, code: 'PROJECTION_NOT_FOUND', detail: 'projection nope was not found' },
      });
    });

    it('no token: exit 1 with the 401 detail and how to get one; a shopper token: exit 1 with the 403 detail', async () => {
      const run = await runOps(['projections'], { env: { ORDERTRAIL_URL: t.url } });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('error: Missing Authorization: Bearer <token> (HTTP 401 UNAUTHORIZED)');
      expect(run.stderr).toContain('hint: set ORDERTRAIL_TOKEN or pass --token');

      const shopper = jwt.sign({ sub: 'c-1', roles: ['shopper'] });
      const forbidden = await runOps(['rebuild', 'orders', '--token', shopper], {
        env: { ORDERTRAIL_URL: t.url },
      });
      expect(forbidden.code).toBe(1);
      expect(forbidden.stderr).toContain('(HTTP 403 FORBIDDEN)');
      expect(forbidden.stderr).toContain('hint: the admin API needs a token with the operator role');
      const bad = await runOps(['projections', '--json', '--token', 'not.a.token'], {
        env: { ORDERTRAIL_URL: t.url },
      });
      expect(bad.code).toBe(1);
      expect(json(bad)).toMatchObject({ error: { status: 401, code: 'UNAUTHORIZED' } });
    });

    it('a service that cannot be reached: exit 3 for every command that needs it', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      for (const args of [['projections'], ['rebuild', 'orders'], ['replay-parked', 'orders']]) {
        const run = await runOps([...args, '--url', closed], {
          env: { ORDERTRAIL_TOKEN: env.ORDERTRAIL_TOKEN! },
        });
        expect({ args, code: run.code }).toEqual({ args, code: 3 });
        expect(run.stderr).toBe(`error: cannot reach the service at ${closed}: ECONNREFUSED\n`);
      }
      const run = await runOps(['projections', '--json'], {
        env: { ORDERTRAIL_URL: closed, ORDERTRAIL_TOKEN: 'x' },
      });
      expect(run.code).toBe(3);
      expect(json(run)).toEqual({
        error: { code: 'UNREACHABLE', detail: `cannot reach the service at ${closed}: ECONNREFUSED` },
      });
    });
  });
});
