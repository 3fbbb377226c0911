import { registeredRoutes } from '../../src/operations/openapi.js';
import { ITEM_NAME_PATTERN, MAX_ITEM_NAME_LENGTH } from '../../src/shared/domain/index.js';
import { IDEMPOTENCY_KEY } from '../../src/shared/http/command-context.decorator.js';
import { MAX_JSON_DEPTH } from '../../src/shared/http/json-body.js';
import { INSTANT_PATTERN } from '../../src/shared/http/read-response.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON Schema, read loosely
type Schema = Record<string, any>;
type Parameter = {
  in: string;
  name: string;
  required?: boolean;
  style?: string;
  explode?: boolean;
  schema?: Schema;
};
type Operation = {
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  info: { description: string };
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, Schema> };
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

  /** Every operation, with its method and path. */
  function operations(): { method: string; path: string; op: Operation }[] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ method, path, op })),
    );
  }
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? doc.components.schemas[String(schema.$ref).split('/').pop()!]! : schema;

  it('states the statuses any request may get: 400, 414, 431, 500 and 503 everywhere; 413/415 with a body; 405 in words', () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations()) {
      const statuses = ['400', '414', '431', '500', '503'];
      if (['post', 'put', 'patch', 'delete'].includes(method)) statuses.push('413', '415');
      if (JSON.stringify(op.security) !== '[]') statuses.push('401');
      for (const status of statuses) {
        if (!op.responses[status]) missing.push(`${method.toUpperCase()} ${path}: ${status}`);
      }
    }
    expect(missing).toEqual([]);
    expect(doc.info.description).toContain('405 METHOD_NOT_ALLOWED');
    expect(doc.info.description).toContain(`${MAX_JSON_DEPTH} levels`);
    expect(doc.info.description).toContain('FORBIDDEN_JSON_KEY');
  });

  it('states the header rules the server enforces, and none it does not', () => {
    for (const { op } of operations()) {
      const header = (name: string) => op.parameters?.find((p) => p.in === 'header' && p.name === name);
      // Any X-Correlation-Id is taken (an invalid one is replaced, never refused): no pattern to break.
      expect(header('X-Correlation-Id')?.schema).toEqual({ type: 'string' });
      const key = header('Idempotency-Key');
      if (key) expect(key.schema?.pattern).toBe(IDEMPOTENCY_KEY.source);
      const ifMatch = header('If-Match');
      if (ifMatch) {
        const pattern = new RegExp(String(ifMatch.schema?.pattern));
        expect(['*', '"0"', '"123456789012345678"'].every((v) => pattern.test(v))).toBe(true);
        expect(['', '0', 'W/"1"', '"1", "2"', '"1234567890123456789"'].some((v) => pattern.test(v))).toBe(
          false,
        );
      }
    }
  });

  it('states the query rules: non-empty cursors, 15-digit revisions, calendar-exact instants', () => {
    const queries = operations().flatMap(({ method, path, op }) =>
      (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ where: `${method} ${path}`, p })),
    );
    for (const { p } of queries.filter(({ p }) => p.name === 'cursor')) {
      expect(new RegExp(String(p.schema?.pattern)).test('')).toBe(false);
    }
    const revisions = queries.filter(({ p }) => ['minRevision', 'afterPosition'].includes(p.name));
    expect(revisions.length).toBeGreaterThan(0);
    for (const { where, p } of queries.filter(
      ({ where, p }) => p.name === 'from' && where.includes('/audit/streams'),
    )) {
      expect({ where, schema: p.schema }).toMatchObject({
        schema: { type: 'integer', maximum: 999_999_999_999_999 },
      });
    }
    for (const { p } of queries.filter(
      ({ p }) => ['from', 'to'].includes(p.name) && p.schema?.type === 'string',
    )) {
      expect(p.schema?.pattern).toBe(INSTANT_PATTERN.source);
    }
    expect(INSTANT_PATTERN.test('2028-02-29')).toBe(true);
    expect(INSTANT_PATTERN.test('2026-02-29')).toBe(false);
    expect(INSTANT_PATTERN.test('2026-05-02T16:03+02:00')).toBe(true);
  });

  it('states that atRevision/asOf and from/fromAsOf (to/toAsOf) exclude each other', () => {
    for (const kind of ['/carts/{id}', '/orders/{id}', '/catalog/products/{sku}']) {
      const state = doc.paths[`${kind}/state`]!.get!.parameters!.filter((p) => p.in === 'query');
      expect(state).toEqual([
        expect.objectContaining({
          name: 'point',
          required: true,
          style: 'form',
          explode: true,
          schema: expect.objectContaining({
            minProperties: 1,
            maxProperties: 1,
            additionalProperties: false,
          }),
        }),
      ]);
      expect(Object.keys(state[0]!.schema!.properties)).toEqual(['atRevision', 'asOf']);
      const diff = doc.paths[`${kind}/diff`]!.get!.parameters!.filter((p) => p.in === 'query');
      expect(
        diff.map((p) => [
          p.name,
          p.required,
          p.schema?.maxProperties,
          Object.keys(p.schema?.properties ?? {}),
        ]),
      ).toEqual([
        ['fromPoint', true, 1, ['from', 'fromAsOf']],
        ['toPoint', false, 1, ['to', 'toAsOf']],
      ]);
    }
  });

  it('refuses unknown body fields in the document where the server does: everywhere but the payment webhook', () => {
    const open: string[] = [];
    for (const { method, path, op } of operations()) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!schema) continue;
      const closed = resolve(schema).additionalProperties === false;
      if (path === '/webhooks/payments' ? closed : !closed) open.push(`${method.toUpperCase()} ${path}`);
    }
    expect(open).toEqual([]);
    // A body whose fields are all optional may be left out (the server takes it as {}).
    expect(doc.paths['/admin/projections/{name}/verify']!.post!.requestBody!.required).toBe(false);
    expect(doc.paths['/carts']!.post!.requestBody!.required).not.toBe(false);
  });

  it('states the name rule of the domain: its pattern and its length in code points', () => {
    expect(doc.components.schemas.ListProductDto!.properties.name).toMatchObject({
      pattern: ITEM_NAME_PATTERN.source,
      minLength: 1,
      maxLength: MAX_ITEM_NAME_LENGTH,
    });
  });

  it('gives every path parameter a pattern or a length (longer segments are 414)', () => {
    const loose: string[] = [];
    for (const { method, path, op } of operations()) {
      for (const p of (op.parameters ?? []).filter((q) => q.in === 'path')) {
        if (!p.schema?.pattern && !p.schema?.maxLength) loose.push(`${method} ${path} ${p.name}`);
      }
    }
    expect(loose).toEqual([]);
  });
});
