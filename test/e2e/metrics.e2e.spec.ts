import { randomUUID } from 'node:crypto';
import { addItem, ensureProduct, openCart } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const METRICS_TOKEN = 'scraper-token-0123456789abcdef-0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses the Prometheus text format (enough of it: one sample per line, quoted label values). */
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

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describe('GET /metrics', () => {
  let t: TestApp;
  let operator: string;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN });
    operator = t.bearer('op-1', 'operator');
  });
  afterAll(async () => {
    await t.close();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await t.http.get('/metrics').set('authorization', operator).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parse(res.text);
  }

  it('counts commands by outcome, appends, replays and HTTP requests by route pattern', async () => {
    const shopper = t.bearer(`c-${randomUUID()}`, 'shopper');
    for (const sku of ['a', 'b', 'c', 'd', 'e']) await ensureProduct(t, sku, 100);
    const before = await scrape();
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'a' });
    await addItem(t, shopper, cartId, { sku: 'b' });
    // A retry with the same key: replayed, nothing appended.
    for (let i = 0; i < 2; i++) {
      await t.http
        .post(`/carts/${cartId}/items`)
        .set('authorization', shopper)
        .set('idempotency-key', 'retry-1')
        .send({ sku: 'c', quantity: 1 })
        .expect(200);
    }
    // A stale If-Match (412) and a business rule (409 after abandoning).
    await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .set('if-match', '"0"')
      .send({ sku: 'd', quantity: 1 })
      .expect(412);
    await t.http.post(`/carts/${cartId}/abandon`).set('authorization', shopper).send({}).expect(200);
    await t.http
      .post(`/carts/${cartId}/items`)
      .set('authorization', shopper)
      .send({ sku: 'e', quantity: 1 })
      .expect(409);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>): number =>
      (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    const commands = (command: string, outcome: string): number =>
      delta('ordertrail_command_duration_seconds_count', { command, outcome });

    expect(commands('OpenCart', 'ok')).toBe(1);
    expect(commands('AddItem', 'ok')).toBe(3);
    expect(commands('AddItem', 'replayed')).toBe(1);
    expect(commands('AddItem', 'rejected_412')).toBe(1);
    expect(commands('AddItem', 'rejected_409')).toBe(1);
    expect(commands('AbandonCart', 'ok')).toBe(1);
    expect(delta('ordertrail_appends_total', { category: 'cart' })).toBe(5);
    expect(delta('ordertrail_events_appended_total', { category: 'cart' })).toBe(5);
    expect(delta('ordertrail_idempotent_replays_total', { command: 'AddItem' })).toBe(1);
    expect(delta('ordertrail_command_rejections_total', { command: 'AddItem', code: 'CART_CLOSED' })).toBe(1);
    expect(
      delta('ordertrail_command_rejections_total', { command: 'AddItem', code: 'REVISION_MISMATCH' }),
    ).toBe(1);
    // The histogram has its buckets, cumulative up to +Inf = count.
    const bucket = (le: string): number | undefined =>
      value(after, 'ordertrail_command_duration_seconds_bucket', { command: 'AddItem', outcome: 'ok', le });
    expect(bucket('+Inf')).toBe(
      value(after, 'ordertrail_command_duration_seconds_count', { command: 'AddItem', outcome: 'ok' }),
    );
    expect(bucket('0.0005')).toBeLessThanOrEqual(bucket('10')!);

    const http = (method: string, route: string, status: string): number =>
      delta('ordertrail_http_request_duration_seconds_count', { method, route, status });
    expect(http('POST', '/carts', '201')).toBe(1);
    expect(http('POST', '/carts/:id/items', '200')).toBe(4);
    expect(http('POST', '/carts/:id/items', '412')).toBe(1);
    expect(http('POST', '/carts/:id/items', '409')).toBe(1);
  });

  it('has no high-cardinality label values: no ids, no raw URLs, unmatched routes folded', async () => {
    const shopper = t.bearer(`c-${randomUUID()}`, 'shopper');
    const cartId = await openCart(t, shopper);
    await t.http.get(`/carts/${cartId}`).set('authorization', shopper).expect(200);
    await t.http.get(`/no/such/${randomUUID()}`).expect(404);
    const res = await t.http.get('/metrics').set('authorization', operator).expect(200);
    expect(res.text).not.toContain(cartId);
    const samples = parse(res.text);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => UUID.test(v))).toEqual([]);
    const routes = new Set(
      samples.filter((s) => s.name.startsWith('ordertrail_http_')).map((s) => s.labels.route),
    );
    expect(routes).toContain('/carts/:id');
    expect(routes).toContain('(unmatched)');
    for (const route of routes) expect(route === '(unmatched)' || route!.startsWith('/')).toBe(true);
  });

  it('exposes Node process metrics and the projections (lag, throughput, parked, health)', async () => {
    const samples = await scrape();
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'ordertrail_projection_lag_events',
      'ordertrail_projection_lag_seconds',
      'ordertrail_projection_parked_events',
      'ordertrail_projection_healthy',
      'ordertrail_projection_status',
      'ordertrail_projection_events_applied_total',
    ]) {
      expect(names).toContain(name);
    }
    expect(value(samples, 'ordertrail_projection_healthy', { projection: 'carts' })).toBe(1);
    expect(value(samples, 'ordertrail_projection_status', { projection: 'carts', status: 'running' })).toBe(
      1,
    );
    // Throughput: the carts projection has applied the carts opened above.
    const deadline = Date.now() + 5000;
    let applied = 0;
    while (Date.now() < deadline) {
      applied =
        value(await scrape(), 'ordertrail_projection_events_applied_total', { projection: 'carts' }) ?? 0;
      if (applied > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(applied).toBeGreaterThan(0);
  });

  describe('access', () => {
    const cases: [string, number, () => string | undefined][] = [
      ['the operator role', 200, () => t.bearer('op-2', 'operator')],
      ['METRICS_TOKEN', 200, () => `Bearer ${METRICS_TOKEN}`],
      ['a shopper', 403, () => t.bearer('c-1', 'shopper')],
      ['an auditor', 403, () => t.bearer('a-1', 'auditor')],
      ['another static token', 401, () => `Bearer ${METRICS_TOKEN}x`],
      ['METRICS_TOKEN without Bearer', 401, () => METRICS_TOKEN],
      ['no token', 401, () => undefined],
    ];
    it.each(cases)('%s → %i', async (_who, status, auth) => {
      const req = t.http.get('/metrics');
      const header = auth();
      const res = header === undefined ? await req : await req.set('authorization', header);
      expect(res.status).toBe(status);
      if (status !== 200) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts operators only: no static token works when none is configured', async () => {
    await t.http.get('/metrics').set('authorization', t.bearer('op', 'operator')).expect(200);
    await t.http.get('/metrics').set('authorization', 'Bearer ').expect(401);
    await t.http.get('/metrics').set('authorization', 'Bearer null').expect(401);
  });
});
