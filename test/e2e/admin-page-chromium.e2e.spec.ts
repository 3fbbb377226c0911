import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { ADMIN_LISTED, startServedApp, type ServedApp } from '../support/operator-tools.js';
import { TEST_JWT_SECRET } from '../support/test-app.js';

/**
 * The admin page in headless Chromium (Debian's `chromium`, driven by playwright-core), against the app
 * listening on a port with a few hundred events of carts and orders: a person signs in with an operator
 * token, pauses and resumes, starts a rebuild and sees its progress reach 100 % and the projection return
 * to running, replays a parked event, and is sent back to sign-in when the token is refused. The page must
 * never trip its Content-Security-Policy or throw. Screenshot: test-artifacts/admin-page-rebuild.png.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOT = resolve(ARTIFACTS, 'admin-page-rebuild.png');
const TOKEN_KEY = 'ordertrail.operatorToken';

if (!existsSync(CHROMIUM)) {
  process.stdout.write(
    `Admin page browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)\n`,
  );
  describe('admin page in headless Chromium', () => {
    it.skip(`needs ${CHROMIUM} (apt-get install -y chromium)`, () => undefined);
  });
} else {
  describe('admin page in headless Chromium', () => {
    let t: ServedApp;
    let browser: Browser;
    let page: Page;
    /** Console errors (a CSP violation shows as one) and uncaught exceptions of the page. */
    const problems: string[] = [];
    const jwt = new JwtService({ secret: TEST_JWT_SECRET, signOptions: { expiresIn: '1h' } });
    const operator = jwt.sign({ sub: 'ops-ana', roles: ['operator'] });

    beforeAll(async () => {
      // Slow pages of events: the rebuild lasts a few seconds, so a person can watch it move.
      t = await startServedApp({ REBUILD_PAGE_DELAY_MS: '150', REBUILD_DROP_GRACE_MS: '2500' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
      page.on('console', (message) => {
        // An error answer of the API is logged by Chromium as a failed load: expected here (401/403/409).
        const answered = message
          .text()
          .startsWith('Failed to load resource: the server responded with a status of');
        if (message.type() === 'error' && !answered) problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.setDefaultTimeout(15_000);
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    afterEach(() => {
      expect(problems.splice(0)).toEqual([]);
    });

    /** The token the page keeps (the test's tsconfig has no DOM types: the page evaluates a string). */
    const storedToken = () =>
      page.evaluate<string | null>(`sessionStorage.getItem(${JSON.stringify(TOKEN_KEY)})`);
    const row = (name: string): Locator => page.locator(`tr[data-projection="${name}"]`);
    const status = (name: string): Locator => row(name).locator('.status');

    async function signIn(token: string): Promise<void> {
      await page.locator('#token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }

    it("asks for a token first, and refuses one that is not an operator's", async () => {
      const response = await page.goto(`${t.url}/admin/`);
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('ordertrail · operations');
      await page.locator('#sign-in').waitFor({ state: 'visible' });
      expect(await page.locator('#console').isHidden()).toBe(true);

      await signIn('not a token');
      await expectText(page.locator('#sign-in-message'), 'That is not a JWT');

      await signIn(jwt.sign({ sub: 'c-1', roles: ['shopper'] }));
      await expectText(page.locator('#sign-in-message'), 'This token does not have the operator role');
      expect(await page.locator('#console').isHidden()).toBe(true);
      expect(await storedToken()).toBeNull();
    }, 30_000);

    it('signs in with an operator token and shows every projection, refreshing, with a lag chart', async () => {
      await signIn(operator);
      await page.locator('#console').waitFor({ state: 'visible' });
      await expectText(page.locator('#who'), 'ops-ana (operator)');
      await row('place-order-on-checkout').waitFor();
      expect(
        await page
          .locator('#projections tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-projection'))),
      ).toEqual(ADMIN_LISTED);
      await expectText(status('orders'), 'running');
      expect(await row('orders').locator('td').nth(3).textContent()).toMatch(/^0 events/);
      expect(await row('orders').locator('svg.sparkline').getAttribute('aria-label')).toMatch(
        /^Lag over the last \d+ refreshes: now 0 events/,
      );
      // The table refreshes by itself: the lag chart gets a sample per refresh.
      const samples = async () =>
        Number(
          /last (\d+) refreshes/.exec(
            (await row('orders').locator('svg.sparkline').getAttribute('aria-label')) ?? '',
          )?.[1],
        );
      const before = await samples();
      await page.waitForTimeout(2800);
      expect(await samples()).toBeGreaterThan(before);
      expect(await storedToken()).toBeTruthy();
    }, 30_000);

    it('pauses and resumes a projection', async () => {
      await page.getByRole('button', { name: 'Pause order_search' }).click();
      await expectText(status('order_search'), 'paused');
      await page.getByRole('button', { name: 'Resume order_search' }).click();
      await expectText(status('order_search'), 'running');
    }, 30_000);

    it('rebuilds a projection: the progress bar moves to 100 % and the status returns to running', async () => {
      const generation = Number(await row('orders').locator('td').nth(1).textContent());
      await page.getByRole('button', { name: 'Rebuild orders' }).click();
      const job = page.locator('li.job[data-kind="rebuild"][data-projection="orders"]').first();
      await job.waitFor();

      // What a person sees while it runs, sampled every 100 ms until the job ends.
      const seen = { percents: new Set<string>(), statuses: new Set<string>(), facts: new Set<string>() };
      const deadline = Date.now() + 60_000;
      while ((await job.getAttribute('data-state')) === 'running') {
        seen.percents.add((await job.locator('.percent').textContent()) ?? '');
        seen.statuses.add((await status('orders').textContent()) ?? '');
        seen.facts.add((await job.locator('.facts').textContent()) ?? '');
        if (Date.now() > deadline) throw new Error('the rebuild did not end within 60 s');
        await page.waitForTimeout(100);
      }
      expect(await job.getAttribute('data-state')).toBe('succeeded');
      await expectText(job.locator('.percent'), '100%');
      expect(await job.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
      expect(await job.locator('.status').textContent()).toBe('succeeded');
      expect(await job.locator('.facts').textContent()).toMatch(
        new RegExp(`^([\\d,]+) / \\1 events .*took .* · generation ${generation} → ${generation + 1}$`),
      );
      // It moved while it ran: a partial percentage, a rate and an ETA were on screen, and the row said so.
      const partial = [...seen.percents].filter((p) => /^\d+%$/.test(p) && p !== '100%');
      expect(partial.length).toBeGreaterThan(0);
      expect([...seen.facts].some((f) => /events\/s · ETA /.test(f))).toBe(true);
      // After the switch, the grace period before the old generation goes is a countdown, not an ETA.
      const draining = [...seen.facts].filter((f) => / live · dropping generation \d+ /.test(f));
      expect(draining.some((f) => /dropping generation \d+ in [\d.]+ s/.test(f))).toBe(true);
      expect(draining.some((f) => f.includes('ETA'))).toBe(false);
      expect([...seen.statuses].some((s) => s.startsWith('rebuilding'))).toBe(true);

      await expectText(status('orders'), 'running');
      await expectText(row('orders').locator('td').nth(1), String(generation + 1));
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
    }, 90_000);

    it('shows a parked event and replays it', async () => {
      // An order stream that starts with a delivery: the timeline cannot describe it, so it is parked.
      await t.events.append(
        `order-${randomUUID()}`,
        [{ id: randomUUID(), type: 'OrderDelivered', data: {}, metadata: { schemaVersion: 1 } }],
        'no_stream',
      );
      await expectText(row('order_timeline').locator('.parked-count'), '1');
      const replay = page.getByRole('button', { name: 'Replay parked events of order_timeline' });
      expect(await replay.isEnabled()).toBe(true);
      await replay.click();
      await expectText(page.locator('#banner'), 'Replayed 1 parked event of order_timeline');
      await page.getByRole('button', { name: 'Dismiss the message' }).click();
      expect(await page.locator('#banner').isHidden()).toBe(true);
    }, 30_000);

    it('shows what the service refuses as a clear error, and follows the job it names', async () => {
      // Right after a refresh (the next is 2.5 s away), a rebuild starts elsewhere (the CLI, another
      // operator): the page still offers Verify, and the service answers 409 JOB_RUNNING.
      const updated = await page.locator('#updated').textContent();
      await expectChange(page.locator('#updated'), updated);
      const started = await fetch(`${t.url}/admin/projections/carts/rebuild`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}` },
      });
      expect(started.status).toBe(202);
      const { id } = (await started.json()) as { id: string };
      await page.getByRole('button', { name: 'Verify carts' }).click();
      await expectText(
        page.locator('#banner'),
        `Verify of carts failed: rebuild job ${id} of projection carts is still running`,
      );
      await expectText(page.locator('#banner'), '(JOB_RUNNING) — HTTP 409');
      const job = page.locator(`li.job[data-job="${id}"]`);
      await job.waitFor();
      await expectState(job, 'succeeded', 60_000);
      await page.getByRole('button', { name: 'Dismiss the message' }).click();
    }, 90_000);

    it('a refused token (expired, another secret) sends the person back to sign-in with a message', async () => {
      const foreign = new JwtService({ secret: 'another-secret-0123456789abcdef' }).sign({
        sub: 'x',
        roles: ['operator'],
      });
      await page.evaluate(`sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(foreign)})`);
      await page.reload();
      await page.locator('#sign-in').waitFor({ state: 'visible' });
      await expectText(
        page.locator('#sign-in-message'),
        "The service refused the token: The token's signature does not match: it was signed with another secret, or changed since",
      );
      expect(await storedToken()).toBeNull();
    }, 30_000);

    it('signs out', async () => {
      await signIn(operator);
      await row('orders').waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.locator('#sign-in').waitFor({ state: 'visible' });
      await expectText(page.locator('#sign-in-message'), 'Signed out.');
      expect(await page.locator('#projections tbody tr').count()).toBe(0);
      expect(await storedToken()).toBeNull();
    }, 30_000);
  });
}

async function expectText(locator: Locator, text: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = (await locator.textContent())?.trim() ?? null;
    if (last !== null && last.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`expected "${text}" in ${locator.toString()}, saw "${last}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectChange(locator: Locator, from: string | null, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await locator.textContent()) === from) {
    if (Date.now() > deadline) throw new Error(`${locator.toString()} did not change from "${from}"`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function expectState(job: Locator, state: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await job.getAttribute('data-state')) !== state) {
    if (Date.now() > deadline) throw new Error(`the job did not reach ${state} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
