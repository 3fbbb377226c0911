import { openApiRoute, READ_CONTRACTS } from '../../src/operations/read-contracts.js';
import { registeredRoutes } from '../../src/operations/openapi.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Operation = {
  description?: string;
  parameters?: { in: string; name: string }[];
  'x-read-contract'?: Record<string, unknown>;
};

/** Served by the docs themselves (UI, assets, the document): not part of the API. */
const isDocsRoute = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

describe('the read contracts of the running service', () => {
  let t: TestApp;
  let paths: Record<string, Record<string, Operation>>;

  beforeAll(async () => {
    t = await startTestApp({ FRESHNESS_BUDGETS: 'order_search=7000', READ_WAIT_MS: '1500' });
    paths = (await t.http.get('/docs/json').expect(200)).body.paths;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Every GET route the app really serves (from Fastify's route hook), docs aside. */
  function getRoutes(): string[] {
    const routes = registeredRoutes(t.app.getHttpAdapter().getInstance());
    return [
      ...new Set(routes.filter((r) => r.method === 'GET' && !isDocsRoute(r.url)).map((r) => `GET ${r.url}`)),
    ];
  }

  it('every GET route has an entry (a route added later fails here until it says its contract)', () => {
    const routes = getRoutes();
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((route) => !(route in READ_CONTRACTS))).toEqual([]);
    // And no entry for a route the app does not serve.
    expect(Object.keys(READ_CONTRACTS).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('the OpenAPI document gives every GET operation its contract, with the budgets and wait in force', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries(paths)) {
      if (item.get && !item.get['x-read-contract']) missing.push(`GET ${path}`);
    }
    expect(missing).toEqual([]);
    for (const item of Object.values(paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method !== 'get') expect(op['x-read-contract']).toBeUndefined();
      }
    }
    expect(paths[openApiRoute('/orders')]!.get!['x-read-contract']).toEqual({
      pattern: 'bulk',
      source: 'the `order_search` read model',
      readModel: 'order_search',
      freshnessBudgetMs: 7000,
      defaultStaleness: 'unbounded; normally ≤ 7 s (the budget of `order_search`)',
      clientBound: ['Cache-Control: max-stale=<seconds>', 'maxStaleMs'],
      maxWaitMs: 0,
      pastBound: expect.stringContaining('503 READ_MODEL_TOO_STALE'),
    });
    const cart = paths['/carts/{id}']!.get!;
    expect(cart['x-read-contract']).toMatchObject({ pattern: 'cached', readModel: 'carts', maxWaitMs: 1500 });
    expect(cart.description).toContain('Read contract: cached, from the `carts` read model');
    expect(paths['/audit/events']!.get!['x-read-contract']).toMatchObject({ pattern: 'consistent' });
    // The bounded reads declare the request directive they honour; the others do not.
    for (const [path, item] of Object.entries(paths)) {
      const get = item.get;
      if (!get) continue;
      const header = get.parameters?.find((p) => p.in === 'header' && p.name === 'Cache-Control');
      const bounded = (get['x-read-contract']?.clientBound as string[] | undefined)?.length ?? 0;
      expect({ path, header: header !== undefined }).toEqual({ path, header: bounded > 0 });
    }
  });
});
