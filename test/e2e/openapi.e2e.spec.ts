import { registeredRoutes } from '../../src/operations/openapi.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Operation = {
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

/** Fastify's `/carts/:id/items` → OpenAPI's `/carts/{id}/items`. */
const openApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');
/** Served by the docs themselves (UI, assets, the document): not part of the API. */
const isDocsRoute = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

describe('OpenAPI at /docs', () => {
  let t: TestApp;
  let doc: Document;
  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.http.get('/docs/json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.body as Document;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Every route the app really serves, from Fastify's route hook (HEAD twins of GETs aside). */
  function apiRoutes(): { method: string; url: string }[] {
    const routes = registeredRoutes(t.app.getHttpAdapter().getInstance());
    expect(routes.length).toBeGreaterThan(20);
    return routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !isDocsRoute(r.url));
  }

  it('documents every route the app registers (routes added later fail here until documented)', () => {
    const missing = apiRoutes()
      .filter((r) => !doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()])
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    // And nothing in the document that the app does not serve.
    const served = new Set(apiRoutes().map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    const phantom = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => !served.has(`${method} ${path}`))
        .map((method) => `${method} ${path}`),
    );
    expect(phantom).toEqual([]);
  });

  it('every operation says what it does (summary) and what it answers (a schema or a description)', () => {
    // Nest lists every controller route in the document by itself; this is what "documented" adds to it.
    const undocumented: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const success = Object.values(
          Object.fromEntries(Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status))),
        );
        const answers =
          success.length > 0 && success.every((r) => r.content !== undefined || r.description.trim() !== '');
        if (!op.summary?.trim() || !answers) undocumented.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('declares the bearer scheme, and each route’s security is what the app enforces', async () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const wrong: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const url = path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
        const res = await t.http[method as 'get' | 'post' | 'patch' | 'delete'](url);
        const needsToken = res.status === 401;
        const documented = JSON.stringify(op.security);
        const signed = documented === '[{"paymentSignature":[]}]';
        if (documented !== (needsToken ? (signed ? documented : '[{"bearer":[]}]') : '[]')) {
          wrong.push(
            `${method.toUpperCase()} ${path}: documents ${documented}, anonymous gets ${res.status}`,
          );
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(doc.paths['/health/ready']!.get!.security).toEqual([]);
    expect(doc.paths['/carts/{id}/items']!.post!.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/webhooks/payments']!.post!.security).toEqual([{ paymentSignature: [] }]);
    expect(doc.components.securitySchemes.paymentSignature).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Payment-Signature',
    });
  });

  it('documents the problem+json error answers, the DTO schemas and the headers', () => {
    const add = doc.paths['/carts/{id}/items']!.post!;
    for (const status of ['400', '401', '403', '404', '409', '412', '422', '429', '503']) {
      expect(add.responses[status]?.content?.['application/problem+json']?.schema).toEqual({
        $ref: '#/components/schemas/Problem',
      });
    }
    expect(add.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/MutationResultDto',
    });
    expect(add.requestBody!.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/AddItemDto',
    });
    const headers = add.parameters!.filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['Idempotency-Key', 'If-Match', 'X-Correlation-Id']));

    // The shop sets names and prices: a client sends only sku and quantity.
    expect(doc.components.schemas.AddItemDto).toMatchObject({
      required: ['sku', 'quantity'],
      properties: {
        quantity: { type: 'integer', minimum: 1, maximum: 999 },
        sku: { type: 'string', pattern: expect.any(String) },
      },
    });
    for (const field of ['name', 'unitPrice']) {
      expect(doc.components.schemas.AddItemDto).not.toHaveProperty(['properties', field]);
    }
    expect(
      doc.paths['/carts/{id}/reprice']!.post!.responses['200']!.content!['application/json']!.schema,
    ).toEqual({
      $ref: '#/components/schemas/MutationResultDto',
    });
    expect(doc.components.schemas.Problem).toMatchObject({ required: expect.arrayContaining(['code']) });
    expect(doc.paths['/carts/{id}']!.get!.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/CartReadDto',
    });
    const list = doc.paths['/orders']!.get!;
    expect(list.parameters!.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
      expect.arrayContaining(['status', 'from', 'to', 'sku', 'sort', 'limit', 'cursor']),
    );
    // Health is anonymous and has no problem answers of the auth kind.
    expect(doc.paths['/health/ready']!.get!.responses['401']).toBeUndefined();
    expect(doc.paths['/health/ready']!.get!.responses['503']).toBeDefined();
  });

  it('serves Swagger UI at /docs (its page and assets, nothing else)', async () => {
    const page = await t.http.get('/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui-bundle.js');
    await t.http
      .get('/docs/swagger-ui-bundle.js')
      .expect(200)
      .expect('content-type', /javascript/);
    await t.http.get('/docs/swagger-ui.css').expect(200).expect('content-type', /css/);
    const init = await t.http.get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain("'/docs/json'");
    await t.http
      .get('/docs/package.json')
      .expect(404)
      .expect('content-type', /problem\+json/);
    await t.http.get('/docs/..%2F..%2Fpackage.json').expect(404);
  });
});
