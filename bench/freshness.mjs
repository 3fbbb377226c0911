/**
 * Freshness per projection, as the service measures it (docs/consistency.md#freshness-budgets), for the
 * freshness and recovery parts of `npm run bench`.
 *
 * Add-item commands feed only `carts`: `sideTraffic` adds a trickle of checkouts (a cart opened, an item added,
 * checked out: `orders`, `order_search` and `order_timeline` get the order's events) and price changes
 * (`products`), so that every projection applies events while it is measured.
 *
 * Two readings of the same measurements, because neither alone covers a run: the `/metrics` histogram
 * (`ordertrail_projection_freshness_seconds`) counts every application since the service started, so the
 * difference of two scrapes is exactly the run — but its percentiles are only as fine as its buckets; the
 * window of `GET /admin/projections` has exact percentiles, but of the last 2,048 applications only (at a
 * thousand adds per second, the carts window is the last two seconds of the run).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** The sku the side traffic reprices, and the ones its checkouts buy: listed by the caller before the run. */
export const SIDE_PRODUCTS = [
  { sku: 'side-reprice', name: 'Repriced by the bench', unitPrice: 500 },
  ...Array.from({ length: 4 }, (_, n) => ({ sku: `side-${n}`, name: `Side item ${n}`, unitPrice: 200 + n })),
];

/**
 * Paced loops next to the main load: `checkoutsPerSecond` checkouts (POST /carts, POST /carts/:id/items, POST
 * /carts/:id/checkout) and `repricesPerSecond` price changes of `side-reprice`. A failed request is counted,
 * not thrown: the recovery part runs them through a read-store outage. `onAppended(category, events)` hears
 * of the events each acknowledged request appended. `stop()` resolves with the counts.
 */
export function sideTraffic({
  service,
  call,
  operatorToken,
  checkoutsPerSecond = 2,
  repricesPerSecond = 1,
  onAppended = () => {},
}) {
  const counts = { checkouts: 0, reprices: 0, failed: 0, failureSamples: [] };
  let stopped = false;
  const fail = (what, response) => {
    counts.failed++;
    if (counts.failureSamples.length < 3)
      counts.failureSamples.push(`${what}: ${response.status} ${response.text.slice(0, 200)}`);
  };
  const paced = async (perSecond, step) => {
    if (perSecond <= 0) return;
    const interval = 1000 / perSecond;
    let next = performance.now();
    for (let i = 0; !stopped; i++) {
      try {
        await step(i);
      } catch (error) {
        counts.failed++;
        if (counts.failureSamples.length < 3) counts.failureSamples.push(String(error?.message ?? error));
      }
      next += interval;
      // Behind schedule (a slow answer): carry on from now rather than firing a burst to catch up.
      next = Math.max(next, performance.now());
      await sleep(next - performance.now());
    }
  };
  const checkouts = paced(checkoutsPerSecond, async (i) => {
    const opened = await call(service, 'POST', '/carts', { currency: 'EUR' });
    if (opened.status !== 201) return fail('POST /carts', opened);
    onAppended('cart', 1);
    const cart = opened.json.id;
    const sku = SIDE_PRODUCTS[1 + (i % (SIDE_PRODUCTS.length - 1))].sku;
    const added = await call(service, 'POST', `/carts/${cart}/items`, { sku, quantity: 1 });
    if (added.status !== 200) return fail('add-item', added);
    onAppended('cart', 1);
    const checkedOut = await call(service, 'POST', `/carts/${cart}/checkout`);
    if (checkedOut.status !== 200) return fail('checkout', checkedOut);
    // CartCheckedOut, and the order it places (OrderPlaced) — once placed: the answer says whether it is yet.
    onAppended('cart', 1);
    if (checkedOut.json?.orderPlaced) onAppended('order', 1);
    counts.checkouts++;
  });
  const reprices = paced(repricesPerSecond, async (i) => {
    const body = { prices: { EUR: 500 + (i % 100) } };
    const changed = await call(service, 'PATCH', '/catalog/products/side-reprice/price', body, operatorToken);
    if (changed.status !== 200) return fail('reprice', changed);
    onAppended('product', 1);
    counts.reprices++;
  });
  return {
    counts,
    async stop() {
      stopped = true;
      await Promise.all([checkouts, reprices]);
      return counts;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reading what the service measured

/** `GET /admin/projections`: the projections (not the process managers), by name. */
export async function projectionStatus(service, call, operatorToken) {
  const { status, json, text } = await call(service, 'GET', '/admin/projections', undefined, operatorToken);
  if (status !== 200) throw new Error(`GET /admin/projections answered ${status}: ${text.slice(0, 300)}`);
  return new Map(json.items.filter((p) => p.kind === 'projection').map((p) => [p.name, p]));
}

const SAMPLE =
  /^(ordertrail_projection_freshness_(?:seconds_bucket|seconds_count|over_budget_total))\{([^}]*)\} (\S+)$/;

/**
 * The freshness histogram and over-budget counter of `/metrics`, by projection: `{buckets: [[le, cumulative
 * count]], count, overBudget}` (le in seconds, ascending, the last Infinity).
 */
export async function freshnessMetrics(service, call, operatorToken) {
  const { status, text } = await call(service, 'GET', '/metrics', undefined, operatorToken);
  if (status !== 200) throw new Error(`GET /metrics answered ${status}: ${text.slice(0, 300)}`);
  const byProjection = new Map();
  const entry = (name) => {
    if (!byProjection.has(name)) byProjection.set(name, { buckets: [], count: 0, overBudget: 0 });
    return byProjection.get(name);
  };
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const value = Number(match[3]);
    const target = entry(labels.projection);
    if (match[1].endsWith('_bucket'))
      target.buckets.push([labels.le === '+Inf' ? Infinity : Number(labels.le), value]);
    else if (match[1].endsWith('_count')) target.count = value;
    else target.overBudget = value;
  }
  for (const target of byProjection.values()) target.buckets.sort((a, b) => a[0] - b[0]);
  return byProjection;
}

/**
 * The q-quantile (0..1) of the observations between two scrapes of one histogram, in ms, interpolated linearly
 * inside its bucket as Prometheus' histogram_quantile does; `{ms, above}` with `above: true` when it falls in
 * the +Inf bucket (then `ms` is the last finite bound). NaN for no observation.
 */
export function histogramQuantile(before, after, q) {
  const buckets = after.buckets.map(([le, n], i) => [le, n - (before?.buckets[i]?.[1] ?? 0)]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return { ms: NaN, above: false };
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return { ms: lower * 1000, above: true };
      const inBucket = cumulative - below;
      const fraction = inBucket > 0 ? (rank - below) / inBucket : 1;
      return { ms: (lower + (le - lower) * fraction) * 1000, above: false };
    }
    lower = le;
    below = cumulative;
  }
  return { ms: lower * 1000, above: true };
}

/** Scrapes both readings at once. */
export async function freshnessSnapshot(service, call, operatorToken) {
  const [status, metrics] = await Promise.all([
    projectionStatus(service, call, operatorToken),
    freshnessMetrics(service, call, operatorToken),
  ]);
  return { status, metrics };
}

/** One row per projection: what it applied between the two snapshots, and how fresh. */
export function freshnessRows(before, after) {
  const rows = [];
  for (const [name, status] of after.status) {
    const now = after.metrics.get(name);
    const then = before.metrics.get(name);
    if (!now || !status.freshness) continue;
    rows.push({
      projection: name,
      budgetMs: status.freshness.budgetMs,
      applied: now.count - (then?.count ?? 0),
      p50: histogramQuantile(then, now, 0.5),
      p99: histogramQuantile(then, now, 0.99),
      overBudget: now.overBudget - (then?.overBudget ?? 0),
      window: status.freshness,
    });
  }
  return rows;
}

const ms = (value) => {
  if (!Number.isFinite(value)) return '—';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
};
const quantile = ({ ms: value, above }) => (above ? `> ${ms(value)}` : ms(value));

export function freshnessRowsTable(rows) {
  const out = [
    '| projection | budget ms | events applied in the run | p50 ms | p99 ms | over budget | admin window: samples, p50 / p99 ms | p99 within budget |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const within = r.applied === 0 ? '—' : !r.p99.above && r.p99.ms <= r.budgetMs ? '✓' : '✗';
    out.push(
      `| ${r.projection} | ${r.budgetMs} | ${r.applied} | ${quantile(r.p50)} | ${quantile(r.p99)} | ${r.overBudget} | ` +
        `${r.window.samples}, ${ms(r.window.p50Ms ?? NaN)} / ${ms(r.window.p99Ms ?? NaN)} | ${within} |`,
    );
  }
  return out.join('\n');
}

export const FRESHNESS_ROWS_NOTE =
  "Freshness = append (the event's `created` time) → written in the read model, measured by the service for every event a live projection applies. " +
  'p50/p99 and over budget: the difference of two `/metrics` scrapes around the run (`ordertrail_projection_freshness_seconds`, percentiles interpolated inside its buckets as `histogram_quantile` does; ' +
  'buckets 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5 s…); ' +
  'admin window: `freshness` of `GET /admin/projections` at the end, exact percentiles of the last ≤ 2,048 applications of the last 5 min (for a busy projection only the end of the run; for a quiet one also what it applied before it, e.g. the catalog listing).';
