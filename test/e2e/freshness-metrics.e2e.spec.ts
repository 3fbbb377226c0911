import { openCart, placeOrder } from '../support/cart-fixtures.js';
import { eventually } from '../support/eventually.js';
import { readStoreEnvs } from '../support/read-store-env.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text format, enough of it: one sample per line, quoted label values. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

/**
 * Freshness budgets and the freshness measured, as `/metrics`, `GET /admin/projections` and the admin's
 * numbers show them: every event a live projection applies is observed (append → applied), over budget
 * counted; a rebuild's applications are not. The budgets are set by FRESHNESS_BUDGETS so that a paused
 * projection is surely over its budget (carts: 50 ms) and another surely within it (orders: an hour).
 */
describe.each(readStoreEnvs())('freshness budgets and measurements (%s)', (_name, env) => {
  let t: TestApp;
  let operator: string;
  let shopper: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...env(),
      FRESHNESS_BUDGETS: 'carts=50,orders=3600000',
      PROJECTION_HEARTBEAT_MS: '100',
      REBUILD_DROP_GRACE_MS: '100',
    });
    operator = t.bearer('op', 'operator');
    shopper = t.bearer('shopper-1', 'shopper');
  });
  afterAll(async () => {
    await t.close();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await t.http.get('/metrics').set('authorization', operator).expect(200);
    return parse(res.text);
  }
  const count = (samples: Sample[], projection: string) =>
    value(samples, 'ordertrail_projection_freshness_seconds_count', { projection }) ?? 0;
  const sum = (samples: Sample[], projection: string) =>
    value(samples, 'ordertrail_projection_freshness_seconds_sum', { projection }) ?? 0;
  const over = (samples: Sample[], projection: string) =>
    value(samples, 'ordertrail_projection_freshness_over_budget_total', { projection });

  it('exports every projection’s budget, and its over-budget counter from the start', async () => {
    const samples = await scrape();
    const budgets = Object.fromEntries(
      samples
        .filter((s) => s.name === 'ordertrail_projection_freshness_budget_seconds')
        .map((s) => [s.labels.projection, s.value]),
    );
    expect(budgets).toEqual({
      carts: 0.05,
      orders: 3600,
      order_search: 5,
      order_timeline: 5,
      products: 1,
    });
    for (const projection of Object.keys(budgets)) expect(over(samples, projection)).toBeDefined();
    // The histogram's buckets include the default budgets, so that le="1" and le="5" count what was within.
    const buckets = samples
      .filter(
        (s) =>
          s.name === 'ordertrail_projection_freshness_seconds_bucket' && s.labels.projection === 'orders',
      )
      .map((s) => s.labels.le);
    expect(buckets).toEqual(expect.arrayContaining(['1', '5', '+Inf']));
  });

  it('observes each applied event: a paused projection’s late applications are over budget, a timely one’s are not', async () => {
    const before = await scrape();
    await t.http.post('/admin/projections/carts/pause').set('authorization', operator).expect(200);
    let cartId: string;
    try {
      cartId = await openCart(t, shopper);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await t.http.post('/admin/projections/carts/resume').set('authorization', operator).expect(200);
    }
    const read = await t.http.get(`/carts/${cartId}?minRevision=0`).set('authorization', shopper).expect(200);
    expect(read.body.meta.source).toBe('read-store');
    // The order's events are applied by `orders` as they come (its budget is an hour).
    const { orderId } = await placeOrder(t, shopper);
    await t.http.get(`/orders/${orderId}?minRevision=0`).set('authorization', shopper).expect(200);

    const after = await eventually(scrape, (s) => count(s, 'orders') > count(before, 'orders'));
    // The cart's one event, applied at least 300 ms after its append (the checkout's events come later).
    expect(count(after, 'carts')).toBeGreaterThan(count(before, 'carts'));
    expect(sum(after, 'carts') - sum(before, 'carts')).toBeGreaterThanOrEqual(0.3);
    expect(over(after, 'carts')! - over(before, 'carts')!).toBeGreaterThanOrEqual(1);
    expect(count(after, 'orders')).toBeGreaterThan(count(before, 'orders'));
    expect(over(after, 'orders')).toBe(0);

    // GET /admin/projections: p50/p99 of this instance's recent applications and the budget.
    const carts = await t.http.get('/admin/projections/carts').set('authorization', operator).expect(200);
    expect(carts.body.freshness).toMatchObject({ budgetMs: 50, windowSeconds: 300 });
    expect(carts.body.freshness.samples).toBeGreaterThanOrEqual(1);
    expect(carts.body.freshness.p99Ms).toBeGreaterThanOrEqual(300);
    expect(carts.body.freshness.p50Ms).toBeLessThanOrEqual(carts.body.freshness.p99Ms);
    expect(carts.body.freshness.overBudget).toBeGreaterThanOrEqual(1);
    const list = await t.http.get('/admin/projections').set('authorization', operator).expect(200);
    const byName = Object.fromEntries(
      (list.body.items as { name: string; freshness: unknown }[]).map((p) => [p.name, p.freshness]),
    );
    expect(byName.orders).toMatchObject({ budgetMs: 3_600_000, overBudget: 0 });
    expect(byName['place-order-on-checkout']).toBeNull();
  });

  it('a rebuild’s applications are not freshness: the histogram does not move', async () => {
    const before = await scrape();
    const started = await t.http
      .post('/admin/projections/carts/rebuild')
      .set('authorization', operator)
      .expect(202);
    const done = await eventually(
      () => t.http.get(`/admin/jobs/${started.body.id}`).set('authorization', operator),
      (res) => res.body.state !== 'running',
      20_000,
    );
    expect(done.body).toMatchObject({ state: 'succeeded' });
    expect(done.body.eventsDone).toBeGreaterThan(0);
    const after = await scrape();
    expect(count(after, 'carts')).toBe(count(before, 'carts'));
    expect(over(after, 'carts')).toBe(over(before, 'carts'));
  }, 30_000);
});
