import { ConfigError, loadConfig } from '../../src/config/app-config.js';
import { PROJECTIONS } from '../../src/projections.js';
import {
  FreshnessMonitor,
  percentile,
  resolveFreshnessBudgets,
  WINDOW_MS,
  WINDOW_SAMPLES,
} from '../../src/read-side/runtime/freshness.js';
import {
  ageSeconds,
  ReadModelTooStaleError,
  stalenessAt,
} from '../../src/shared/application/freshness-read.js';
import { toProblem } from '../../src/shared/http/problem-mapper.js';
import { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET } from '../support/secrets.js';

const secrets = { AUTH_JWT_SECRET: TEST_JWT_SECRET, PAYMENT_WEBHOOK_SECRET: TEST_PAYMENT_WEBHOOK_SECRET };

describe('freshness budgets', () => {
  it('each projection declares one: 1 s for what a shopper reads after a write, 5 s for lists and histories', () => {
    expect(Object.fromEntries(PROJECTIONS.map((p) => [p.name, p.freshnessBudgetMs]))).toEqual({
      carts: 1000,
      orders: 1000,
      products: 1000,
      order_search: 5000,
      order_timeline: 5000,
    });
  });

  it('FRESHNESS_BUDGETS overrides some of them, by name', () => {
    const config = loadConfig({ ...secrets, FRESHNESS_BUDGETS: ' carts=250 , order_search=30000' });
    expect(config.readSide.freshnessBudgets).toEqual({ carts: 250, order_search: 30000 });
    const budgets = resolveFreshnessBudgets(PROJECTIONS, config.readSide.freshnessBudgets);
    expect(Object.fromEntries(budgets)).toEqual({
      carts: 250,
      orders: 1000,
      products: 1000,
      order_search: 30000,
      order_timeline: 5000,
    });
    expect(loadConfig(secrets).readSide.freshnessBudgets).toEqual({});
    expect(loadConfig({ ...secrets, FRESHNESS_BUDGETS: '' }).readSide.freshnessBudgets).toEqual({});
  });

  it.each([
    ['carts', /FRESHNESS_BUDGETS="carts": FRESHNESS_BUDGETS must be <projection>=<milliseconds> pairs/],
    ['carts=1s', /FRESHNESS_BUDGETS="carts=1s"/],
    ['carts=100;orders=100', /FRESHNESS_BUDGETS="carts=100;orders=100"/],
    ['Carts=100', /FRESHNESS_BUDGETS="Carts=100"/],
    ['carts=0', /FRESHNESS_BUDGETS: carts=0: a budget is 1 to 3600000 milliseconds/],
    ['carts=3600001', /FRESHNESS_BUDGETS: carts=3600001: a budget is 1 to 3600000 milliseconds/],
    ['carts=100,carts=200', /FRESHNESS_BUDGETS: carts is given twice/],
  ])('FRESHNESS_BUDGETS=%s stops the start, naming the variable', (value, message) => {
    expect(() => loadConfig({ ...secrets, FRESHNESS_BUDGETS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...secrets, FRESHNESS_BUDGETS: value })).toThrow(message);
  });

  it('a name that is no projection’s is a configuration error listing the projections', () => {
    const overrides = loadConfig({ ...secrets, FRESHNESS_BUDGETS: 'cart=100,constructor=5' }).readSide
      .freshnessBudgets;
    let error: unknown;
    try {
      resolveFreshnessBudgets(PROJECTIONS, overrides);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'FRESHNESS_BUDGETS: cart is not a projection (the projections: carts, orders, order_search, order_timeline, products)',
      'FRESHNESS_BUDGETS: constructor is not a projection (the projections: carts, orders, order_search, order_timeline, products)',
    ]);
  });
});

describe('FreshnessMonitor', () => {
  const budgets = new Map([
    ['carts', 100],
    ['orders', 1000],
  ]);

  it('percentiles by nearest rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 99)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it('measures from each event’s append to its application, counts what is over budget, tells its listeners', () => {
    let now = 1_000_000;
    const monitor = new FreshnessMonitor(budgets, () => now);
    const heard: [string, number, number][] = [];
    monitor.onApplied((projection, ms, budget) => heard.push([projection, ms, budget]));
    expect(monitor.summary('carts')).toEqual({
      budgetMs: 100,
      p50Ms: null,
      p99Ms: null,
      samples: 0,
      windowSeconds: WINDOW_MS / 1000,
      overBudget: 0,
    });
    // Applied at `now`: 5, 50, 100 (at the budget: not over) and 250 ms after their appends; a store clock
    // ahead of ours counts as 0.
    monitor.applied('carts', now, [now - 5, now - 50, now - 100, now - 250, now + 30]);
    monitor.applied('orders', now, [now - 2000]);
    expect(heard).toEqual([
      ['carts', 5, 100],
      ['carts', 50, 100],
      ['carts', 100, 100],
      ['carts', 250, 100],
      ['carts', 0, 100],
      ['orders', 2000, 1000],
    ]);
    expect(monitor.summary('carts')).toMatchObject({ p50Ms: 50, p99Ms: 250, samples: 5, overBudget: 1 });
    expect(monitor.summary('orders')).toMatchObject({ p50Ms: 2000, p99Ms: 2000, overBudget: 1 });
    // Unknown names are neither measured nor summarised.
    monitor.applied('nope', now, [now - 1]);
    expect(monitor.summary('nope')).toBeNull();
    expect(heard).toHaveLength(6);

    // The window forgets what is older than WINDOW_MS; the over-budget count is since the start.
    now += WINDOW_MS + 1;
    expect(monitor.summary('carts')).toMatchObject({ p50Ms: null, p99Ms: null, samples: 0, overBudget: 1 });
  });

  it('keeps at most WINDOW_SAMPLES applications per projection', () => {
    const now = 5_000_000;
    const monitor = new FreshnessMonitor(budgets, () => now);
    // 10 slow ones, then a full window of fast ones: the slow ones are gone.
    monitor.applied(
      'orders',
      now,
      Array.from({ length: 10 }, () => now - 900),
    );
    monitor.applied(
      'orders',
      now,
      Array.from({ length: WINDOW_SAMPLES }, () => now - 1),
    );
    expect(monitor.summary('orders')).toMatchObject({ samples: WINDOW_SAMPLES, p99Ms: 1 });
  });
});

describe('staleness arithmetic', () => {
  it('0 when nothing is missing; since the first missing append otherwise; never negative', () => {
    expect(stalenessAt(10_000, null)).toBe(0);
    expect(stalenessAt(10_000, 7_500)).toBe(2_500);
    expect(stalenessAt(10_000, 12_000)).toBe(0);
  });

  it('Age is whole seconds, rounded down', () => {
    expect([0, 999, 1000, 1999, 61_500].map(ageSeconds)).toEqual([0, 0, 1, 1, 61]);
  });

  it('a list too stale is a 503 with its figures, Retry-After its budget in whole seconds, and no error log', () => {
    const { body, unexpected } = toProblem(new ReadModelTooStaleError('order_search', 7300, 2000, 5000));
    expect(unexpected).toBe(false);
    expect(body).toMatchObject({
      status: 503,
      code: 'READ_MODEL_TOO_STALE',
      readModel: 'order_search',
      staleness: 7300,
      maxStale: 2000,
      retryAfter: 5,
      detail: 'order_search is 7300 ms stale, more than the 2000 ms the request accepts (max-stale)',
    });
    expect(new ReadModelTooStaleError('carts', 2, 1, 1).details.retryAfter).toBe(1);
    expect(new ReadModelTooStaleError('carts', 2, 1, 1500).details.retryAfter).toBe(2);
  });
});
